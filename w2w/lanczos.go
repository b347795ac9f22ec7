package w2w

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// lanczosMinRank is the factor rank from which the r×r step of the Cholesky route runs as a
// Lanczos iteration instead of the dense reduction of [cholTopCoef]. The dense step costs
// about 2.7·r³ operations whatever the spectrum; each Lanczos step costs two r×r products
// (4r² operations) and, for the ranks where it is used (LoHa's Khatri-Rao factors, r₁·r₂ of
// 64–1024, and plain LoRAs of rank ≥ 128), it meets its tolerance in far fewer than r steps.
const lanczosMinRank = 128

// lanczosTol is the residual bound, relative to the eigenvalue, at which [lanczosTopCoef]
// stops: ‖T·c − θ·c‖ ≤ lanczosTol·θ in the G_A norm, which leaves the vector's error at
// lanczosTol·θ/gap, far below the float32 precision of the written factors.
const lanczosTol = 1e-12

// lanczosTopCoef is the r×r step of the Cholesky route by the Lanczos method: it returns c,
// the top eigenvector of T = G_B·G_A, so that u = A·c/‖A·c‖ is the top left singular vector of
// A·B. T is self-adjoint in the inner product ⟨x, y⟩ = xᵀ·G_A·y, so the Lanczos recurrence in
// that inner product (Golub & Van Loan, Matrix Computations, §10.1, with full
// reorthogonalisation, §10.3) builds an orthonormal Krylov basis Q with QᵀG_A·T·Q tridiagonal;
// the top eigenpair of that tridiagonal matrix gives c = Q·s. The start vector is a fixed
// pseudo-random one, so results are deterministic. It reports false when it meets no clean
// answer (G_A not positive definite on the Krylov space, or no convergence in r steps); the
// dense routes take over then.
func lanczosTopCoef(ga, gb []float64, r int) ([]float64, bool) {
	symv := func(g, x, y []float64) {
		for i := range y {
			y[i] = floats.Dot(g[i*r:i*r+r], x)
		}
	}
	maxIter := r
	qs := make([][]float64, 0, 32) // the basis, G_A-orthonormal
	ps := make([][]float64, 0, 32) // G_A·q for each basis vector
	alpha := make([]float64, 0, 32)
	beta := make([]float64, 0, 32)

	q := make([]float64, r)
	state := uint64(0x9e3779b97f4a7c15)
	for i := range q {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		q[i] = float64(state>>11)/(1<<53) - 0.5
	}
	p := make([]float64, r)
	symv(ga, q, p)
	nq := floats.Dot(q, p)
	if !(nq > 0) || math.IsInf(nq, 0) {
		return nil, false
	}
	inv := 1 / math.Sqrt(nq)
	floats.Scale(inv, q)
	floats.Scale(inv, p)

	w := make([]float64, r)
	for j := 0; j < maxIter; j++ {
		qs, ps = append(qs, q), append(ps, p)
		symv(gb, p, w) // w = G_B·G_A·q
		a := floats.Dot(p, w)
		alpha = append(alpha, a)
		// Full reorthogonalisation, twice ("twice is enough"): w −= Σ q_i·⟨q_i, w⟩.
		for pass := 0; pass < 2; pass++ {
			for i := range qs {
				floats.AddScaled(w, -floats.Dot(ps[i], w), qs[i])
			}
		}
		pw := make([]float64, r)
		symv(ga, w, pw)
		b2 := floats.Dot(w, pw)
		b := 0.0
		if b2 > 0 {
			b = math.Sqrt(b2)
		}
		// The top Ritz pair of the tridiagonal matrix so far.
		s := tridiagTopVector(alpha, beta)
		theta := 0.0
		for i := range s {
			t := alpha[i] * s[i]
			if i > 0 {
				t += beta[i-1] * s[i-1]
			}
			if i+1 < len(s) {
				t += beta[i] * s[i+1]
			}
			theta += s[i] * t
		}
		if !(theta > 0) || math.IsInf(theta, 0) {
			return nil, false
		}
		last := len(qs) == r
		if b*math.Abs(s[len(s)-1]) <= lanczosTol*theta || b <= lanczosTol*theta || last {
			c := make([]float64, r)
			for i, si := range s {
				floats.AddScaled(c, si, qs[i])
			}
			return c, true
		}
		beta = append(beta, b)
		q = make([]float64, r)
		floats.ScaleTo(q, 1/b, w)
		p = pw
		floats.Scale(1/b, p)
	}
	return nil, false
}
