package w2w

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestWriteProvenance: the written metadata names the input and its SHA-256 (as sha256sum
// computes it over the whole file), the method and the rank; an edit adds its direction file
// and α.
func TestWriteProvenance(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	in := filepath.Join(dir, "diffusers_sd15_rank4_pokemon.safetensors")
	red, err := ReduceFile(context.Background(), in, nil)
	require.NoError(t, err)
	out := t.TempDir()
	dirFile := filepath.Join(out, "dir.safetensors")
	require.NoError(t, os.WriteFile(dirFile, []byte("direction bytes"), 0o644))
	p := filepath.Join(out, "edited.safetensors")
	require.NoError(t, WriteRank1LoRA(p, red, &WriteOptions{Direction: dirFile, Alpha: -2.5}))
	f, err := safetensors.Open(p)
	require.NoError(t, err)
	defer f.Close()
	md := f.Metadata
	// sha256 of the shared file, as SOURCES.md records it.
	assert.Equal(t, "diffusers_sd15_rank4_pokemon.safetensors", md[MetaSource])
	assert.Equal(t, "6ed2674d12c4c57089ea3fe9beeed003552e99e970a8e273005f9def6189e83d", md[MetaSourceSHA256])
	assert.Equal(t, "edit", md[MetaMethod])
	assert.Equal(t, "1", md[MetaRank])
	assert.Equal(t, "diffusers", md[MetaSourceConvention])
	assert.Equal(t, "dir.safetensors", md[MetaDirection])
	// printf 'direction bytes' | sha256sum
	assert.Equal(t, "b0f2458b7e35d0bb6fde288d3a4ad922366c5f369d29ed75cc29653f5bda4dfb", md[MetaDirectionSHA256])
	assert.Equal(t, "-2.5", md[MetaEditAlpha])
	assert.Len(t, md[MetaModelHash], 64)
}

// TestWritePEFT: -format peft writes diffusers' names, the same module paths a diffusers PEFT
// file of the shared data holds, and an adapter_config.json beside; it reads back to the same
// modules.
func TestWritePEFT(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	in := filepath.Join(dir, "diffusers_sd15_unetprefix_rank4_timohavdk.safetensors")
	l, err := LoadLoRA(in)
	require.NoError(t, err)
	for _, m := range l.Modules {
		p, err := peftModulePath(m.Name)
		require.NoError(t, err)
		assert.Equal(t, m.Source, p, "the input's own diffusers path")
	}
	lk, err := LoadLoRA(filepath.Join(dir, "lycoris_lokr_smart_falcon_4.safetensors"))
	require.NoError(t, err)
	want := map[string]string{
		"lora_te_text_model_encoder_layers_0_mlp_fc1":                           "text_encoder.text_model.encoder.layers.0.mlp.fc1",
		"lora_te_text_model_encoder_layers_11_self_attn_out_proj":               "text_encoder.text_model.encoder.layers.11.self_attn.out_proj",
		"lora_unet_down_blocks_0_resnets_0_conv1":                               "unet.down_blocks.0.resnets.0.conv1",
		"lora_unet_down_blocks_0_resnets_0_time_emb_proj":                       "unet.down_blocks.0.resnets.0.time_emb_proj",
		"lora_unet_down_blocks_0_downsamplers_0_conv":                           "unet.down_blocks.0.downsamplers.0.conv",
		"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_0_proj": "unet.up_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj",
		"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0":  "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0",
		"lora_unet_up_blocks_3_attentions_2_proj_out":                           "unet.up_blocks.3.attentions.2.proj_out",
		"lora_unet_up_blocks_1_resnets_0_conv_shortcut":                         "unet.up_blocks.1.resnets.0.conv_shortcut",
	}
	for k, v := range want {
		_, ok := lk.Module(k)
		require.True(t, ok, k)
		p, err := peftModulePath(k)
		require.NoError(t, err)
		assert.Equal(t, v, p)
	}
	_, err = peftModulePath("lora_unet_input_blocks_4_1_proj_in")
	assert.ErrorIs(t, err, ErrUnsupported)

	red, err := Reduce(context.Background(), lk, nil)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "pytorch_lora_weights.safetensors")
	require.NoError(t, WriteRank1LoRA(out, red, &WriteOptions{Format: PEFT}))
	b, err := os.ReadFile(filepath.Join(filepath.Dir(out), "adapter_config.json"))
	require.NoError(t, err)
	var cfg struct {
		R       int      `json:"r"`
		Alpha   float64  `json:"lora_alpha"`
		Type    string   `json:"peft_type"`
		Targets []string `json:"target_modules"`
	}
	require.NoError(t, json.Unmarshal(b, &cfg))
	assert.Equal(t, 1, cfg.R)
	assert.Equal(t, 1.0, cfg.Alpha)
	assert.Equal(t, "LORA", cfg.Type)
	assert.Contains(t, cfg.Targets, "down_blocks.0.resnets.0.conv1")
	f, err := safetensors.Open(out)
	require.NoError(t, err)
	defer f.Close()
	conv, ok := f.Info("unet.down_blocks.0.resnets.0.conv1.lora_A.weight")
	require.True(t, ok)
	assert.Equal(t, []int{1, 320, 3, 3}, conv.Shape)
	up, ok := f.Info("unet.down_blocks.0.resnets.0.conv1.lora_B.weight")
	require.True(t, ok)
	assert.Equal(t, []int{320, 1, 1, 1}, up.Shape)
	assert.Len(t, f.Tensors, 2*len(red.Modules), "no alpha tensors")
	back, err := LoadLoRA(out)
	require.NoError(t, err)
	assert.Equal(t, PEFT, back.Convention)
	require.Len(t, back.Modules, len(red.Modules))
	for i, m := range back.Modules {
		assert.Equal(t, red.Modules[i].Name, m.Name)
		assert.InDelta(t, 1, m.Scale(), 0)
	}
	// The configuration beside an input is never replaced.
	err = WriteRank1LoRA(filepath.Join(filepath.Dir(out), "again.safetensors"), &Reduced{Path: out, Family: red.Family, Modules: red.Modules}, &WriteOptions{Format: PEFT})
	assert.ErrorIs(t, err, ErrOverwritesInput)
}

// TestSDXLDiffusersNamesMapToSGM: the diffusers names of SDXL's attention modules map to
// exactly the module set of a real kohya SDXL LoRA (the Alien Style manifest, SGM names).
func TestSDXLDiffusersNamesMapToSGM(t *testing.T) {
	b, err := os.ReadFile(shareddata.Path(t, "lora", "invokeai_stripped_manifests", "alien_style_sdxl_kohya.manifest.json"))
	require.NoError(t, err)
	var man map[string]any
	require.NoError(t, json.Unmarshal(b, &man))
	want := map[string]bool{}
	for k := range man {
		if m, _, ok := strings.Cut(k, "."); ok && strings.HasPrefix(m, "lora_unet_") {
			want[m] = true
		}
	}
	got := map[string]bool{}
	attn := func(block string, depth int) {
		for _, p := range []string{"proj_in", "proj_out"} {
			s, ok := sdxlSGMName("lora_unet_" + block + "_" + p)
			require.True(t, ok, block)
			got[s] = true
		}
		for d := 0; d < depth; d++ {
			for _, l := range []string{"attn1_to_q", "attn1_to_k", "attn1_to_v", "attn1_to_out_0", "attn2_to_q", "attn2_to_k", "attn2_to_v", "attn2_to_out_0", "ff_net_0_proj", "ff_net_2"} {
				s, ok := sdxlSGMName(fmt.Sprintf("lora_unet_%s_transformer_blocks_%d_%s", block, d, l))
				require.True(t, ok)
				got[s] = true
			}
		}
	}
	for a := 0; a < 2; a++ {
		attn(fmt.Sprintf("down_blocks_1_attentions_%d", a), 2)
		attn(fmt.Sprintf("down_blocks_2_attentions_%d", a), 10)
	}
	for a := 0; a < 3; a++ {
		attn(fmt.Sprintf("up_blocks_0_attentions_%d", a), 10)
		attn(fmt.Sprintf("up_blocks_1_attentions_%d", a), 2)
	}
	attn("mid_block_attentions_0", 10)
	assert.Equal(t, want, got)

	for in, out := range map[string]string{
		"lora_unet_down_blocks_0_resnets_1_conv1":         "lora_unet_input_blocks_2_0_in_layers_2",
		"lora_unet_down_blocks_1_resnets_0_conv_shortcut": "lora_unet_input_blocks_4_0_skip_connection",
		"lora_unet_down_blocks_1_downsamplers_0_conv":     "lora_unet_input_blocks_6_0_op",
		"lora_unet_up_blocks_0_upsamplers_0_conv":         "lora_unet_output_blocks_2_2_conv",
		"lora_unet_up_blocks_2_resnets_2_time_emb_proj":   "lora_unet_output_blocks_8_0_emb_layers_1",
		"lora_unet_mid_block_resnets_1_conv2":             "lora_unet_middle_block_2_out_layers_3",
		"lora_unet_conv_in":                               "lora_unet_input_blocks_0_0",
	} {
		s, ok := sdxlSGMName(in)
		assert.True(t, ok, in)
		assert.Equal(t, out, s, in)
	}
	_, ok := sdxlSGMName("lora_unet_input_blocks_4_1_proj_in")
	assert.False(t, ok, "already SGM")

	// A PEFT SDXL file is written with kohya's SGM names and linear proj_in.
	const mod = "unet.down_blocks.1.attentions.0.proj_in"
	down, _ := safetensors.FloatTensor(mod+".lora_A.weight", safetensors.F32, []int{1, 640}, ones(640))
	up, _ := safetensors.FloatTensor(mod+".lora_B.weight", safetensors.F32, []int{640, 1}, ones(640))
	f, err := safetensors.Parse(loraBytes(t, []safetensors.Tensor{down, up}, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}))
	require.NoError(t, err)
	l, err := ParseLoRAFile(f)
	require.NoError(t, err)
	require.Equal(t, SDXL, l.Family)
	assert.Equal(t, "lora_unet_input_blocks_4_1_proj_in", l.Modules[0].Name)
	assert.Nil(t, l.Modules[0].Kernel)
}

// TestLoaderVectors writes each module of testdata/loaders.json from 2-D input factors (as a
// LoKr file stores them) and checks the names and shapes against what ComfyUI,
// AUTOMATIC1111 and sd-scripts expect.
func TestLoaderVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "loaders.json"))
	require.NoError(t, err)
	var vec struct {
		Loaders map[string]map[string]string `json:"loaders"`
		Cases   []struct {
			Family  Family            `json:"family"`
			Module  string            `json:"module"`
			From    string            `json:"from"`
			Out     int               `json:"out"`
			In      int               `json:"in"`
			Kernel  []int             `json:"kernel"`
			Down    []int             `json:"down"`
			Up      []int             `json:"up"`
			Targets map[string]string `json:"targets"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &vec))
	require.Len(t, vec.Loaders, 3)
	require.NotEmpty(t, vec.Cases)
	meta := map[Family]string{SD1: "sd_v1", SDXL: "sdxl_base_v1-0"}
	for _, c := range vec.Cases {
		t.Run(c.Module, func(t *testing.T) {
			src := c.Module
			if c.From != "" {
				src = c.From
			}
			down, err := safetensors.FloatTensor(src+".lora_down.weight", safetensors.F32, []int{1, c.In}, ones(c.In))
			require.NoError(t, err)
			up, err := safetensors.FloatTensor(src+".lora_up.weight", safetensors.F32, []int{c.Out, 1}, ones(c.Out))
			require.NoError(t, err)
			f, err := safetensors.Parse(loraBytes(t, []safetensors.Tensor{down, up}, map[string]string{"ss_base_model_version": meta[c.Family]}))
			require.NoError(t, err)
			l, err := ParseLoRAFile(f)
			require.NoError(t, err)
			require.Equal(t, c.Family, l.Family)
			assert.Equal(t, c.Kernel, l.Modules[0].Kernel)
			red, err := Reduce(context.Background(), l, nil)
			require.NoError(t, err)
			ts, err := Rank1Tensors(red, safetensors.F16)
			require.NoError(t, err)
			got := map[string][]int{}
			for _, tt := range ts {
				got[tt.Name] = tt.Shape
			}
			assert.Equal(t, map[string][]int{c.Module + ".lora_down.weight": c.Down, c.Module + ".lora_up.weight": c.Up, c.Module + ".alpha": {}}, got)
			// sd-scripts names a module lora_<net>_ + its path with dots as underscores.
			prefix := "lora_unet_"
			if strings.HasPrefix(c.Module, "lora_te") {
				prefix = c.Module[:strings.Index(c.Module, "_text_model")+1]
			}
			assert.Equal(t, c.Module, prefix+strings.ReplaceAll(c.Targets["sd-scripts"], ".", "_"))
		})
	}
}
