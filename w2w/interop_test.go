package w2w

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reduceAndWrite reduces a real LoRA and writes it as a rank-1 kohya LoRA, returning the
// written file's tensor shapes by name.
func reduceAndWrite(t *testing.T, in string, opts *WriteOptions) (map[string][]int, *safetensors.File) {
	t.Helper()
	red, err := ReduceFile(context.Background(), in, nil)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "out.safetensors")
	require.NoError(t, WriteRank1LoRA(p, red, opts))
	f, err := safetensors.Open(p)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	shapes := map[string][]int{}
	for _, ti := range f.Tensors {
		shapes[ti.Name] = ti.Shape
	}
	return shapes, f
}

// TestLoKrInputWritesBaseShapes: a LyCORIS LoKr file stores SD1.x's convolutions as 2-D
// Kronecker factors (the kernel folded into the columns). The rank-1 output used to copy that:
// proj_in down [1, 320] and up [320, 1], resnet conv1 down [1, 2880], which kohya's loader
// refuses (192 size mismatches). It now writes the base layer's 4-D shapes, as kohya's own
// SD1.5 LoRAs hold them (the shinkai manifest: proj_in [128, 320, 1, 1]).
func TestLoKrInputWritesBaseShapes(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	shapes, _ := reduceAndWrite(t, filepath.Join(dir, "lycoris_lokr_smart_falcon_4.safetensors"), nil)
	const p = "lora_unet_down_blocks_0_attentions_0_"
	assert.Equal(t, []int{1, 320, 1, 1}, shapes[p+"proj_in.lora_down.weight"])
	assert.Equal(t, []int{320, 1, 1, 1}, shapes[p+"proj_in.lora_up.weight"])
	assert.Equal(t, []int{1, 320, 1, 1}, shapes[p+"proj_out.lora_down.weight"])
	assert.Equal(t, []int{1, 320, 3, 3}, shapes["lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"])
	assert.Equal(t, []int{320, 1, 1, 1}, shapes["lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight"])
	assert.Equal(t, []int{1, 320}, shapes[p+"transformer_blocks_0_attn1_to_q.lora_down.weight"])
	assert.Equal(t, []int{}, shapes[p+"proj_in.alpha"])
	fourD := 0
	for _, s := range shapes {
		if len(s) == 4 {
			fourD++
		}
	}
	assert.Equal(t, 192, fourD, "the 96 convolutions, up and down")

	// Every module kohya's own SD1.5 file also has takes the same number of dimensions and
	// the same non-rank sizes.
	b, err := os.ReadFile(shareddata.Path(t, "lora", "invokeai_stripped_manifests", "shinkai_makoto_offset_sd15_kohya.manifest.json"))
	require.NoError(t, err)
	var man map[string]struct {
		Shape []int `json:"shape"`
	}
	require.NoError(t, json.Unmarshal(b, &man))
	common := 0
	for k, e := range man {
		got, ok := shapes[k]
		if !ok || strings.HasSuffix(k, ".alpha") {
			continue
		}
		common++
		require.Len(t, got, len(e.Shape), k)
		want := append([]int(nil), e.Shape...)
		if strings.HasSuffix(k, ".lora_down.weight") {
			want[0] = 1
		} else {
			want[1] = 1
		}
		assert.Equal(t, want, got, k)
	}
	assert.Greater(t, common, 300)
}

// TestCloneOfSimoOutputKeys: the rank-1 output of a cloneofsimo file used to keep the input's
// index names (text_encoder:0:down, unet:0:up), which no loader maps. The indices are now
// mapped through the SD1.x table and the output holds kohya names only.
func TestCloneOfSimoOutputKeys(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	for _, name := range []string{"cloneofsimo_lora_disney.safetensors", "cloneofsimo_analog_svd_rank4.safetensors", "cloneofsimo_lora_disney_inpainting.safetensors"} {
		t.Run(name, func(t *testing.T) {
			l, err := LoadLoRA(filepath.Join(dir, name))
			require.NoError(t, err)
			assert.NotContains(t, l.Naming, "w2w:", "mapped: %s", l.Naming)
			shapes, _ := reduceAndWrite(t, filepath.Join(dir, name), nil)
			assert.Len(t, shapes, 3*192)
			for k := range shapes {
				assert.NotContains(t, k, ":", k)
				assert.Regexp(t, `^lora_(unet|te)_[a-z0-9_]+\.(lora_down\.weight|lora_up\.weight|alpha)$`, k)
			}
			assert.Equal(t, []int{1, 768}, shapes["lora_te_text_model_encoder_layers_11_self_attn_out_proj.lora_down.weight"])
			assert.Equal(t, []int{1, 768}, shapes["lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_k.lora_down.weight"])
			assert.Equal(t, []int{2560, 1}, shapes["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj.lora_up.weight"])
			assert.Equal(t, []int{1, 1280}, shapes["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"])
		})
	}
}

// cloneTensors builds a cloneofsimo file of the given UNet shapes (rank 1).
func cloneTensors(t *testing.T, shapes [][2]int) []safetensors.Tensor {
	var ts []safetensors.Tensor
	for i, s := range shapes {
		up, err := safetensors.FloatTensor("unet:"+itoa(i)+":up", safetensors.F32, []int{s[0], 1}, ones(s[0]))
		require.NoError(t, err)
		down, err := safetensors.FloatTensor("unet:"+itoa(i)+":down", safetensors.F32, []int{1, s[1]}, ones(s[1]))
		require.NoError(t, err)
		ts = append(ts, up, down)
	}
	// One text-encoder module decides the family (CLIP ViT-L: SD1.x).
	te := cloneTextOrder(12, 768)
	for i := range te {
		up, _ := safetensors.FloatTensor("text_encoder:"+itoa(i)+":up", safetensors.F32, []int{768, 1}, ones(768))
		down, _ := safetensors.FloatTensor("text_encoder:"+itoa(i)+":down", safetensors.F32, []int{1, 768}, ones(768))
		ts = append(ts, up, down)
	}
	return ts
}

func itoa(i int) string { return strconv.Itoa(i) }

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// TestCloneOfSimoOrders: both index orders diffusers produced are recognised by their shapes,
// and a file that fits neither (or targets other classes) reduces but is not written.
func TestCloneOfSimoOrders(t *testing.T) {
	orders := cloneUNetOrders(sdUNet[SD1])
	require.Len(t, orders, 2)
	for oi, order := range orders {
		var shapes [][2]int
		for _, bl := range order {
			shapes = append(shapes, [2]int{bl.out, bl.in})
		}
		f, err := safetensors.Parse(loraBytes(t, cloneTensors(t, shapes), nil))
		require.NoError(t, err)
		l, err := ParseLoRAFile(f)
		require.NoError(t, err)
		assert.Contains(t, l.Naming, "unet indices in order "+itoa(oi+1))
		m, ok := l.Module(order[4].name)
		require.True(t, ok, order[4].name)
		assert.Equal(t, order[4].out, m.Out)
	}

	// 143 modules: no order fits.
	var shapes [][2]int
	for _, bl := range orders[0][:143] {
		shapes = append(shapes, [2]int{bl.out, bl.in})
	}
	for _, meta := range []map[string]string{nil, {"unet": `["ResnetBlock2D"]`}} {
		ts := cloneTensors(t, shapes)
		if meta != nil {
			ts = cloneTensors(t, append(shapes, [2]int{orders[0][143].out, orders[0][143].in}))
		}
		f, err := safetensors.Parse(loraBytes(t, ts, meta))
		require.NoError(t, err)
		l, err := ParseLoRAFile(f)
		require.NoError(t, err)
		assert.Contains(t, l.Naming, ErrUnmappedModule.Error())
		red, err := Reduce(context.Background(), l, nil)
		require.NoError(t, err)
		p := filepath.Join(t.TempDir(), "out.safetensors")
		err = WriteRank1LoRA(p, red, nil)
		assert.ErrorIs(t, err, ErrUnmappedModule)
		assert.NoFileExists(t, p)
	}
}

// TestSDXLProjStaysLinear: SDXL's proj_in/proj_out are linear layers; a file that stores them
// as 1×1 convolutions is written 2-D, and kohya's SGM convolutions get their kernels.
func TestSDXLProjStaysLinear(t *testing.T) {
	k, known := baseKernel(SDXL, "lora_unet_input_blocks_4_1_proj_in")
	assert.True(t, known)
	assert.Nil(t, k)
	k, _ = baseKernel(SD1, "lora_unet_down_blocks_1_attentions_0_proj_out")
	assert.Equal(t, []int{1, 1}, k)
	k, _ = baseKernel(SD2, "lora_unet_down_blocks_1_attentions_0_proj_out")
	assert.Nil(t, k)
	k, _ = baseKernel(SDXL, "lora_unet_input_blocks_4_0_in_layers_2")
	assert.Equal(t, []int{3, 3}, k)
	k, _ = baseKernel(SDXL, "lora_unet_input_blocks_4_0_skip_connection")
	assert.Equal(t, []int{1, 1}, k)
	_, known = baseKernel(Flux, "lora_transformer_single_transformer_blocks_0_proj_out")
	assert.False(t, known)

	const mod = "lora_unet_input_blocks_4_1_proj_in"
	down, _ := safetensors.FloatTensor(mod+".lora_down.weight", safetensors.F32, []int{1, 640, 1, 1}, ones(640))
	up, _ := safetensors.FloatTensor(mod+".lora_up.weight", safetensors.F32, []int{640, 1, 1, 1}, ones(640))
	f, err := safetensors.Parse(loraBytes(t, []safetensors.Tensor{down, up}, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}))
	require.NoError(t, err)
	l, err := ParseLoRAFile(f)
	require.NoError(t, err)
	require.Equal(t, SDXL, l.Family)
	assert.Nil(t, l.Modules[0].Kernel)
	red, err := Reduce(context.Background(), l, nil)
	require.NoError(t, err)
	ts, err := Rank1Tensors(red, safetensors.F32)
	require.NoError(t, err)
	for _, tt := range ts {
		if strings.HasSuffix(tt.Name, ".lora_down.weight") {
			assert.Equal(t, []int{1, 640}, tt.Shape)
		}
	}
}
