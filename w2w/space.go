package w2w

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"gonum.org/v1/gonum/mat"
)

// PCAMethod chooses how [BuildSpace] finds the principal components.
type PCAMethod string

// PCA methods.
const (
	// PCAAuto takes the Gram route when the vectors are few next to their length (n ≤ d/4 or
	// n ≤ 2048) and the randomized route otherwise.
	PCAAuto PCAMethod = ""
	// PCAGram eigendecomposes the n×n Gram matrix of the centred vectors: exact, O(n²·d).
	PCAGram PCAMethod = "gram"
	// PCARandomized is the randomized range finder with power iterations of Halko, Martinsson
	// and Tropp (SIAM Review 53(2), 2011, Algorithms 4.4 and 5.1): O(n·d·(m+p)·(2q+2)).
	PCARandomized PCAMethod = "randomized"
)

// Defaults of [SpaceOptions].
const (
	// DefaultComponents is m when unset; weights2weights keeps the top principal components
	// of its identity LoRAs, and 100 keeps an SD1.5-sized space of 2,000 LoRAs small.
	DefaultComponents = 100
	// defaultOversample is p, the extra random vectors of the randomized range finder (Halko
	// et al. recommend 5–10).
	defaultOversample = 10
	// defaultPowerIterations is q of the randomized method (Halko et al. §4.5: 1–2 suffice
	// when the spectrum decays).
	defaultPowerIterations = 2
	// gramAutoMaxN and gramAutoRatio decide PCAAuto: Gram when n ≤ gramAutoMaxN or
	// n·gramAutoRatio ≤ d.
	gramAutoMaxN  = 2048
	gramAutoRatio = 4
	// relEigenFloor drops components whose eigenvalue is below this fraction of the largest:
	// they are rounding noise of a rank-deficient population.
	relEigenFloor = 1e-10
)

// SpaceOptions configures [BuildSpace]. The zero value keeps DefaultComponents components of
// the mean-centred vectors, chosen by PCAAuto, on the default backend.
type SpaceOptions struct {
	// Components is m, the number of principal components kept (at most n−1).
	Components int
	// Standardize divides each coordinate by its standard deviation over the population
	// after centring, as weights2weights does before its PCA.
	Standardize bool
	Method      PCAMethod
	// Oversample and PowerIterations tune PCARandomized (0 means 10 and 2).
	Oversample      int
	PowerIterations int
	// Seed makes PCARandomized deterministic.
	Seed uint64
	// Backend runs the Gram matrices and products; nil means [DefaultBackend].
	Backend Backend
	// Overwrite lets BuildSpace centre (and scale) x in place instead of copying it, which
	// halves the memory of a large population. x is not usable afterwards.
	Overwrite bool
	// Progress, when set, is called at the start of each stage: "centre", then "gram",
	// "eigen", "components" (PCAGram) or "sketch", "power iteration" (Done of Total),
	// "project", "components" (PCARandomized).
	Progress func(Progress)
}

// Space is a weights2weights space (paper §4.3): the mean (and optional per-coordinate
// standard deviation) of a population of flattened LoRAs and its top principal components.
type Space struct {
	Layout *Layout
	Mean   []float32
	// Std is nil unless the space was standardised.
	Std []float32
	// Components is m×d row-major with orthonormal rows, by decreasing singular value.
	Components []float32
	// Singular holds the singular values of the centred (standardised) data matrix.
	Singular []float64
	// N is the number of vectors the space was built from.
	N      int
	Method PCAMethod

	// mapped is the file whose mapping holds Components (LoadSpace), closed by Close.
	mapped *safetensors.File
}

// M returns the number of components.
func (s *Space) M() int { return len(s.Singular) }

// Dim returns the length of the vectors.
func (s *Space) Dim() int { return len(s.Mean) }

func (o *SpaceOptions) progress(stage string) {
	progress.Func(o.Progress).Report(Progress{Stage: stage})
}

// BuildSpace computes the space of n vectors x (n×d row-major, flattened under lay).
func BuildSpace(ctx context.Context, lay *Layout, x []float32, n int, opts *SpaceOptions) (*Space, error) {
	if lay == nil || n < 2 || len(x) != n*lay.Dim {
		d := 0
		if lay != nil {
			d = lay.Dim
		}
		return nil, fmt.Errorf("w2w: space: %w: need n ≥ 2 vectors of the layout's length %d, got %d values for n=%d", ErrLayout, d, len(x), n)
	}
	d := lay.Dim
	o, err := opts.resolve(n, d)
	if err != nil {
		return nil, err
	}
	be, m, method := o.Backend, o.Components, o.Method
	o.progress("centre")
	xc := x
	if !o.Overwrite {
		xc = append([]float32(nil), x...)
	}
	sp := &Space{Layout: lay, N: n, Method: method}
	sp.Mean, sp.Std, err = centre(ctx, xc, n, d, runtime.GOMAXPROCS(0), o.Standardize)
	if err != nil {
		return nil, fmt.Errorf("w2w: space: %w", err)
	}
	switch method {
	case PCAGram:
		err = sp.gramPCA(ctx, be, xc, n, d, m, &o)
	default:
		err = sp.randomizedPCA(ctx, be, xc, n, d, m, &o)
	}
	if err != nil {
		return nil, fmt.Errorf("w2w: space (%s, %s backend): %w", method, be.Name(), err)
	}
	return sp, nil
}

// centreColBlock is the column block of [centre]: one block of every row (2,000 rows × 1,024
// columns × 4 bytes = 8 MiB) stays in cache between the passes over it, so the data is read
// from memory once and written once.
const centreColBlock = 1024

// centre subtracts the column means (float64 accumulation) and, when asked, divides by the
// column standard deviations (n−1 denominator; constant columns keep scale 1). Column blocks
// run in parallel on w goroutines; each column is summed in row order whatever w is, so the
// result does not depend on it.
func centre(ctx context.Context, x []float32, n, d, w int, standardize bool) (mean, std []float32, err error) {
	mean = make([]float32, d)
	if standardize {
		std = make([]float32, d)
	}
	blocks := (d + centreColBlock - 1) / centreColBlock
	err = parallelFor(ctx, blocks, w, func(b int) error {
		c0 := b * centreColBlock
		c1 := min(c0+centreColBlock, d)
		mu := make([]float64, c1-c0)
		if !standardize && cCentreBlock(x, n, d, c0, c1, mu) {
			for j := range mu {
				mean[c0+j] = float32(mu[j])
			}
			return nil
		}
		for i := 0; i < n; i++ {
			row := x[i*d+c0 : i*d+c1]
			row = row[:len(mu)]
			for j, v := range row {
				mu[j] += float64(v)
			}
		}
		for j := range mu {
			mu[j] /= float64(n)
			mean[c0+j] = float32(mu[j])
		}
		var ss []float64
		if standardize {
			ss = make([]float64, len(mu))
		}
		for i := 0; i < n; i++ {
			row := x[i*d+c0 : i*d+c1]
			row = row[:len(mu)]
			for j, v := range row {
				c := float64(v) - mu[j]
				row[j] = float32(c)
				if ss != nil {
					ss[j] += c * c
				}
			}
		}
		if !standardize {
			return nil
		}
		sd := std[c0:c1]
		for j := range ss {
			s := math.Sqrt(ss[j] / float64(n-1))
			if s == 0 || math.IsNaN(s) {
				s = 1
			}
			sd[j] = float32(s)
		}
		for i := 0; i < n; i++ {
			row := x[i*d+c0 : i*d+c1]
			row = row[:len(sd)]
			for j := range row {
				row[j] /= sd[j]
			}
		}
		return nil
	})
	return mean, std, err
}

// eigenTopper is implemented by backends with a faster partial symmetric eigensolver.
type eigenTopper interface {
	topEigen(g []float64, n, k int) ([]float64, *mat.Dense, error)
}

// topEigen returns the top k eigenpairs (descending) of the symmetric n×n matrix g, dropping
// eigenvalues below relEigenFloor of the largest.
func topEigen(g []float64, n, k int) ([]float64, *mat.Dense, error) {
	if n >= partialEigenMinN && k*partialEigenRatio <= n {
		lam, E := topEigenPartial(g, n, k)
		return lam, E, nil
	}
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, g), true) {
		return nil, nil, fmt.Errorf("%w: eigen decomposition of the %dx%d gram matrix did not converge", ErrUnsupported, n, n)
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	top := vals[n-1]
	var lam []float64
	for j := 0; j < k && j < n; j++ {
		v := vals[n-1-j]
		if v <= relEigenFloor*top || v <= 0 {
			break
		}
		lam = append(lam, v)
	}
	E := mat.NewDense(n, max(len(lam), 1), nil)
	for j := range lam {
		for i := 0; i < n; i++ {
			E.Set(i, j, vecs.At(i, n-1-j))
		}
	}
	return lam, E, nil
}

// gramPCA: G = Xc·Xcᵀ = E Λ Eᵀ, components V_k = Xcᵀ e_k / √λ_k, singular values √λ_k.
func (s *Space) gramPCA(ctx context.Context, be Backend, xc []float32, n, d, m int, o *SpaceOptions) error {
	o.progress("gram")
	g := make([]float64, n*n)
	if err := be.Gram(ctx, xc, n, d, g); err != nil {
		return err
	}
	o.progress("eigen")
	eig := topEigen
	if te, ok := be.(eigenTopper); ok {
		eig = te.topEigen
	}
	lam, E, err := eig(g, n, m)
	if err != nil {
		return err
	}
	if len(lam) == 0 {
		return fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	return s.componentsFrom(ctx, be, lam, E, xc, n, d, o)
}

// componentsFrom sets Components = diag(1/√λ)·Eᵀ·X and Singular = √λ.
func (s *Space) componentsFrom(ctx context.Context, be Backend, lam []float64, E *mat.Dense, x []float32, n, d int, o *SpaceOptions) error {
	o.progress("components")
	k := len(lam)
	coef := make([]float64, k*n)
	s.Singular = make([]float64, k)
	for j := 0; j < k; j++ {
		sv := math.Sqrt(lam[j])
		s.Singular[j] = sv
		for i := 0; i < n; i++ {
			coef[j*n+i] = E.At(i, j) / sv
		}
	}
	s.Components = make([]float32, k*d)
	return be.Combine(ctx, coef, k, x, n, d, s.Components)
}

// randomizedPCA follows Halko et al.: Y = Xc·Ω, q rounds of Y ← Xc·(Xcᵀ·Y) with
// re-orthonormalisation, Q = orth(Y), B = Qᵀ·Xc, and the top components from B·Bᵀ.
func (s *Space) randomizedPCA(ctx context.Context, be Backend, xc []float32, n, d, m int, o *SpaceOptions) error {
	p, q := o.Oversample, o.PowerIterations
	l := min(m+p, n)
	rng := rand.New(rand.NewPCG(o.Seed, 0x77327732))
	o.progress("sketch")
	omega := make([]float32, l*d)
	for i := range omega {
		omega[i] = float32(rng.NormFloat64())
	}
	y := make([]float64, n*l)
	if err := be.MulT(ctx, xc, n, d, omega, l, y); err != nil {
		return err
	}
	Q := orthonormalColumns(y, n, l)
	for it := 0; it < q; it++ {
		progress.Func(o.Progress).Report(Progress{Stage: "power iteration", Done: it + 1, Total: q})
		// Z = Qᵀ·Xc (l×d), orthonormalised by rows, then Y = Xc·Zᵀ.
		z, err := combineT(ctx, be, Q, n, l, xc, d)
		if err != nil {
			return err
		}
		zn, err := orthonormalRows(ctx, be, z, l, d)
		if err != nil {
			return err
		}
		if err := be.MulT(ctx, xc, n, d, zn, l, y); err != nil {
			return err
		}
		Q = orthonormalColumns(y, n, l)
	}
	o.progress("project")
	b, err := combineT(ctx, be, Q, n, l, xc, d)
	if err != nil {
		return err
	}
	bb := make([]float64, l*l)
	if err := be.Gram(ctx, b, l, d, bb); err != nil {
		return err
	}
	lam, E, err := topEigen(bb, l, m)
	if err != nil {
		return err
	}
	if len(lam) == 0 {
		return fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	return s.componentsFrom(ctx, be, lam, E, b, l, d, o)
}

// combineT returns Qᵀ·X (l×d) for Q n×l (float64, row-major) and X n×d.
func combineT(ctx context.Context, be Backend, Q []float64, n, l int, x []float32, d int) ([]float32, error) {
	qt := make([]float64, l*n)
	for i := 0; i < n; i++ {
		for j := 0; j < l; j++ {
			qt[j*n+i] = Q[i*l+j]
		}
	}
	out := make([]float32, l*d)
	return out, be.Combine(ctx, qt, l, x, n, d, out)
}

// orthonormalColumns returns an orthonormal basis (n×l, row-major) of the columns of y by a
// thin QR factorisation.
func orthonormalColumns(y []float64, n, l int) []float64 {
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, l, append([]float64(nil), y...)))
	var Q mat.Dense
	qr.QTo(&Q)
	out := make([]float64, n*l)
	for i := 0; i < n; i++ {
		for j := 0; j < l; j++ {
			out[i*l+j] = Q.At(i, j)
		}
	}
	return out
}

// orthonormalRows returns rows spanning the rows of z (l×d) with orthonormal rows, through
// the eigendecomposition of z·zᵀ; rows beyond the numerical rank are zero.
func orthonormalRows(ctx context.Context, be Backend, z []float32, l, d int) ([]float32, error) {
	g := make([]float64, l*l)
	if err := be.Gram(ctx, z, l, d, g); err != nil {
		return nil, err
	}
	lam, E, err := topEigen(g, l, l)
	if err != nil {
		return nil, err
	}
	coef := make([]float64, l*l)
	for j := range lam {
		sv := math.Sqrt(lam[j])
		for i := 0; i < l; i++ {
			coef[j*l+i] = E.At(i, j) / sv
		}
	}
	out := make([]float32, l*d)
	return out, be.Combine(ctx, coef, l, z, l, d, out)
}

// prepare returns (x − mean)/std for n vectors, as float32 rows.
func (s *Space) prepare(x []float32, n int) ([]float32, error) {
	d := s.Dim()
	if len(x) != n*d {
		return nil, fmt.Errorf("w2w: space: %w: %d values for %d vectors of length %d", ErrLayout, len(x), n, d)
	}
	out := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := x[i*d+j] - s.Mean[j]
			if s.Std != nil {
				v /= s.Std[j]
			}
			out[i*d+j] = v
		}
	}
	return out, nil
}

// ProjectOptions configures [Space.Project].
type ProjectOptions struct {
	// Backend runs the products; nil means [DefaultBackend].
	Backend Backend
}

// Project returns the m coefficients of each of n vectors (n×m row-major):
// c_k = V_k·((x − mean)/std).
func (s *Space) Project(ctx context.Context, x []float32, n int, opts *ProjectOptions) ([]float64, error) {
	be := opts.resolve().Backend
	xc, err := s.prepare(x, n)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n*s.M())
	if err := be.MulT(ctx, xc, n, s.Dim(), s.Components, s.M(), out); err != nil {
		return nil, fmt.Errorf("w2w: project: %w", err)
	}
	return out, nil
}

// BackProject maps m coefficients back to a flattened vector: mean + std⊙(Σ c_k V_k).
func (s *Space) BackProject(coef []float64) ([]float32, error) {
	if len(coef) != s.M() {
		return nil, fmt.Errorf("w2w: back-project: %w: %d coefficients for %d components", ErrLayout, len(coef), s.M())
	}
	d := s.Dim()
	out := s.combine(coef)
	for j := 0; j < d; j++ {
		if s.Std != nil {
			out[j] *= s.Std[j]
		}
		out[j] += s.Mean[j]
	}
	return out, nil
}

// combine returns Σ c_k V_k (in standardised units).
func (s *Space) combine(coef []float64) []float32 {
	d := s.Dim()
	acc := make([]float64, d)
	for k, c := range coef {
		if c == 0 {
			continue
		}
		row := s.Components[k*d : k*d+d]
		for j, v := range row {
			acc[j] += c * float64(v)
		}
	}
	out := make([]float32, d)
	for j, v := range acc {
		out[j] = float32(v)
	}
	return out
}
