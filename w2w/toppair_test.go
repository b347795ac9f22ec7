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

// TestTopSymEigenvector checks the tridiagonal route against gonum's full symmetric
// eigendecomposition: random symmetric matrices (indefinite too), Gram-like positive ones,
// diagonal and block-diagonal matrices whose tridiagonal form splits, and sizes 1 to 70.
func TestTopSymEigenvector(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	type gen struct {
		name string
		f    func(r int) []float64
	}
	sym := func(r int) []float64 {
		s := make([]float64, r*r)
		for i := 0; i < r; i++ {
			for j := 0; j <= i; j++ {
				v := rng.NormFloat64()
				s[i*r+j], s[j*r+i] = v, v
			}
		}
		return s
	}
	gram := func(r int) []float64 {
		a := mat.NewDense(r+3, r, f64(randFloats(rng, (r+3)*r, 1)))
		var g mat.Dense
		g.Mul(a.T(), a)
		return append([]float64(nil), g.RawMatrix().Data...)
	}
	diag := func(r int) []float64 {
		s := make([]float64, r*r)
		for i := 0; i < r; i++ {
			s[i*r+i] = float64((i*7)%r) + 0.5 // largest not at the end
		}
		return s
	}
	blocks := func(r int) []float64 {
		s := make([]float64, r*r)
		for i := 0; i < r; i += 3 {
			for a := i; a < min(i+3, r); a++ {
				for b := i; b <= a; b++ {
					v := rng.NormFloat64() + float64(i)/float64(r)
					s[a*r+b], s[b*r+a] = v, v
				}
			}
		}
		return s
	}
	for _, g := range []gen{{"symmetric", sym}, {"gram", gram}, {"diagonal", diag}, {"blocks", blocks}} {
		for _, r := range []int{1, 2, 3, 4, 7, 16, 32, 33, 70} {
			t.Run(fmt.Sprintf("%s_%d", g.name, r), func(t *testing.T) {
				s := g.f(r)
				var es mat.EigenSym
				require.True(t, es.Factorize(mat.NewSymDense(r, append([]float64(nil), s...)), true))
				vals := es.Values(nil)
				var vecs mat.Dense
				es.VectorsTo(&vecs)
				got := topSymEigenvector(append([]float64(nil), s...), r)
				require.Len(t, got, r)
				// The Rayleigh quotient reaches the largest eigenvalue and the residual is
				// small; where that eigenvalue is simple, the vector matches gonum's.
				sx := mat.NewVecDense(r, nil)
				sx.MulVec(mat.NewSymDense(r, s), mat.NewVecDense(r, got))
				rq := mat.Dot(sx, mat.NewVecDense(r, got))
				spread := math.Max(math.Abs(vals[0]), math.Abs(vals[r-1]))
				assert.InDelta(t, vals[r-1], rq, 1e-12*spread)
				res := 0.0
				for i := 0; i < r; i++ {
					res = math.Hypot(res, sx.AtVec(i)-rq*got[i])
				}
				assert.Less(t, res, 1e-10*spread)
				if r == 1 || vals[r-1]-vals[r-2] > 1e-6*spread {
					assert.Less(t, relVecErr(f32(got), mat.Col(nil, r-1, &vecs)), 1e-7)
				}
			})
		}
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// TestCholeskyCongruence checks G = L·Lᵀ, S = Lᵀ·G_B·L and Lᵀ·c = e against gonum.
func TestCholeskyCongruence(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	for _, r := range []int{1, 2, 5, 32} {
		a := mat.NewDense(r+2, r, f64(randFloats(rng, (r+2)*r, 1)))
		b := mat.NewDense(r, r+5, f64(randFloats(rng, r*(r+5), 1)))
		var ga, gb mat.Dense
		ga.Mul(a.T(), a)
		gb.Mul(b, b.T())
		L, ok := cholesky(ga.RawMatrix().Data, r)
		require.True(t, ok)
		Lm := mat.NewDense(r, r, L)
		var llt mat.Dense
		llt.Mul(Lm, Lm.T())
		assert.True(t, mat.EqualApprox(&llt, &ga, 1e-10), "L·Lᵀ = G")
		var s1, s2 mat.Dense
		s1.Mul(Lm.T(), &gb)
		s2.Mul(&s1, Lm)
		assert.True(t, mat.EqualApprox(mat.NewDense(r, r, congruence(L, gb.RawMatrix().Data, r)), &s2, 1e-10), "S = Lᵀ·G_B·L")
		e := f64(randFloats(rng, r, 1))
		c := solveLowerT(L, r, e)
		var back mat.VecDense
		back.MulVec(Lm.T(), mat.NewVecDense(r, c))
		assert.True(t, mat.EqualApprox(&back, mat.NewVecDense(r, e), 1e-10), "Lᵀ·c = e")
	}
	_, ok := cholesky([]float64{1, 2, 2, 1}, 2)
	assert.False(t, ok, "indefinite")
}
