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
	c1, c2 := make([]float32, m*d), make([]float32, m*d)
	require.NoError(t, ob.Combine(ctx, coef, m, x, n, d, c1))
	require.NoError(t, cpu.Combine(ctx, coef, m, x, n, d, c2))
	for i := range c1 {
		assert.InDelta(t, c2[i], c1[i], 1e-4*math.Max(math.Abs(float64(c2[i])), 1))
	}
}
