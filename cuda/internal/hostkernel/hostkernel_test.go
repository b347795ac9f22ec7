package hostkernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/mat"
)

// The kernel's rank-1 triplet equals a full SVD of the formed ΔW (gonum), including ranks
// above min(out, in), rank 1 and negative scales.
func TestTopTripletKernelMatchesFullSVD(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{50, 30, 4}, {200, 70, 8}, {33, 300, 16}, {10, 12, 32}, {64, 64, 1}, {320, 768, 32}, {40, 50, 7}, {30, 20, 3}, {100, 90, 33}, {200, 150, 64}} {
		out, in, r := s[0], s[1], s[2]
		up := make([]float32, out*r)
		down := make([]float32, r*in)
		for i := range up {
			up[i] = float32(rng.NormFloat64())
		}
		for i := range down {
			down[i] = float32(rng.NormFloat64())
		}
		scale := -0.7
		sigma, energy, u, v := TopTriplet(up, down, out, in, r, scale)

		w := mat.NewDense(out, in, nil)
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				a := 0.0
				for k := 0; k < r; k++ {
					a += float64(up[o*r+k]) * float64(down[k*in+i])
				}
				w.Set(o, i, scale*a)
			}
		}
		var svd mat.SVD
		if !svd.Factorize(w, mat.SVDThin) {
			t.Fatal("svd failed")
		}
		var U, V mat.Dense
		svd.UTo(&U)
		svd.VTo(&V)
		fro := mat.Norm(w, 2)
		assert.InDelta(t, 1, sigma/svd.Values(nil)[0], 1e-6, "%v sigma", s)
		assert.InDelta(t, 1, energy/(fro*fro), 1e-6, "%v energy", s)
		du, dv := 0.0, 0.0
		for o := 0; o < out; o++ {
			du += U.At(o, 0) * float64(u[o])
		}
		for i := 0; i < in; i++ {
			dv += V.At(i, 0) * float64(v[i])
		}
		assert.InDelta(t, 1, math.Abs(du), 1e-5, "%v u", s)
		assert.InDelta(t, du, dv, 1e-5, "%v u and v signs agree", s)
	}
}

func TestTopTripletKernelZeroModule(t *testing.T) {
	sigma, energy, u, v := TopTriplet(make([]float32, 6), make([]float32, 8), 3, 4, 2, 1)
	assert.Zero(t, sigma)
	assert.Zero(t, energy)
	assert.Equal(t, []float32{0, 0, 0}, u)
	assert.Equal(t, []float32{0, 0, 0, 0}, v)
}

func TestScatterKernelAlignsSign(t *testing.T) {
	vec := make([]float32, 8)
	Scatter(4, []float32{0, -1}, []float32{1, 0, 0}, []float32{0, 1}, 2, vec)
	assert.Equal(t, []float32{0, 0, 0, 2, -2, 0, 0, 0}, vec)
	vec = make([]float32, 5)
	Scatter(9, []float32{1, 0}, []float32{0, 1, 0}, nil, 0, vec)
	assert.Equal(t, []float32{3, 0, 0, 3, 0}, vec)
}
