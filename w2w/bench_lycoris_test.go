package w2w

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/require"
)

// lycorisBenchFiles writes three SDXL-shaped files over the same modules (every attention and
// FF module of the SDXL UNet, shapes from a real SDXL kohya LoRA's manifest), all F16: a plain
// rank-32 LoRA, LoHas of dim 8 (a common choice: ΔW of rank up to 64) and dim 16 (the same
// number of factor elements as the plain file: two halves of rank 16, ΔW of rank up to 256),
// and a LoKr with an 8×8 full w1 (4×4 where 8 does not divide) and a rank-32 factorised w2.
func lycorisBenchFiles(b *testing.B) (plain, loha8, loha16, lokr string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(32, 33))
	ts := manifestTensors(b, "alien_style_sdxl_kohya.manifest.json", 32, safetensors.F16, sdxlAttnFF, rng)
	type dims struct{ out, in int }
	mods := map[string]*dims{}
	for _, t := range ts {
		prefix, _, part := classifyKey(t.Name)
		d := mods[prefix]
		if d == nil {
			d = &dims{}
			mods[prefix] = d
		}
		switch part {
		case partUp:
			d.out = t.Shape[0]
		case partDown:
			d.in = t.Shape[1]
		}
	}
	dir := b.TempDir()
	plain = filepath.Join(dir, "plain_rank32.safetensors")
	require.NoError(b, safetensors.WriteFile(plain, ts, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}))

	rnd := func(name string, shape ...int) safetensors.Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.05)
		}
		t, err := safetensors.FloatTensor(name, safetensors.F16, shape, v)
		require.NoError(b, err)
		return t
	}
	scalar := func(name string, x float32) safetensors.Tensor {
		t, err := safetensors.FloatTensor(name, safetensors.F16, nil, []float32{x})
		require.NoError(b, err)
		return t
	}
	var ha8, ha16, kr []safetensors.Tensor
	for prefix, d := range mods {
		for _, hr := range []int{8, 16} {
			t := []safetensors.Tensor{
				rnd(prefix+".hada_w1_a", d.out, hr), rnd(prefix+".hada_w1_b", hr, d.in),
				rnd(prefix+".hada_w2_a", d.out, hr), rnd(prefix+".hada_w2_b", hr, d.in),
				scalar(prefix+".alpha", float32(hr))}
			if hr == 8 {
				ha8 = append(ha8, t...)
			} else {
				ha16 = append(ha16, t...)
			}
		}
		f := 8
		if d.out%f != 0 || d.in%f != 0 {
			f = 4
		}
		const kr2 = 32
		kr = append(kr,
			rnd(prefix+".lokr_w1", f, f),
			rnd(prefix+".lokr_w2_a", d.out/f, kr2), rnd(prefix+".lokr_w2_b", kr2, d.in/f),
			scalar(prefix+".alpha", kr2))
	}
	meta := map[string]string{"ss_base_model_version": "sdxl_base_v1-0", "ss_network_module": "lycoris.kohya"}
	loha8 = filepath.Join(dir, "loha_dim8.safetensors")
	require.NoError(b, safetensors.WriteFile(loha8, ha8, meta))
	loha16 = filepath.Join(dir, "loha_dim16.safetensors")
	require.NoError(b, safetensors.WriteFile(loha16, ha16, meta))
	lokr = filepath.Join(dir, "lokr_f8_dim32.safetensors")
	require.NoError(b, safetensors.WriteFile(lokr, kr, meta))
	return plain, loha8, loha16, lokr
}

// BenchmarkReduceSDXLLyCORIS compares the rank-1 reduction (ReduceFile: read and reduce) of
// an SDXL LoHa and LoKr with the same modules as a plain LoRA, and with reading the plain
// file alone (LoadLoRA). The goal is at most 2× the plain file's read+reduce.
func BenchmarkReduceSDXLLyCORIS(b *testing.B) {
	plain, loha8, loha16, lokr := lycorisBenchFiles(b)
	ctx := context.Background()
	b.Run("plain-read", func(b *testing.B) {
		for b.Loop() {
			if _, err := LoadLoRA(plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct{ name, path string }{{"plain", plain}, {"loha-dim8", loha8}, {"loha-dim16", loha16}, {"lokr", lokr}} {
		b.Run(c.name+"-reduce", func(b *testing.B) {
			c0 := processCPUSeconds()
			defer func() { b.ReportMetric((processCPUSeconds()-c0)/float64(b.N), "cpu-s/op") }()
			for b.Loop() {
				if _, err := ReduceFile(ctx, c.path, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
