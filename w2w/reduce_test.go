package w2w

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

func randFloats(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// fullSVDTop forms ΔW = s·A·B and returns gonum's full SVD top triplet and ‖ΔW‖²_F.
func fullSVDTop(t *testing.T, sf ScaledFactor) (sigma, energy float64, u, v []float64) {
	t.Helper()
	A := mat.NewDense(sf.Rows, sf.Rank, f64(sf.A))
	B := mat.NewDense(sf.Rank, sf.Cols, f64(sf.B))
	var W mat.Dense
	W.Mul(A, B)
	W.Scale(sf.Scale, &W)
	var svd mat.SVD
	require.True(t, svd.Factorize(&W, mat.SVDThin))
	vals := svd.Values(nil)
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	n := mat.Norm(&W, 2)
	return vals[0], n * n, mat.Col(nil, 0, &U), mat.Col(nil, 0, &V)
}

// relVecErr returns ‖got − s·want‖/‖want‖ with s = ±1 chosen to match signs.
func relVecErr(got []float32, want []float64) float64 {
	d := 0.0
	for i := range want {
		d += float64(got[i]) * want[i]
	}
	s := 1.0
	if d < 0 {
		s = -1
	}
	e, n := 0.0, 0.0
	for i := range want {
		x := float64(got[i]) - s*want[i]
		e += x * x
		n += want[i] * want[i]
	}
	return math.Sqrt(e / n)
}

// TestTopTripletMatchesFullSVD checks the thin-factor route against gonum's full SVD of the
// formed ΔW, on random factors of many shapes and ranks (rank above min(out, in) included).
func TestTopTripletMatchesFullSVD(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	shapes := []struct{ m, n, r int }{
		{1, 1, 1}, {5, 3, 1}, {3, 5, 2}, {64, 48, 4}, {320, 320, 8}, {320, 768, 4}, {40, 360, 16},
		{300, 120, 32}, {8, 6, 12}, {200, 1, 3}, {1, 200, 3}, {96, 288, 64},
	}
	for _, s := range shapes {
		scales := []float64{1, 0.25, -2}
		if s.m*s.n > 20000 {
			scales = scales[2:] // keep the full SVDs of large shapes few under -race
		}
		for _, scale := range scales {
			t.Run(fmt.Sprintf("%dx%d_r%d_s%g", s.m, s.n, s.r, scale), func(t *testing.T) {
				sf := ScaledFactor{Factor: Factor{Rows: s.m, Cols: s.n, Rank: s.r, A: randFloats(rng, s.m*s.r, 0.1), B: randFloats(rng, s.r*s.n, 0.1)}, Scale: scale}
				got, err := topTriplet(sf, goKernels)
				require.NoError(t, err)
				sigma, energy, u, v := fullSVDTop(t, sf)
				assert.InDelta(t, 1, got.Sigma/sigma, 1e-5, "sigma")
				assert.InDelta(t, 1, got.Energy/energy, 1e-5, "energy")
				assert.Less(t, relVecErr(got.U, u), 1e-5, "u")
				assert.Less(t, relVecErr(got.V, v), 1e-5, "v")
				// σ·u·vᵀ reproduces ΔW's top component with the right sign.
				dot := 0.0
				for i := range u {
					dot += float64(got.U[i]) * u[i]
				}
				dv := 0.0
				for i := range v {
					dv += float64(got.V[i]) * v[i]
				}
				assert.Positive(t, dot*dv, "u and v signs agree with the reference pairing")
			})
		}
	}
}

// TestReduceConvAndFile writes a LoRA with linear and conv modules (F16, F32, BF16) to disk,
// reads it back and checks Reduce against the full SVD of ΔW formed the way loaders do.
func TestReduceConvAndFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type spec struct {
		name       string
		down, up   []int
		alpha      float32
		dt         safetensors.DType
		kernelArea int
	}
	specs := []spec{
		{"lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k", []int{8, 96}, []int{64, 8}, 4, safetensors.F32, 0},
		{"lora_unet_down_blocks_1_resnets_0_conv1", []int{4, 32, 3, 3}, []int{48, 4, 1, 1}, 1, safetensors.F32, 9},
		{"lora_unet_down_blocks_0_attentions_0_proj_in", []int{16, 64, 1, 1}, []int{64, 16, 1, 1}, 8, safetensors.F16, 1},
		{"lora_te_text_model_encoder_layers_0_mlp_fc1", []int{6, 80}, []int{120, 6}, 6, safetensors.BF16, 0},
	}
	var ts []safetensors.Tensor
	for _, s := range specs {
		n := func(sh []int) int {
			p := 1
			for _, x := range sh {
				p *= x
			}
			return p
		}
		d, err := safetensors.FloatTensor(s.name+".lora_down.weight", s.dt, s.down, randFloats(rng, n(s.down), 0.2))
		require.NoError(t, err)
		u, err := safetensors.FloatTensor(s.name+".lora_up.weight", s.dt, s.up, randFloats(rng, n(s.up), 0.2))
		require.NoError(t, err)
		a, err := safetensors.FloatTensor(s.name+".alpha", s.dt, nil, []float32{s.alpha})
		require.NoError(t, err)
		ts = append(ts, d, u, a)
	}
	path := filepath.Join(t.TempDir(), "conv.safetensors")
	require.NoError(t, safetensors.WriteFile(path, ts, nil))
	l, err := LoadLoRA(path)
	require.NoError(t, err)
	red, err := Reduce(context.Background(), l, nil)
	require.NoError(t, err)
	for _, s := range specs {
		m, ok := l.Module(s.name)
		require.True(t, ok)
		if s.kernelArea > 0 {
			assert.Equal(t, s.down[1]*s.kernelArea, m.In, "conv kernel folded into In")
			assert.Equal(t, s.down[2:], m.Kernel)
		}
		rm, ok := red.Module(s.name)
		require.True(t, ok)
		sigma, energy, u, v := fullSVDTop(t, ScaledFactor{Factor: Factor{Rows: m.Out, Cols: m.In, Rank: m.Rank, A: m.Up, B: m.Down}, Scale: float64(s.alpha) / float64(s.down[0])})
		assert.InDelta(t, 1, rm.Sigma/sigma, 1e-5, s.name)
		assert.InDelta(t, 1, rm.Energy/energy, 1e-5, s.name)
		assert.Less(t, relVecErr(rm.U, u), 1e-5, s.name)
		assert.Less(t, relVecErr(rm.V, v), 1e-5, s.name)
		assert.InDelta(t, 1-sigma*sigma/energy, rm.Discarded(), 1e-6)
	}
}

// TestReduceLoKr checks the Kronecker route on a real LoKr file against the full SVD of
// kron(W1, W2) for one module.
func TestReduceLoKr(t *testing.T) {
	l, err := LoadLoRA(shareddata.Path(t, "lora", "lycoris_lokr_smart_falcon_4.safetensors"))
	require.NoError(t, err)
	red, err := Reduce(context.Background(), l, nil)
	require.NoError(t, err)
	m, _ := l.Module("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q")
	require.NotNil(t, m)
	require.NotNil(t, m.Kron)
	form := func(f Factor) *mat.Dense {
		var w mat.Dense
		w.Mul(mat.NewDense(f.Rows, f.Rank, f64(f.A)), mat.NewDense(f.Rank, f.Cols, f64(f.B)))
		return &w
	}
	var K mat.Dense
	K.Kronecker(form(m.Kron[0]), form(m.Kron[1]))
	K.Scale(m.Scale(), &K)
	var svd mat.SVD
	require.True(t, svd.Factorize(&K, mat.SVDThin))
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	rm, _ := red.Module(m.Name)
	assert.InDelta(t, 1, rm.Sigma/svd.Values(nil)[0], 1e-5)
	assert.Less(t, relVecErr(rm.U, mat.Col(nil, 0, &U)), 1e-4)
	assert.Less(t, relVecErr(rm.V, mat.Col(nil, 0, &V)), 1e-4)
}

func TestReduceZeroAndCancel(t *testing.T) {
	l := &LoRA{Modules: []Module{{Name: "lora_unet_a", Out: 3, In: 2, Rank: 1, Alpha: 1, Up: make([]float32, 3), Down: []float32{1, 2}}}}
	red, err := Reduce(context.Background(), l, nil)
	require.NoError(t, err)
	assert.Zero(t, red.Modules[0].Sigma)
	assert.Zero(t, red.Modules[0].Discarded())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Reduce(ctx, l, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestTopTripletRankAboveShape checks factors whose rank far exceeds both sides of ΔW (the
// r×r step would cost O(r³); ΔW is formed instead) against the full SVD.
func TestTopTripletRankAboveShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	for _, s := range []struct{ m, n, r int }{{1, 1, 1500}, {3, 2, 2000}, {2, 5, 700}, {40, 9, 300}} {
		sf := ScaledFactor{Factor: Factor{Rows: s.m, Cols: s.n, Rank: s.r, A: randFloats(rng, s.m*s.r, 0.1), B: randFloats(rng, s.r*s.n, 0.1)}, Scale: -0.25}
		for _, k := range []tripletKernels{goKernels, cpuKernels} {
			got, err := topTriplet(sf, k)
			require.NoError(t, err)
			sigma, energy, u, v := fullSVDTop(t, sf)
			name := fmt.Sprintf("%dx%d_r%d", s.m, s.n, s.r)
			assert.InDelta(t, 1, got.Sigma/sigma, 1e-5, name)
			assert.InDelta(t, 1, got.Energy/energy, 1e-5, name)
			assert.Less(t, relVecErr(got.U, u), 1e-5, name)
			assert.Less(t, relVecErr(got.V, v), 1e-5, name)
		}
	}
}

// TestReduceIndependentOfWorkers checks that the reduction is the same bit for bit whatever
// the number of goroutines (each module is reduced by one goroutine in a fixed order).
func TestReduceIndependentOfWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2))
	ts := manifestTensors(t, "alien_style_sdxl_kohya.manifest.json", 8, safetensors.F16, sampleModules(rng, 6), rng)
	p := filepath.Join(t.TempDir(), "w.safetensors")
	require.NoError(t, safetensors.WriteFile(p, ts, nil))
	l, err := LoadLoRA(p)
	require.NoError(t, err)
	ctx := context.Background()
	one, err := Reduce(ctx, l, &ReduceOptions{Backend: CPU{Workers: 1}})
	require.NoError(t, err)
	for _, w := range []int{2, 3, 7} {
		got, err := Reduce(ctx, l, &ReduceOptions{Backend: CPU{Workers: w}})
		require.NoError(t, err)
		assert.Equal(t, one, got, "workers %d", w)
	}
}
