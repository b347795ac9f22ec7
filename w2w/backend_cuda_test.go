//go:build cuda

package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/cuda"
	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// These tests need an NVIDIA GPU (the cuda tag makes gorgonia.org/cu initialise the driver
// at start-up). The CPU backend is the reference: parity is 1e-4 relative.

func randScaled(rng *rand.Rand, rows, cols, rank int, scale float64) ScaledFactor {
	f := ScaledFactor{Factor: Factor{Rows: rows, Cols: cols, Rank: rank,
		A: make([]float32, rows*rank), B: make([]float32, rank*cols)}, Scale: scale}
	for i := range f.A {
		f.A[i] = float32(rng.NormFloat64())
	}
	for i := range f.B {
		f.B[i] = float32(rng.NormFloat64() / math.Sqrt(float64(cols)))
	}
	return f
}

func TestCUDABackendIsDefault(t *testing.T) {
	require.NoError(t, cuda.Available())
	assert.Equal(t, "cuda", DefaultBackend().Name())
}

func TestCUDATopTripletsMatchCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var in []ScaledFactor
	for _, s := range [][3]int{{320, 320, 4}, {640, 2048, 32}, {10240, 1280, 32}, {1280, 5120, 16}, {77, 33, 1}, {64, 40, 64}, {3, 1000, 8}} {
		in = append(in, randScaled(rng, s[0], s[1], s[2], 1/float64(s[2])), randScaled(rng, s[0], s[1], s[2], -2))
	}
	ctx := context.Background()
	cpu := make([]Triplet, len(in))
	gpu := make([]Triplet, len(in))
	require.NoError(t, CPU{}.TopTriplets(ctx, in, cpu))
	require.NoError(t, CUDA{}.TopTriplets(ctx, in, gpu))
	for i := range in {
		assert.InDelta(t, 1, gpu[i].Sigma/cpu[i].Sigma, 1e-4, "module %d sigma", i)
		assert.InDelta(t, 1, gpu[i].Energy/cpu[i].Energy, 1e-4, "module %d energy", i)
		du, dv := dotMixed(gpu[i].U, cpu[i].U), dotMixed(gpu[i].V, cpu[i].V)
		assert.InDelta(t, 1, math.Abs(du), 1e-4, "module %d u", i)
		assert.InDelta(t, du, dv, 1e-4, "module %d: u and v flip together", i)
	}
}

// realLoRAs are the real files of the shared data that reduce: kohya-converted cloneofsimo,
// diffusers (unet-prefixed too, one BF16), PEFT Flux and LyCORIS LoKr.
var realLoRAs = []string{
	"cloneofsimo_analog_svd_rank4.safetensors",
	"cloneofsimo_lora_disney.safetensors",
	"cloneofsimo_lora_disney_inpainting.safetensors",
	"diffusers_sd15_rank4_catundchat.safetensors",
	"diffusers_sd15_rank4_pokemon.safetensors",
	"diffusers_sd15_unetprefix_bf16_vfph55.safetensors",
	"diffusers_sd15_unetprefix_rank4_timohavdk.safetensors",
	"flux_peft_aitoolkit_leighwoods.safetensors",
	"lycoris_lokr_smart_falcon_4.safetensors",
	"lycoris_lokr_smart_falcon_8.safetensors",
	"lycoris_lokr_smart_falcon_16.safetensors",
}

func TestCUDAReduceMatchesCPUOnRealLoRAs(t *testing.T) {
	ctx := context.Background()
	for _, f := range realLoRAs {
		l, err := LoadLoRA(shareddata.Path(t, "lora", f))
		require.NoError(t, err)
		rc, err := Reduce(ctx, l, &ReduceOptions{Backend: CPU{}})
		require.NoError(t, err)
		rg, err := Reduce(ctx, l, &ReduceOptions{Backend: CUDA{}})
		require.NoError(t, err)
		require.Len(t, rg.Modules, len(rc.Modules), f)
		for k, c := range rc.Modules {
			g := rg.Modules[k]
			require.Equal(t, c.Name, g.Name)
			if c.Sigma == 0 {
				assert.Zero(t, g.Sigma, "%s %s", f, c.Name)
				continue
			}
			assert.InDelta(t, 1, g.Sigma/c.Sigma, 1e-4, "%s %s sigma", f, c.Name)
			assert.InDelta(t, 1, g.Energy/c.Energy, 1e-4, "%s %s energy", f, c.Name)
			// A near-degenerate top pair (σ1 ≈ σ2) has no stable singular vectors; compare
			// vectors only where the gap is clear, as any two correct SVDs would agree there.
			if c.Energy-c.Sigma*c.Sigma > 0.9*c.Sigma*c.Sigma {
				continue
			}
			assert.InDelta(t, 1, dotMixed(g.U, c.U), 1e-3, "%s %s u (same canonical sign)", f, c.Name)
			assert.InDelta(t, 1, dotMixed(g.V, c.V), 1e-3, "%s %s v (same canonical sign)", f, c.Name)
		}
	}
}

func TestCUDAReduceFlattenAndPCAMatchCPU(t *testing.T) {
	ctx := context.Background()
	var rs []*Reduced
	for _, f := range []string{"diffusers_sd15_rank4_catundchat.safetensors", "diffusers_sd15_rank4_pokemon.safetensors", "diffusers_sd15_unetprefix_rank4_timohavdk.safetensors"} {
		l, err := LoadLoRA(shareddata.Path(t, "lora", f))
		require.NoError(t, err)
		rc, err := Reduce(ctx, l, &ReduceOptions{Backend: CPU{}})
		require.NoError(t, err)
		rs = append(rs, rc)
	}
	lay, err := NewLayout(ctx, rs, nil)
	require.NoError(t, err)
	want := make([]float32, len(rs)*lay.Dim)
	got := make([]float32, len(rs)*lay.Dim)
	mc, err := CPU{}.Flatten(ctx, lay, rs, want)
	require.NoError(t, err)
	mg, err := CUDA{}.Flatten(ctx, lay, rs, got)
	require.NoError(t, err)
	assert.Equal(t, mc, mg)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-5+1e-4*math.Abs(float64(want[i])), "coordinate %d", i)
	}

	n, d := len(rs), lay.Dim
	gc, gg := make([]float64, n*n), make([]float64, n*n)
	require.NoError(t, CPU{}.Gram(ctx, want, n, d, gc))
	require.NoError(t, CUDA{}.Gram(ctx, want, n, d, gg))
	for i := range gc {
		assert.InDelta(t, 1, gg[i]/gc[i], 1e-4)
	}
	coef := []float64{0.5, -1.5, 2, 0.25, 1, -0.75}
	cc, cg := make([]float32, 2*d), make([]float32, 2*d)
	require.NoError(t, CPU{}.Combine(ctx, coef, 2, want, n, d, cc))
	require.NoError(t, CUDA{}.Combine(ctx, coef, 2, want, n, d, cg))
	for i := range cc {
		require.InDelta(t, cc[i], cg[i], 1e-5+1e-4*math.Abs(float64(cc[i])))
	}
}

// BenchmarkReduceSDXLBackends reduces the SDXL-shaped rank-32 LoRA of BenchmarkReduceSDXL on
// the CPU and the CUDA backend in one run; LoRAs/s is the figure.
func BenchmarkReduceSDXLBackends(b *testing.B) {
	path := sdxlBenchFile(b)
	l, err := LoadLoRA(path)
	require.NoError(b, err)
	ctx := context.Background()
	for _, be := range []Backend{CPU{}, CUDA{}} {
		b.Run(be.Name(), func(b *testing.B) {
			n := 0
			for b.Loop() {
				if _, err := Reduce(ctx, l, &ReduceOptions{Backend: be}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "LoRAs/s")
		})
	}
}

// BenchmarkCUDAGramPCA times the PCA's dominant step on the GPU: the Gram matrix of N = 2,000
// SD1.5-sized rank-1 vectors (d = 589,824), host to device copy included.
func BenchmarkCUDAGramPCA(b *testing.B) {
	n := benchEnvInt("W2W_BENCH_PCA_N", 2000)
	d := sd15Rank1Dim(b)
	x := make([]float32, n*d)
	s := uint64(12345)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = float32(int32(s>>32)) / (1 << 31)
	}
	g := make([]float64, n*n)
	ctx := context.Background()
	for b.Loop() {
		if err := (CUDA{}).Gram(ctx, x, n, d, g); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("N=%d d=%d", n, d)
}
