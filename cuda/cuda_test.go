//go:build cuda

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// These tests need an NVIDIA GPU: the cuda build tag makes gorgonia.org/cu initialise the
// driver at start-up, which exits the process when there is none.

func randFactors(rng *rand.Rand, out, in, rank int, scale float64) Factors {
	f := Factors{Out: out, In: in, Rank: rank, Scale: scale, Up: make([]float32, out*rank), Down: make([]float32, rank*in)}
	for i := range f.Up {
		f.Up[i] = float32(rng.NormFloat64())
	}
	for i := range f.Down {
		f.Down[i] = float32(rng.NormFloat64() / math.Sqrt(float64(in)))
	}
	return f
}

// reference forms ΔW and takes its full SVD with gonum.
func reference(f Factors) (sigma, energy float64, u, v []float64) {
	up := mat.NewDense(f.Out, f.Rank, nil)
	for i, x := range f.Up {
		up.Set(i/f.Rank, i%f.Rank, float64(x))
	}
	down := mat.NewDense(f.Rank, f.In, nil)
	for i, x := range f.Down {
		down.Set(i/f.In, i%f.In, float64(x))
	}
	var w mat.Dense
	w.Mul(up, down)
	w.Scale(f.Scale, &w)
	var svd mat.SVD
	if !svd.Factorize(&w, mat.SVDThin) {
		panic("svd failed")
	}
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	s := svd.Values(nil)
	energy = mat.Norm(&w, 2)
	energy *= energy
	return s[0], energy, mat.Col(nil, 0, &U), mat.Col(nil, 0, &V)
}

func TestTopTripletsMatchFullSVD(t *testing.T) {
	require.NoError(t, Available())
	name, _ := DeviceName()
	t.Logf("device: %s", name)
	rng := rand.New(rand.NewPCG(1, 2))
	var in []Factors
	shapes := [][3]int{{320, 320, 4}, {640, 2048, 8}, {1280, 768, 16}, {10240, 1280, 32}, {77, 33, 1}, {320, 2880, 32}, {64, 64, 64}}
	for _, s := range shapes {
		in = append(in, randFactors(rng, s[0], s[1], s[2], 1/float64(s[2])), randFactors(rng, s[0], s[1], s[2], -0.5))
	}
	out := make([]Triplet, len(in))
	require.NoError(t, TopTriplets(context.Background(), in, out))
	for i, f := range in {
		sigma, energy, u, v := reference(f)
		assert.InDelta(t, 1, out[i].Sigma/sigma, 1e-4, "module %d sigma", i)
		assert.InDelta(t, 1, out[i].Energy/energy, 1e-4, "module %d energy", i)
		// (u, v) and (−u, −v) are the same triplet.
		dotU, dotV := 0.0, 0.0
		for k := range u {
			dotU += u[k] * float64(out[i].U[k])
		}
		for k := range v {
			dotV += v[k] * float64(out[i].V[k])
		}
		assert.InDelta(t, 1, math.Abs(dotU), 1e-4, "module %d |<u, u_ref>|", i)
		assert.InDelta(t, dotU, dotV, 1e-4, "module %d u and v signs agree", i)
	}
}

func TestGramAndMulTMatchFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, m, d := 37, 5, 40000
	x := make([]float32, n*d)
	b := make([]float32, m*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	g := make([]float64, n*n)
	require.NoError(t, Gram(context.Background(), x, n, d, g))
	p := make([]float64, n*m)
	require.NoError(t, MulT(context.Background(), x, n, d, b, m, p))
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			for k := 0; k < d; k++ {
				want += float64(x[i*d+k]) * float64(x[j*d+k])
			}
			assert.InDelta(t, want, g[i*n+j], 1e-4*math.Max(1, math.Abs(want))+1e-2)
		}
		for j := 0; j < m; j++ {
			want := 0.0
			for k := 0; k < d; k++ {
				want += float64(x[i*d+k]) * float64(b[j*d+k])
			}
			assert.InDelta(t, want, p[i*m+j], 1e-4*math.Sqrt(float64(d))*4)
		}
	}
}

func TestCombineMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, n, d := 7, 300, 5000
	c := make([]float64, m*n)
	x := make([]float32, n*d)
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	out := make([]float32, m*d)
	require.NoError(t, Combine(context.Background(), c, m, x, n, d, out))
	for i := 0; i < m; i++ {
		for j := 0; j < d; j += 97 {
			want := 0.0
			for k := 0; k < n; k++ {
				want += c[i*n+k] * float64(x[k*d+j])
			}
			assert.InDelta(t, want, float64(out[i*d+j]), 1e-3*math.Sqrt(float64(n)))
		}
	}
}

func TestFlattenAlignsSignsAndPlaces(t *testing.T) {
	trips := []Triplet{
		{Sigma: 4, U: []float32{0, -1}, V: []float32{1, 0, 0}},
		{Sigma: 9, U: []float32{1, 0, 0}, V: []float32{0, 1}},
	}
	place := []Placement{{Vector: 1, Offset: 0, Ref: []float32{0, 1}}, {Vector: 0, Offset: 5, Ref: nil}}
	out := make([]float32, 2*10)
	require.NoError(t, Flatten(context.Background(), trips, place, 2, 10, out))
	// Triplet 0 flips (u·ref < 0): √4·(−u, −v) at vector 1; triplet 1 keeps its sign.
	assert.Equal(t, []float32{0, 0, 0, 0, 0, 3, 0, 0, 0, 3}, out[:10])
	assert.Equal(t, []float32{0, 2, -2, 0, 0, 0, 0, 0, 0, 0}, out[10:])
}

// sdxlShapes are (out, in) of every attention and feed-forward module of the SDXL UNet's 70
// transformer blocks: 700 modules.
func sdxlShapes() [][2]int {
	var shapes [][2]int
	for _, blk := range []struct{ d, n int }{{640, 4}, {1280, 20}, {1280, 10}, {1280, 30}, {640, 6}} {
		for range blk.n {
			shapes = append(shapes, [2]int{blk.d, blk.d}, [2]int{blk.d, blk.d}, [2]int{blk.d, blk.d}, [2]int{blk.d, blk.d},
				[2]int{blk.d, blk.d}, [2]int{blk.d, 2048}, [2]int{blk.d, 2048}, [2]int{blk.d, blk.d},
				[2]int{8 * blk.d, blk.d}, [2]int{blk.d, 4 * blk.d})
		}
	}
	return shapes
}

// BenchmarkTopTripletsSDXL runs the rank-1 reduction of one SDXL-shaped rank-32 LoRA (700
// modules) and reports the time of each stage of the launch.
func BenchmarkTopTripletsSDXL(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var in []Factors
	for _, s := range sdxlShapes() {
		in = append(in, randFactors(rng, s[0], s[1], 32, 1.0/32))
	}
	out := make([]Triplet, len(in))
	spent := map[string]time.Duration{}
	last, lastStage := time.Time{}, ""
	stageHook = func(s string) {
		now := time.Now()
		if lastStage != "" && lastStage != stageDone {
			spent[lastStage] += now.Sub(last)
		}
		last, lastStage = now, s
	}
	defer func() { stageHook = nil }()
	ctx := context.Background()
	n := 0
	for b.Loop() {
		if err := TopTriplets(ctx, in, out); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for _, s := range []string{stageUpload, stageKernel, stageDownload} {
		b.ReportMetric(float64(spent[s].Microseconds())/1e3/float64(n), s+"-ms/LoRA")
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "LoRAs/s")
}
