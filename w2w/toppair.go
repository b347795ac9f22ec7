package w2w

import "math"

// The small dense steps of the Cholesky route of the rank-1 reduction, on flat row-major
// float64 slices: for r ≤ 100 the r×r work per module is a few tens of thousands of
// operations, and a general eigensolver that computes all r eigenvectors costs several times
// what the factor products do.

// cholTopCoef is the r×r step of the Cholesky route of [topTriplet]: with G_A = L·Lᵀ, it
// returns c = L⁻ᵀ·e for the top eigenvector e of S = Lᵀ·G_B·L. It reports false when G_A is
// not safely positive definite (a squared pivot below choleskyMinPivot of the largest): A is
// then (nearly) rank-deficient and the eigendecomposition route takes over.
func cholTopCoef(ga, gb []float64, r int) ([]float64, bool) {
	L, ok := cholesky(ga, r)
	if !ok {
		return nil, false
	}
	lmax, lmin := 0.0, math.Inf(1)
	for i := 0; i < r; i++ {
		d := L[i*r+i] * L[i*r+i]
		lmax, lmin = math.Max(lmax, d), math.Min(lmin, d)
	}
	if lmin <= choleskyMinPivot*lmax {
		return nil, false
	}
	e := topSymEigenvector(congruence(L, gb, r), r)
	return solveLowerT(L, r, e), true
}

// cholesky returns the lower-triangular L (row-major r×r) with G = L·Lᵀ, or false when G is
// not numerically positive definite.
func cholesky(g []float64, r int) ([]float64, bool) {
	l := make([]float64, r*r)
	for j := 0; j < r; j++ {
		lj := l[j*r : j*r+j]
		s := g[j*r+j]
		for _, x := range lj {
			s -= x * x
		}
		if !(s > 0) {
			return nil, false
		}
		d := math.Sqrt(s)
		l[j*r+j] = d
		for i := j + 1; i < r; i++ {
			li := l[i*r : i*r+j]
			t := g[i*r+j]
			for k, x := range li {
				t -= x * lj[k]
			}
			l[i*r+j] = t / d
		}
	}
	return l, true
}

// congruence returns S = Lᵀ·G·L (r×r, symmetric) for lower-triangular L and symmetric G.
func congruence(l, g []float64, r int) []float64 {
	gl := make([]float64, r*r) // G·L: column j of L is zero above row j
	for i := 0; i < r; i++ {
		gi := g[i*r : i*r+r]
		for q := 0; q < r; q++ {
			a := gi[q]
			lq := l[q*r : q*r+q+1]
			out := gl[i*r : i*r+q+1]
			for j, x := range lq {
				out[j] += a * x
			}
		}
	}
	s := make([]float64, r*r)
	for q := 0; q < r; q++ { // S[i][j] = Σ_q L[q][i]·GL[q][j], L[q][i] = 0 for i > q
		lq := l[q*r : q*r+q+1]
		glq := gl[q*r : q*r+r]
		for i, a := range lq {
			si := s[i*r+i : i*r+r]
			for j, x := range glq[i:] {
				si[j] += a * x
			}
		}
	}
	for i := 0; i < r; i++ {
		for j := i + 1; j < r; j++ {
			s[j*r+i] = s[i*r+j]
		}
	}
	return s
}

// solveLowerT solves Lᵀ·c = e for lower-triangular L (back substitution).
func solveLowerT(l []float64, r int, e []float64) []float64 {
	c := make([]float64, r)
	for i := r - 1; i >= 0; i-- {
		acc := e[i]
		for q := i + 1; q < r; q++ {
			acc -= l[q*r+i] * c[q]
		}
		c[i] = acc / l[i*r+i]
	}
	return c
}

// topSymEigenvector returns a unit eigenvector for the largest eigenvalue of the symmetric
// r×r matrix s (row-major; overwritten): Householder reduction to tridiagonal form T = QᵀSQ,
// the largest eigenvalue of T by Sturm-sequence bisection, its eigenvector by inverse
// iteration on T, mapped back through Q (Golub & Van Loan, Matrix Computations, §8.3–8.4 and
// §8.2.2). It costs about 4r³/3 operations, against about 9r³ for a full eigendecomposition.
func topSymEigenvector(s []float64, r int) []float64 {
	d := make([]float64, r)
	e := make([]float64, max(r-1, 0))
	// The Householder vector of step k is kept in column k below the diagonal of s, which
	// the reduction no longer reads, and its β in betas[k].
	betas := make([]float64, max(r-2, 0))
	p := make([]float64, r)
	v := make([]float64, r)
	for k := 0; k+2 < r; k++ {
		// x = S[k+1:, k]; H = I − β·v·vᵀ maps x to α·e₁.
		n := r - k - 1
		v := v[:n]
		ss := 0.0
		for i := 0; i < n; i++ {
			v[i] = s[(k+1+i)*r+k]
			ss += v[i] * v[i]
		}
		norm := math.Sqrt(ss) // entries are Gram-sized: no overflow below 1e150
		alpha := -norm
		if v[0] < 0 {
			alpha = norm
		}
		v[0] -= alpha
		vv := 0.0
		for _, x := range v {
			vv += x * x
		}
		if vv == 0 || norm == 0 {
			e[k] = s[(k+1)*r+k]
			continue
		}
		beta := 2 / vv
		e[k] = alpha
		// p = β·S₂₂·v, w = p − (β·pᵀv/2)·v, S₂₂ −= v·wᵀ + w·vᵀ.
		pv := 0.0
		for i := 0; i < n; i++ {
			row := s[(k+1+i)*r+k+1 : (k+1+i)*r+r]
			acc := 0.0
			for j, x := range row {
				acc += x * v[j]
			}
			p[i] = beta * acc
			pv += p[i] * v[i]
		}
		c := beta * pv / 2
		for i := 0; i < n; i++ {
			p[i] -= c * v[i]
		}
		pn := p[:n]
		for i := 0; i < n; i++ {
			row := s[(k+1+i)*r+k+1 : (k+1+i)*r+r]
			row = row[:n]
			vi, wi := v[i], pn[i]
			for j := range row {
				row[j] -= vi*pn[j] + wi*v[j]
			}
		}
		for i := 0; i < n; i++ {
			s[(k+1+i)*r+k] = v[i]
		}
		betas[k] = beta
	}
	for i := 0; i < r; i++ {
		d[i] = s[i*r+i]
	}
	if r >= 2 {
		e[r-2] = s[(r-1)*r+r-2]
	}
	z := tridiagTopVector(d, e)
	// x = H₀·H₁·…·z: apply the reflections in reverse order.
	for k := len(betas) - 1; k >= 0; k-- {
		beta := betas[k]
		if beta == 0 {
			continue
		}
		zz := z[k+1:]
		t := 0.0
		for i := range zz {
			t += s[(k+1+i)*r+k] * zz[i]
		}
		t *= beta
		for i := range zz {
			zz[i] -= t * s[(k+1+i)*r+k]
		}
	}
	normalize(z)
	return z
}

// Bisection and inverse-iteration settings of [tridiagTopVector].
const (
	// tridiagBisectMax bounds the bisection steps; each halves the interval, so 200 steps
	// reach the float64 resolution of any starting interval.
	tridiagBisectMax = 200
	// tridiagInverseSteps is the number of inverse-iteration solves: with an eigenvalue
	// accurate to rounding, each solve multiplies the eigenvector's share by about 1/ε, so
	// two suffice and the third is a margin (LAPACK's dstein allows up to five).
	tridiagInverseSteps = 3
)

// tridiagTopVector returns a unit eigenvector for the largest eigenvalue of the symmetric
// tridiagonal matrix with diagonal d and off-diagonal e.
func tridiagTopVector(d, e []float64) []float64 {
	_, x := tridiagEigenpair(d, e, len(d)-1, nil)
	return x
}

// tridiagEigenpair returns the eigenvalue of index idx (ascending, 0 ≤ idx < n) of the
// symmetric tridiagonal matrix with diagonal d and off-diagonal e, by Sturm-sequence
// bisection, and a unit eigenvector by inverse iteration, orthogonalised at every step
// against the unit vectors prev (eigenvectors already found for nearby eigenvalues), as
// LAPACK's dstein does for clusters.
func tridiagEigenpair(d, e []float64, idx int, prev [][]float64) (float64, []float64) {
	n := len(d)
	if n == 1 {
		return d[0], []float64{1}
	}
	// Gershgorin bounds.
	lo, hi, scale := math.Inf(1), math.Inf(-1), 0.0
	for i := 0; i < n; i++ {
		rad := 0.0
		if i > 0 {
			rad += math.Abs(e[i-1])
		}
		if i < n-1 {
			rad += math.Abs(e[i])
		}
		lo, hi = math.Min(lo, d[i]-rad), math.Max(hi, d[i]+rad)
		scale = math.Max(scale, math.Abs(d[i])+rad)
	}
	if scale == 0 {
		v := make([]float64, n)
		v[idx] = 1
		return 0, v
	}
	tiny := scale * 1e-300
	// below(x) counts the eigenvalues below x (Sturm sequence of T − x·I).
	below := func(x float64) int {
		cnt := 0
		q := d[0] - x
		for i := 0; ; i++ {
			if q == 0 {
				q = -tiny
			}
			if q < 0 {
				cnt++
			}
			if i == n-1 {
				return cnt
			}
			q = d[i+1] - x - e[i]*e[i]/q
		}
	}
	eps := 2.220446049250313e-16
	hi += eps * scale
	lo -= eps * scale
	for it := 0; it < tridiagBisectMax && hi-lo > 2*eps*math.Max(math.Abs(lo), math.Abs(hi)); it++ {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			break
		}
		if below(mid) > idx {
			hi = mid
		} else {
			lo = mid
		}
	}
	lambda := lo + (hi-lo)/2
	// Inverse iteration: LU of T − λI with partial pivoting (rows i and i+1 may swap, which
	// adds a second super-diagonal), as LAPACK's dgttrf does.
	diag := make([]float64, n)
	up1 := make([]float64, n)
	up2 := make([]float64, n)
	mult := make([]float64, n)
	swap := make([]bool, n)
	for i := 0; i < n; i++ {
		diag[i] = d[i] - lambda
		if i < n-1 {
			up1[i] = e[i]
		}
	}
	sub := append([]float64(nil), e...)
	pivFloor := eps * scale
	for i := 0; i < n-1; i++ {
		if math.Abs(diag[i]) >= math.Abs(sub[i]) {
			if math.Abs(diag[i]) < pivFloor {
				diag[i] = math.Copysign(pivFloor, diag[i])
				if diag[i] == 0 {
					diag[i] = pivFloor
				}
			}
			f := sub[i] / diag[i]
			mult[i] = f
			diag[i+1] -= f * up1[i]
			// up2[i] stays 0
		} else {
			// Swap rows i and i+1.
			f := diag[i] / sub[i]
			mult[i] = f
			swap[i] = true
			diag[i] = sub[i]
			t := diag[i+1]
			diag[i+1] = up1[i] - f*t
			up1[i] = t
			if i < n-2 {
				up2[i] = up1[i+1]
				up1[i+1] = -f * up2[i]
			}
		}
	}
	if math.Abs(diag[n-1]) < pivFloor {
		diag[n-1] = pivFloor
	}
	x := make([]float64, n)
	for i := range x {
		// A fixed start vector with no special structure (golden-ratio sequence).
		x[i] = 1 + math.Mod(float64(i)*0.6180339887498949, 1)
	}
	for step := 0; step < tridiagInverseSteps; step++ {
		// Forward: apply the row swaps and multipliers.
		for i := 0; i < n-1; i++ {
			if swap[i] {
				x[i], x[i+1] = x[i+1], x[i]
			}
			x[i+1] -= mult[i] * x[i]
		}
		// Back substitution with U (diag, up1, up2).
		for i := n - 1; i >= 0; i-- {
			acc := x[i]
			if i+1 < n {
				acc -= up1[i] * x[i+1]
			}
			if i+2 < n {
				acc -= up2[i] * x[i+2]
			}
			x[i] = acc / diag[i]
		}
		for _, p := range prev {
			t := 0.0
			for i, v := range p {
				t += v * x[i]
			}
			for i, v := range p {
				x[i] -= t * v
			}
		}
		// Rescale to the largest entry to stay in range.
		m := 0.0
		for _, v := range x {
			m = math.Max(m, math.Abs(v))
		}
		if m == 0 || math.IsInf(m, 0) || math.IsNaN(m) {
			break
		}
		for i := range x {
			x[i] /= m
		}
	}
	normalize(x)
	return lambda, x
}
