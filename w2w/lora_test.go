package w2w

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseRealLoRAs parses every real file of the shared data; the broken ones must fail with
// their named error.
func TestParseRealLoRAs(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	type want struct {
		err     error
		conv    Convention
		family  Family
		modules int
		rank    int
	}
	// The vfph55 file is named sd15 by its source but its cross-attention reads a 1024-wide
	// context: it was trained on SD2.x, and the shapes say so.
	cases := map[string]want{
		"cloneofsimo_analog_svd_rank4.safetensors":                       {conv: CloneOfSimo, family: SD1, modules: 192, rank: 4},
		"cloneofsimo_lora_disney.safetensors":                            {conv: CloneOfSimo, family: SD1, modules: 192, rank: 1},
		"cloneofsimo_lora_disney_inpainting.safetensors":                 {conv: CloneOfSimo, family: SD1, modules: 192, rank: 1},
		"diffusers_sd15_rank4_catundchat.safetensors":                    {conv: Diffusers, family: SD1, modules: 128, rank: 4},
		"diffusers_sd15_rank4_pokemon.safetensors":                       {conv: Diffusers, family: SD1, modules: 128, rank: 4},
		"diffusers_sd15_unetprefix_bf16_vfph55.safetensors":              {conv: Diffusers, family: SD2, modules: 128, rank: 4},
		"diffusers_sd15_unetprefix_rank4_timohavdk.safetensors":          {conv: Diffusers, family: SD1, modules: 128, rank: 4},
		"flux_peft_aitoolkit_leighwoods.safetensors":                     {conv: PEFT, family: Flux, modules: 4, rank: 16},
		"lycoris_lokr_smart_falcon_4.safetensors":                        {conv: Kohya, family: SD1, modules: 350, rank: 4},
		"lycoris_lokr_smart_falcon_8.safetensors":                        {conv: Kohya, family: SD1, modules: 350, rank: 8},
		"lycoris_lokr_smart_falcon_16.safetensors":                       {conv: Kohya, family: SD1, modules: 350, rank: 16},
		"malformed_kohya_conversion_timohavdk_new.safetensors":           {err: ErrMalformedKey},
		"not_lora_textual_inversion_invokeai_test_embedding.safetensors": {err: ErrNotLoRA},
		"truncated_flux_kohya_m000lie.safetensors":                       {err: safetensors.ErrTruncated},
		"peft_distilbert_imdb_tashu014/adapter_model.safetensors":        {conv: PEFT, family: FamilyUnknown, modules: 12, rank: 8},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	sub, _ := filepath.Glob(filepath.Join(dir, "*", "*.safetensors"))
	files = append(files, sub...)
	require.Len(t, files, len(cases), "every real file has an expectation")
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		w, ok := cases[rel]
		require.True(t, ok, rel)
		t.Run(rel, func(t *testing.T) {
			l, err := LoadLoRA(p)
			if w.err != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, w.err)
				assert.Contains(t, err.Error(), p)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, w.conv, l.Convention)
			assert.Equal(t, w.family, l.Family, l.FamilyNote)
			assert.Len(t, l.Modules, w.modules)
			for _, m := range l.Modules {
				assert.Equal(t, w.rank, m.Rank, m.Name)
				assert.Positive(t, m.Out)
				assert.Positive(t, m.In)
			}
		})
	}
}

func TestRealLoRADetails(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	l, err := LoadLoRA(filepath.Join(dir, "diffusers_sd15_rank4_catundchat.safetensors"))
	require.NoError(t, err)
	m, ok := l.Module("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_out_0")
	require.True(t, ok, "legacy processor to_out_lora maps to the kohya to_out_0 name")
	assert.Equal(t, AttnOut, m.Kind)
	assert.Equal(t, 2, m.Attn)
	m, ok = l.Module("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k")
	require.True(t, ok)
	assert.Equal(t, AttnK, m.Kind)
	assert.Equal(t, 768, m.In)
	assert.Equal(t, 320, m.Out)

	fl, err := LoadLoRA(filepath.Join(dir, "flux_peft_aitoolkit_leighwoods.safetensors"))
	require.NoError(t, err)
	assert.Contains(t, fl.FamilyNote, "ss_base_model_version=sd_1.5", "the misleading metadata is noted")
	_, ok = fl.Module("lora_transformer_single_transformer_blocks_12_proj_out")
	assert.True(t, ok)

	pe, err := LoadLoRA(filepath.Join(dir, "peft_distilbert_imdb_tashu014", "adapter_model.safetensors"))
	require.NoError(t, err)
	assert.InDelta(t, 2.0, pe.Modules[0].Scale(), 0, "adapter_config.json: lora_alpha 16 / r 8")
	assert.NotEmpty(t, pe.Extra, "modules_to_save tensors are listed, not parsed")

	lk, err := LoadLoRA(filepath.Join(dir, "lycoris_lokr_smart_falcon_4.safetensors"))
	require.NoError(t, err)
	fc1, ok := lk.Module("lora_te_text_model_encoder_layers_0_mlp_fc1")
	require.True(t, ok)
	assert.Equal(t, FF, fc1.Kind)
	assert.Equal(t, 3072, fc1.Out)
	assert.Equal(t, 768, fc1.In)
	require.NotNil(t, fc1.Kron)

	cl, err := LoadLoRA(filepath.Join(dir, "cloneofsimo_lora_disney.safetensors"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"<s1>", "<s2>"}, cl.Extra)
}

// manifestTensors builds a LoRA from one of the shared key manifests (key → shape of a real
// file whose weights were stripped), with random factors of the given rank instead of the
// file's, keeping the names and the out/in shapes. keep selects modules by source prefix.
func manifestTensors(tb testing.TB, file string, rank int, dt safetensors.DType, keep func(string) bool, rng *rand.Rand) []safetensors.Tensor {
	tb.Helper()
	b, err := os.ReadFile(shareddata.Path(tb, "lora", "invokeai_stripped_manifests", file))
	require.NoError(tb, err)
	var man map[string]struct {
		Shape []int `json:"shape"`
	}
	require.NoError(tb, json.Unmarshal(b, &man))
	var out []safetensors.Tensor
	for name, e := range man {
		prefix, _, part := classifyKey(name)
		if keep != nil && !keep(prefix) {
			continue
		}
		shape := append([]int(nil), e.Shape...)
		switch part {
		case partDown:
			shape[0] = rank
		case partUp:
			shape[1] = rank
		case partAlpha:
			tt, err := safetensors.FloatTensor(name, dt, shape, []float32{float32(rank)})
			require.NoError(tb, err)
			out = append(out, tt)
			continue
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.05)
		}
		tt, err := safetensors.FloatTensor(name, dt, shape, v)
		require.NoError(tb, err)
		out = append(out, tt)
	}
	return out
}

func TestParseManifestLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		file    string
		family  Family
		modules int
		conv    int
	}{
		{"alien_style_sdxl_kohya.manifest.json", SDXL, 2958 / 3, 0},
		{"shinkai_makoto_offset_sd15_kohya.manifest.json", SD1, 792 / 3, 32},
		{"flux_peft_base_model_prefix.manifest.json", Flux, -1, 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ts := manifestTensors(t, c.file, 1, safetensors.F16, nil, rng)
			b, err := safetensors.Encode(ts, nil)
			require.NoError(t, err)
			f, err := safetensors.Parse(b)
			require.NoError(t, err)
			l, err := ParseLoRAFile(f)
			require.NoError(t, err)
			assert.Equal(t, c.family, l.Family, l.FamilyNote)
			if c.modules > 0 {
				assert.Len(t, l.Modules, c.modules)
			}
			conv := 0
			kinds := map[Kind]int{}
			for _, m := range l.Modules {
				if m.Kernel != nil {
					conv++
				}
				kinds[m.Kind]++
			}
			assert.Equal(t, c.conv, conv)
			assert.Positive(t, kinds[AttnV])
			assert.Positive(t, kinds[FF])
		})
	}
}

func loraBytes(t *testing.T, ts []safetensors.Tensor, meta map[string]string) []byte {
	t.Helper()
	b, err := safetensors.Encode(ts, meta)
	require.NoError(t, err)
	return b
}

func TestLoRABadInput(t *testing.T) {
	ft := func(name string, shape []int, v ...float32) safetensors.Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		if len(v) == 0 {
			v = make([]float32, n)
		}
		tt, err := safetensors.FloatTensor(name, safetensors.F32, shape, v)
		require.NoError(t, err)
		return tt
	}
	const mod = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q"
	nan := float32(math.NaN())
	cases := []struct {
		name string
		ts   []safetensors.Tensor
		want error
		in   string
	}{
		{"rank mismatch", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{2, 3}), ft(mod+".lora_up.weight", []int{4, 3})}, ErrRankMismatch, "lora_up"},
		{"nan", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2}, 1, nan), ft(mod+".lora_up.weight", []int{2, 1})}, ErrNonFinite, "lora_down"},
		{"inf alpha", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2}), ft(mod+".lora_up.weight", []int{2, 1}), ft(mod+".alpha", nil, float32(math.Inf(1)))}, ErrNonFinite, "alpha"},
		{"missing up", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2})}, ErrMissingFactor, mod},
		{"malformed", []safetensors.Tensor{ft("lora_unet_x_to_k_lora_down.weight", []int{1, 2})}, ErrMalformedKey, "to_k_lora_down"},
		{"not lora", []safetensors.Tensor{ft("emb_params", []int{2, 2})}, ErrNotLoRA, ""},
		{"dora", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2}), ft(mod+".lora_up.weight", []int{2, 1}), ft(mod+".dora_scale", []int{2, 1})}, ErrUnsupported, "dora"},
		{"loha half", []safetensors.Tensor{ft(mod+".hada_w1_a", []int{2, 2})}, ErrMissingFactor, mod},
		{"loha ranks", []safetensors.Tensor{ft(mod+".hada_w1_a", []int{2, 2}), ft(mod+".hada_w1_b", []int{3, 2}), ft(mod+".hada_w2_a", []int{2, 2}), ft(mod+".hada_w2_b", []int{2, 2})}, ErrRankMismatch, "hada_w1_b"},
		{"loha halves", []safetensors.Tensor{ft(mod+".hada_w1_a", []int{2, 2}), ft(mod+".hada_w1_b", []int{2, 2}), ft(mod+".hada_w2_a", []int{2, 2}), ft(mod+".hada_w2_b", []int{2, 3})}, ErrShapeMismatch, "LoHa halves"},
		{"tucker core", []safetensors.Tensor{ft(mod+".hada_w1_a", []int{2, 4}), ft(mod+".hada_w1_b", []int{2, 3}), ft(mod+".hada_t1", []int{3, 2, 3, 3}), ft(mod+".hada_w2_a", []int{2, 4}), ft(mod+".hada_w2_b", []int{2, 3}), ft(mod+".hada_t2", []int{2, 2, 3, 3})}, ErrRankMismatch, "hada_t1"},
		{"lora_mid", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{2, 4, 1, 1}), ft(mod+".lora_up.weight", []int{5, 2, 1, 1}), ft(mod+".lora_mid.weight", []int{3, 2, 3, 3})}, ErrRankMismatch, "lora_mid"},
		{"mixed dims", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2, 1, 1}), ft(mod+".lora_up.weight", []int{2, 1})}, ErrShapeMismatch, ""},
		{"alpha vector", []safetensors.Tensor{ft(mod+".lora_down.weight", []int{1, 2}), ft(mod+".lora_up.weight", []int{2, 1}), ft(mod+".alpha", []int{2})}, ErrShapeMismatch, "alpha"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := safetensors.Parse(loraBytes(t, c.ts, nil))
			require.NoError(t, err)
			_, err = ParseLoRAFile(f)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), c.in)
			assert.True(t, strings.HasPrefix(err.Error(), "w2w: "))
		})
	}
}
