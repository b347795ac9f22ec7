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

// TestLanczosTopCoef checks the Lanczos r×r step against gonum's SVD of the product A·B: the
// vector u = A·c/‖A·c‖ it yields must reach the largest singular value (‖uᵀ·A·B‖ = σ₁) and,
// where σ₁ is well separated, be the top left singular vector. Cases: random factors, a
// LoHa-style Khatri-Rao A (rows are Kronecker products, r = r₁·r₂), a geometric spectrum, a
// nearly repeated top singular value, and an A with fewer rows than columns (G_A singular),
// where it must either answer correctly or report false for the dense route to take over.
func TestLanczosTopCoef(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	dense := func(rows, cols int) *mat.Dense {
		return mat.NewDense(rows, cols, f64(randFloats(rng, rows*cols, 1)))
	}
	khatriRao := func(m, r1, r2 int) *mat.Dense {
		a1, a2 := dense(m, r1), dense(m, r2)
		out := mat.NewDense(m, r1*r2, nil)
		for i := 0; i < m; i++ {
			for p := 0; p < r1; p++ {
				for q := 0; q < r2; q++ {
					out.Set(i, p*r2+q, a1.At(i, p)*a2.At(i, q))
				}
			}
		}
		return out
	}
	// withSpectrum returns A (m×r) and B (r×n) whose product has the given singular values.
	withSpectrum := func(m, n, r int, sv []float64) (*mat.Dense, *mat.Dense) {
		var qa, qb mat.QR
		qa.Factorize(dense(m, r))
		qb.Factorize(dense(n, r))
		var ua, ub mat.Dense
		qa.QTo(&ua)
		qb.QTo(&ub)
		a := mat.DenseCopyOf(ua.Slice(0, m, 0, r))
		for j := 0; j < r; j++ {
			for i := 0; i < m; i++ {
				a.Set(i, j, a.At(i, j)*sv[j])
			}
		}
		b := mat.DenseCopyOf(ub.Slice(0, n, 0, r).T())
		return a, b
	}
	type tc struct {
		name      string
		a, b      *mat.Dense
		separated bool
		mayRefuse bool
	}
	var cases []tc
	for _, r := range []int{128, 160, 256} {
		cases = append(cases, tc{name: fmt.Sprintf("random_%d", r), a: dense(r+90, r), b: dense(r, r+140), separated: false})
	}
	cases = append(cases, tc{name: "khatri_rao_16x16", a: khatriRao(320, 16, 16), b: dense(256, 300)})
	cases = append(cases, tc{name: "khatri_rao_12x12", a: khatriRao(640, 12, 12), b: dense(144, 500)})
	geo := make([]float64, 150)
	for i := range geo {
		geo[i] = math.Pow(0.9, float64(i))
	}
	ga, gb := withSpectrum(400, 350, 150, geo)
	cases = append(cases, tc{name: "geometric", a: ga, b: gb, separated: true})
	close := make([]float64, 140)
	for i := range close {
		close[i] = 1 / float64(i+2)
	}
	close[0] = close[1] * (1 + 1e-9)
	ca, cb := withSpectrum(300, 300, 140, close)
	cases = append(cases, tc{name: "repeated_top", a: ca, b: cb})
	cases = append(cases, tc{name: "rank_deficient", a: dense(100, 160), b: dense(160, 200), mayRefuse: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, r := c.a.Dims()
			_, n := c.b.Dims()
			var gA, gB mat.Dense
			gA.Mul(c.a.T(), c.a)
			gB.Mul(c.b, c.b.T())
			coef, ok := lanczosTopCoef(gA.RawMatrix().Data, gB.RawMatrix().Data, r)
			if c.mayRefuse && !ok {
				return
			}
			require.True(t, ok)
			require.Len(t, coef, r)

			var ab mat.Dense
			ab.Mul(c.a, c.b)
			var svd mat.SVD
			require.True(t, svd.Factorize(&ab, mat.SVDThin))
			vals := svd.Values(nil)

			u := mat.NewVecDense(m, nil)
			u.MulVec(c.a, mat.NewVecDense(r, coef))
			u.ScaleVec(1/mat.Norm(u, 2), u)
			row := mat.NewVecDense(n, nil)
			row.MulVec(ab.T(), u)
			assert.InDelta(t, vals[0], mat.Norm(row, 2), 1e-9*vals[0], "σ₁ reached")
			if c.separated {
				var lu mat.Dense
				svd.UTo(&lu)
				cos := math.Abs(mat.Dot(u, lu.ColView(0)))
				assert.InDelta(t, 1, cos, 1e-8, "top left singular vector")
			}
		})
	}
}

// TestLanczosTopCoefSmall covers the ends of the iteration: r = 1 and r = 2 (the basis
// fills up before the tolerance is met) and a zero G_A (refused).
func TestLanczosTopCoefSmall(t *testing.T) {
	c, ok := lanczosTopCoef([]float64{4}, []float64{9}, 1)
	require.True(t, ok)
	assert.Len(t, c, 1)
	// G_A = I, G_B = diag(1, 3): the top eigenvector of G_B·G_A is e₂.
	c, ok = lanczosTopCoef([]float64{1, 0, 0, 1}, []float64{1, 0, 0, 3}, 2)
	require.True(t, ok)
	assert.InDelta(t, 0, c[0]/math.Hypot(c[0], c[1]), 1e-12)
	_, ok = lanczosTopCoef(make([]float64, 4), []float64{1, 0, 0, 1}, 2)
	assert.False(t, ok)
}
