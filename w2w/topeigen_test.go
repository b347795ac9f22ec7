package w2w

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// TestTopEigenPartial checks the partial eigensolver against gonum's full EigenSym on Gram
// matrices of random data (closely spaced eigenvalues, as a PCA's are), a matrix with a
// repeated top eigenvalue, and a Gram matrix of rank below n.
func TestTopEigenPartial(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 3))
	gram := func(n, d int) []float64 {
		x := randFloats(rng, n*d, 1)
		g := make([]float64, n*n)
		require.NoError(t, CPU{}.Gram(t.Context(), x, n, d, g))
		return g
	}
	repeated := func(n int) []float64 {
		// Q·diag(5, 5, 5, 4, 3.9, …)·Qᵀ for a random orthogonal Q.
		var qr mat.QR
		qr.Factorize(mat.NewDense(n, n, f64(randFloats(rng, n*n, 1))))
		var q mat.Dense
		qr.QTo(&q)
		dg := make([]float64, n)
		for i := range dg {
			dg[i] = 4 - 0.1*float64(i)
		}
		dg[0], dg[1], dg[2] = 5, 5, 5
		var g mat.Dense
		g.Mul(&q, mat.NewDiagDense(n, dg))
		g.Mul(&g, q.T())
		return append([]float64(nil), g.RawMatrix().Data...)
	}
	for _, c := range []struct {
		name string
		g    []float64
		n, k int
	}{
		{"gram_n300_d5000", gram(300, 5000), 300, 40},
		{"gram_n260_d200_rank200", gram(260, 200), 260, 60},
		{"repeated_top", repeated(64), 64, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			var es mat.EigenSym
			require.True(t, es.Factorize(mat.NewSymDense(c.n, c.g), true))
			vals := es.Values(nil)
			var vecs mat.Dense
			es.VectorsTo(&vecs)
			lam, E := topEigenPartial(c.g, c.n, c.k)
			want := 0
			for j := 0; j < c.k; j++ {
				if v := vals[c.n-1-j]; v > relEigenFloor*vals[c.n-1] && v > 0 {
					want++
				}
			}
			require.Len(t, lam, want)
			scale := vals[c.n-1]
			for j := range lam {
				assert.InDelta(t, vals[c.n-1-j], lam[j], 1e-10*scale, "λ%d", j)
			}
			// Orthonormal columns, and small residuals ‖G·e − λ·e‖.
			G := mat.NewSymDense(c.n, c.g)
			for j := range lam {
				col := mat.Col(nil, j, E)
				var ge mat.VecDense
				ge.MulVec(G, mat.NewVecDense(c.n, col))
				res := 0.0
				for i := range col {
					res = math.Hypot(res, ge.AtVec(i)-lam[j]*col[i])
				}
				assert.Less(t, res, 1e-9*scale, "residual %d", j)
				for l := 0; l <= j; l++ {
					dot := mat.Dot(mat.NewVecDense(c.n, col), mat.NewVecDense(c.n, mat.Col(nil, l, E)))
					want := 0.0
					if l == j {
						want = 1
					}
					assert.InDelta(t, want, dot, 1e-10, "eᵀe %d,%d", j, l)
				}
				// Simple, well separated eigenvalues: the same vector as gonum's.
				gap := math.Inf(1)
				if j > 0 {
					gap = vals[c.n-j] - vals[c.n-1-j]
				}
				gap = math.Min(gap, vals[c.n-1-j]-vals[c.n-2-j])
				if gap > 1e-6*scale {
					assert.Less(t, relVecErr(f32(col), mat.Col(nil, c.n-1-j, &vecs)), 1e-6, fmt.Sprint("vector ", j))
				}
			}
		})
	}
}
