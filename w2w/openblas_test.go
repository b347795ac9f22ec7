//go:build openblas && cgo

package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenBLASParity checks the OpenBLAS products against the CPU reference (1e-4 relative).
func TestOpenBLASParity(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	ctx := context.Background()
	const n, m, d = 37, 9, 70001
	x := randFloats(rng, n*d, 1)
	b := randFloats(rng, m*d, 1)
	coef := f64(randFloats(rng, m*n, 1))
	ob, cpu := OpenBLAS{}, CPU{}
	assert.Equal(t, "cpu+openblas", DefaultBackend().Name())
	scale := math.Sqrt(d)
	g1, g2 := make([]float64, n*n), make([]float64, n*n)
	require.NoError(t, ob.Gram(ctx, x, n, d, g1))
	require.NoError(t, cpu.Gram(ctx, x, n, d, g2))
	for i := range g1 {
		assert.InDelta(t, g2[i], g1[i], 1e-4*math.Max(math.Abs(g2[i]), scale))
	}
	p1, p2 := make([]float64, n*m), make([]float64, n*m)
	require.NoError(t, ob.MulT(ctx, x, n, d, b, m, p1))
	require.NoError(t, cpu.MulT(ctx, x, n, d, b, m, p2))
	for i := range p1 {
		assert.InDelta(t, p2[i], p1[i], 1e-4*math.Max(math.Abs(p2[i]), scale))
	}
	// Rank-1 reduction: the same triplets as the CPU reference.
	var fs []ScaledFactor
	for _, sh := range [][3]int{{320, 768, 4}, {1280, 1280, 32}, {10, 7, 12}} {
		fs = append(fs, ScaledFactor{Factor: Factor{Rows: sh[0], Cols: sh[1], Rank: sh[2], A: randFloats(rng, sh[0]*sh[2], 0.1), B: randFloats(rng, sh[2]*sh[1], 0.1)}, Scale: 0.5})
	}
	t1, t2 := make([]Triplet, len(fs)), make([]Triplet, len(fs))
	require.NoError(t, ob.TopTriplets(ctx, fs, t1))
	require.NoError(t, cpu.TopTriplets(ctx, fs, t2))
	for i := range fs {
		// The OpenBLAS kernels, which TopTriplets uses only without the C kernels.
		tb, err := topTriplet(fs[i], blasKernels)
		require.NoError(t, err)
		assert.InDelta(t, 1, tb.Sigma/t2[i].Sigma, 1e-4)
		assert.Less(t, relVecErr(tb.U, f64(t2[i].U)), 1e-4)
		assert.Less(t, relVecErr(tb.V, f64(t2[i].V)), 1e-4)
	}
	for i := range fs {
		assert.InDelta(t, 1, t1[i].Sigma/t2[i].Sigma, 1e-4)
		assert.InDelta(t, 1, t1[i].Energy/t2[i].Energy, 1e-4)
		assert.Less(t, relVecErr(t1[i].U, f64(t2[i].U)), 1e-4)
		assert.Less(t, relVecErr(t1[i].V, f64(t2[i].V)), 1e-4)
	}
	// Partial eigensolver: the same top eigenpairs as gonum's full one.
	const en = 60
	ex := randFloats(rng, en*200, 1)
	eg := make([]float64, en*en)
	require.NoError(t, cpu.Gram(ctx, ex, en, 200, eg))
	l1, e1, err := ob.topEigen(eg, en, 10)
	require.NoError(t, err)
	l2, e2, err := topEigen(eg, en, 10)
	require.NoError(t, err)
	require.Len(t, l1, len(l2))
	for j := range l1 {
		assert.InDelta(t, 1, l1[j]/l2[j], 1e-10)
		var c1, c2 []float32
		for i := 0; i < en; i++ {
			c1 = append(c1, float32(e1.At(i, j)))
			c2 = append(c2, float32(e2.At(i, j)))
		}
		assert.Less(t, relVecErr(c1, f64(c2)), 1e-5)
	}
	c1, c2 := make([]float32, m*d), make([]float32, m*d)
	require.NoError(t, ob.Combine(ctx, coef, m, x, n, d, c1))
	require.NoError(t, cpu.Combine(ctx, coef, m, x, n, d, c2))
	for i := range c1 {
		assert.InDelta(t, c2[i], c1[i], 1e-4*math.Max(math.Abs(float64(c2[i])), 1))
	}
}
