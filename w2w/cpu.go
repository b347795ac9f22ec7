package w2w

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// CPU is the pure-Go backend: the default and the reference for accelerated backends.
type CPU struct {
	// Workers bounds the goroutines used (0 means GOMAXPROCS).
	Workers int
}

// Name implements [Backend].
func (CPU) Name() string { return "cpu" }

func (c CPU) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFor runs fn(i) for i in [0, n) on up to w goroutines, stopping early when ctx is
// cancelled or fn fails; it returns the first error.
func parallelFor(ctx context.Context, n, w int, fn func(i int) error) error {
	if w > n {
		w = n
	}
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					once.Do(func() { first = err })
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Flatten implements [Backend], one LoRA per worker.
func (c CPU) Flatten(ctx context.Context, lay *Layout, rs []*Reduced, dst []float32) ([][]bool, error) {
	if len(dst) != len(rs)*lay.Dim {
		return nil, fmt.Errorf("w2w: flatten: %w: destination has %d values for %d vectors of %d", ErrLayout, len(dst), len(rs), lay.Dim)
	}
	lay.Find("") // build the name index before the workers share the layout
	masks := make([][]bool, len(rs))
	err := parallelFor(ctx, len(rs), c.workers(), func(i int) error {
		m, err := lay.Flatten(rs[i], dst[i*lay.Dim:(i+1)*lay.Dim])
		masks[i] = m
		return err
	})
	if err != nil {
		return nil, err
	}
	return masks, nil
}

// TopTriplets implements [Backend] through the Gram matrices of the thin factors.
func (c CPU) TopTriplets(ctx context.Context, in []ScaledFactor, out []Triplet) error {
	if len(out) != len(in) {
		return fmt.Errorf("w2w: top triplets: %w: %d inputs, %d outputs", ErrLayout, len(in), len(out))
	}
	return parallelFor(ctx, len(in), c.workers(), func(i int) error {
		t, err := topTriplet(in[i], cpuKernels)
		out[i] = t
		return err
	})
}

// tripletKernels are the O((m+n)·r²) and O((m+n)·r) steps of [topTriplet]; an accelerated
// backend swaps in its own. matVec computes A·x (trans false) or Aᵀ·x for the row-major
// rows×cols matrix a.
type tripletKernels struct {
	gramCols func(a []float32, m, r int) []float64
	gramRows func(b []float32, r, n int) []float64
	matVec   func(a []float32, rows, cols int, x []float64, trans bool) []float64
	// topCoef is the r×r step of the Cholesky route ([cholTopCoef]).
	topCoef func(ga, gb []float64, r int) ([]float64, bool)
}

// goKernels are the pure-Go factor kernels: the reference the C kernels are tested against.
var goKernels = tripletKernels{gramCols: gramOfColumns, gramRows: gramOfRows, matVec: matVec64, topCoef: cholTopCoef}

// cpuKernels are the factor kernels of the CPU backend: the C kernels (AVX-512 or AVX2+FMA,
// chosen at start-up) where cgo and the CPU allow, the Go kernels otherwise. Each module is
// computed by one goroutine with one fixed order of operations, so results do not depend on
// the number of workers. cpuKernelName says which ran ("avx512", "avx2" or "go").
var cpuKernels, cpuKernelName = nativeKernels()

// matVec64 computes A·x or Aᵀ·x in float64.
func matVec64(a []float32, rows, cols int, x []float64, trans bool) []float64 {
	if trans {
		y := make([]float64, cols)
		for i := 0; i < rows; i++ {
			xi := x[i]
			row := a[i*cols : i*cols+cols]
			for j, v := range row {
				y[j] += xi * float64(v)
			}
		}
		return y
	}
	y := make([]float64, rows)
	for i := 0; i < rows; i++ {
		row := a[i*cols : i*cols+cols]
		s := 0.0
		for j, v := range row {
			s += float64(v) * x[j]
		}
		y[i] = s
	}
	return y
}

// gramRowsTransposeMin is the rank from which [gramOfRowsVia] transposes B and takes the
// column Gram: the column kernel keeps a block of G in registers across all rows, while the
// row kernel's dot-product tiles reread B for every tile pair, which from a few dozen rows on
// (LoHa's Khatri-Rao factors have r₁·r₂ of 64–1024) costs it about 3× the column kernel's time.
const gramRowsTransposeMin = 64

// gramOfRowsVia returns B·Bᵀ for row-major B (r×n) with the faster of k's two Gram kernels.
func gramOfRowsVia(k tripletKernels, b []float32, r, n int) []float64 {
	if r < gramRowsTransposeMin {
		return k.gramRows(b, r, n)
	}
	bt := make([]float32, len(b))
	const blk = 64
	for i0 := 0; i0 < r; i0 += blk {
		for j0 := 0; j0 < n; j0 += blk {
			for i := i0; i < min(i0+blk, r); i++ {
				row := b[i*n : i*n+n]
				for j := j0; j < min(j0+blk, n); j++ {
					bt[j*r+i] = row[j]
				}
			}
		}
	}
	return k.gramCols(bt, n, r)
}

// topTriplet computes the top singular triplet of s·A·B (A m×r, B r×n) from G_A = AᵀA and
// G_B = B·Bᵀ. With G_A = V_A Λ_A V_Aᵀ, A = Q_A R_A where R_A = Λ_A^½ V_Aᵀ and Q_A has
// orthonormal columns (likewise Bᵀ = Q_B R_B), so s·A·B = s·Q_A (R_A R_Bᵀ) Q_Bᵀ and the
// problem shrinks to the SVD of the r×r matrix R_A R_Bᵀ. The right vector is mapped back as
// v = Bᵀ V_B Λ_B^-½ w₁, and u = A·B·v/‖A·B·v‖, which makes u and σ exact for that v.
func topTriplet(sf ScaledFactor, k tripletKernels) (Triplet, error) {
	m, n, r := sf.Rows, sf.Cols, sf.Rank
	if r <= 0 || m <= 0 || n <= 0 || len(sf.A) != m*r || len(sf.B) != r*n {
		return Triplet{}, fmt.Errorf("w2w: factor %dx%d·%dx%d: %w", m, r, r, n, ErrShapeMismatch)
	}
	if r > min(m, n) {
		// A rank above the smaller side (a LoRA of rank 2,000 on a 1×1 layer, say) would cost
		// O(r³) in the r×r step; ΔW itself is small then, so form it (m·n·r) and factor it
		// as ΔW·I or I·ΔW of rank min(m, n).
		sf = smallSideFactor(sf)
		m, n, r = sf.Rows, sf.Cols, sf.Rank
	}
	ga := k.gramCols(sf.A, m, r)
	gb := gramOfRowsVia(k, sf.B, r, n)
	energy := 0.0
	for i := range ga {
		energy += ga[i] * gb[i]
	}
	energy *= sf.Scale * sf.Scale
	t := Triplet{Energy: energy, U: make([]float32, m), V: make([]float32, n)}
	if energy == 0 || math.IsNaN(energy) {
		return t, nil
	}
	if choleskyTriplet(sf, k, ga, gb, &t) {
		return t, nil
	}
	va, sa, err := symSqrt(ga, r)
	if err != nil {
		return t, err
	}
	vb, sb, err := symSqrt(gb, r)
	if err != nil {
		return t, err
	}
	// M = diag(sa)·V_Aᵀ·V_B·diag(sb).
	var vtv mat.Dense
	vtv.Mul(va.T(), vb)
	M := mat.NewDense(r, r, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			M.Set(i, j, sa[i]*vtv.At(i, j)*sb[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(M, mat.SVDFull) {
		return t, fmt.Errorf("w2w: rank-%d factor: %w: small SVD did not converge", r, ErrUnsupported)
	}
	var W mat.Dense
	svd.VTo(&W)
	// y = V_B·diag(1/sb)·w₁ (zero where sb vanishes: those directions carry no energy).
	tol := sb[0] * float64(r) * 1e-12
	for _, s := range sb {
		tol = math.Max(tol, s*float64(r)*1e-12)
	}
	coef := make([]float64, r)
	for j := 0; j < r; j++ {
		if sb[j] > tol {
			coef[j] = W.At(j, 0) / sb[j]
		}
	}
	y := make([]float64, r)
	for i := 0; i < r; i++ {
		s := 0.0
		for j := 0; j < r; j++ {
			s += vb.At(i, j) * coef[j]
		}
		y[i] = s
	}
	// v = Bᵀ·y, normalised; w = B·v; z = A·w.
	v := k.matVec(sf.B, r, n, y, true)
	normalize(v)
	w := k.matVec(sf.B, r, n, v, false)
	z := k.matVec(sf.A, m, r, w, false)
	nz := normalize(z)
	t.Sigma = math.Abs(sf.Scale) * nz
	if sf.Scale < 0 {
		for i := range z {
			z[i] = -z[i]
		}
	}
	for i, x := range z {
		t.U[i] = float32(x) + 0 // + 0 turns −0 into +0
	}
	for j, x := range v {
		t.V[j] = float32(x) + 0
	}
	return t, nil
}

// smallSideFactor returns A·B (formed with float64 accumulation, rounded to float32) as the
// factor ΔW·I (n < m) or I·ΔW (m ≤ n) of rank min(m, n), with the same scale.
func smallSideFactor(sf ScaledFactor) ScaledFactor {
	m, n, r := sf.Rows, sf.Cols, sf.Rank
	w := make([]float32, m*n)
	row := make([]float64, n)
	for i := 0; i < m; i++ {
		for j := range row {
			row[j] = 0
		}
		for q := 0; q < r; q++ {
			a := float64(sf.A[i*r+q])
			if a == 0 {
				continue
			}
			bq := sf.B[q*n : q*n+n]
			for j, b := range bq {
				row[j] += a * float64(b)
			}
		}
		for j, v := range row {
			w[i*n+j] = float32(v)
		}
	}
	k := min(m, n)
	id := make([]float32, k*k)
	for i := 0; i < k; i++ {
		id[i*k+i] = 1
	}
	if m <= n {
		return ScaledFactor{Factor: Factor{Rows: m, Cols: n, Rank: m, A: id, B: w}, Scale: sf.Scale}
	}
	return ScaledFactor{Factor: Factor{Rows: m, Cols: n, Rank: n, A: w, B: id}, Scale: sf.Scale}
}

// choleskyMinPivot is the smallest squared pivot of G_A = L·Lᵀ, relative to the largest,
// for which the Cholesky route is trusted; below it A is (nearly) rank-deficient and the
// eigendecomposition route, which handles any rank, takes over.
const choleskyMinPivot = 1e-8

// choleskyTriplet is the fast route of [topTriplet] for full-rank A: with G_A = L·Lᵀ,
// Q_A = A·L⁻ᵀ has orthonormal columns and ΔW·ΔWᵀ = s²·Q_A (Lᵀ G_B L) Q_Aᵀ, so the top
// eigenvector e of the symmetric r×r matrix S = Lᵀ·G_B·L gives u = A·L⁻ᵀ·e (normalised), and
// then σ·v = ΔWᵀ·u = s·Bᵀ(Aᵀu), with Aᵀu = G_A·c/‖A·c‖ for c = L⁻ᵀ·e. One top eigenvector
// of one r×r matrix instead of two eigendecompositions and an SVD, and one pass over each
// factor after the Gram matrices. It reports false, leaving t untouched, when G_A is not
// safely positive definite.
func choleskyTriplet(sf ScaledFactor, k tripletKernels, ga, gb []float64, t *Triplet) bool {
	m, n, r := sf.Rows, sf.Cols, sf.Rank
	var c []float64
	ok := false
	if r >= lanczosMinRank {
		c, ok = lanczosTopCoef(ga, gb, r)
	}
	if !ok {
		c, ok = k.topCoef(ga, gb, r)
	}
	if !ok {
		return false
	}
	u := k.matVec(sf.A, m, r, c, false)
	nu := normalize(u)
	if nu == 0 {
		return false
	}
	// w = Aᵀ·u = G_A·c/‖A·c‖: the Gram matrix saves a pass over A.
	w := make([]float64, r)
	for i := range w {
		acc := 0.0
		for j, cj := range c {
			acc += ga[i*r+j] * cj
		}
		w[i] = acc / nu
	}
	v := k.matVec(sf.B, r, n, w, true)
	sigma := normalize(v)
	if sigma == 0 {
		return false
	}
	t.Sigma = math.Abs(sf.Scale) * sigma
	if sf.Scale < 0 {
		for i := range u {
			u[i] = -u[i]
		}
	}
	for i, x := range u {
		t.U[i] = float32(x) + 0 // + 0 turns −0 into +0
	}
	for j, x := range v {
		t.V[j] = float32(x) + 0
	}
	return true
}

// normalize scales x to unit length and returns its former norm.
func normalize(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	s = math.Sqrt(s)
	if s > 0 {
		for i := range x {
			x[i] /= s
		}
	}
	return s
}

// symSqrt returns the eigenvectors V (columns, by descending eigenvalue) and the square roots
// of the eigenvalues (negative rounding clipped to zero) of the symmetric r×r matrix g.
func symSqrt(g []float64, r int) (*mat.Dense, []float64, error) {
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(r, g), true) {
		return nil, nil, fmt.Errorf("w2w: rank-%d gram: %w: eigen decomposition did not converge", r, ErrUnsupported)
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	// gonum returns ascending eigenvalues; reverse to descending.
	V := mat.NewDense(r, r, nil)
	s := make([]float64, r)
	for j := 0; j < r; j++ {
		src := r - 1 - j
		s[j] = math.Sqrt(math.Max(vals[src], 0))
		for i := 0; i < r; i++ {
			V.Set(i, j, vecs.At(i, src))
		}
	}
	return V, s, nil
}

// gramOfColumns returns AᵀA (r×r, row-major, float64) for the row-major m×r matrix a, four
// rows at a time.
func gramOfColumns(a []float32, m, r int) []float64 {
	g := make([]float64, r*r)
	rows := make([]float64, 4*r)
	r0, r1, r2, r3 := rows[:r], rows[r:2*r], rows[2*r:3*r], rows[3*r:]
	i := 0
	for ; i+4 <= m; i += 4 {
		for k := 0; k < r; k++ {
			r0[k] = float64(a[i*r+k])
			r1[k] = float64(a[(i+1)*r+k])
			r2[k] = float64(a[(i+2)*r+k])
			r3[k] = float64(a[(i+3)*r+k])
		}
		for k := 0; k < r; k++ {
			a0, a1, a2, a3 := r0[k], r1[k], r2[k], r3[k]
			gk := g[k*r+k : k*r+r]
			x0, x1, x2, x3 := r0[k:r], r1[k:r], r2[k:r], r3[k:r]
			x1, x2, x3 = x1[:len(gk)], x2[:len(gk)], x3[:len(gk)]
			x0 = x0[:len(gk)]
			for l := range gk {
				gk[l] += a0*x0[l] + a1*x1[l] + a2*x2[l] + a3*x3[l]
			}
		}
	}
	for ; i < m; i++ {
		for k := 0; k < r; k++ {
			r0[k] = float64(a[i*r+k])
		}
		for k := 0; k < r; k++ {
			a0 := r0[k]
			for l := k; l < r; l++ {
				g[k*r+l] += a0 * r0[l]
			}
		}
	}
	mirror(g, r)
	return g
}

// gramOfRows returns B·Bᵀ (r×r, row-major, float64) for the row-major r×n matrix b, as the
// Gram of the columns of Bᵀ (transposed in blocks so each element is converted once).
func gramOfRows(b []float32, r, n int) []float64 {
	bt := make([]float32, n*r)
	for k := 0; k < r; k++ {
		row := b[k*n : k*n+n]
		for j, v := range row {
			bt[j*r+k] = v
		}
	}
	return gramOfColumns(bt, n, r)
}

// mirror copies the upper triangle of the r×r matrix g to the lower one.
func mirror(g []float64, r int) {
	for k := 0; k < r; k++ {
		for l := k + 1; l < r; l++ {
			g[l*r+k] = g[k*r+l]
		}
	}
}

// dot32 is a float32 dot product accumulated in float64 with four partial sums.
func dot32(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
		s2 += float64(x[i+2]) * float64(y[i+2])
		s3 += float64(x[i+3]) * float64(y[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3)
}
