package w2w

import (
	"context"
	"sync"
)

// ScaledFactor is a matrix Scale·A·B given by its thin factors, the input of the rank-1
// reduction.
type ScaledFactor struct {
	Factor
	Scale float64
}

// Triplet is the top singular triplet of a matrix M: M ≈ Sigma·U·Vᵀ with unit U and V.
// Energy is ‖M‖²_F, so Energy − Sigma² is what the rank-1 truncation discards.
type Triplet struct {
	Sigma  float64
	Energy float64
	U, V   []float32
}

// Backend runs the heavy linear algebra of the package. The CPU backend ([CPU]) is the
// default and the reference; an accelerated backend must return the same results to 1e-4
// relative. Implementations must be safe for concurrent use and stop promptly when ctx is
// cancelled.
type Backend interface {
	// Name identifies the backend ("cpu", "cuda").
	Name() string
	// TopTriplets computes out[i], the top singular triplet of in[i], for every i, without
	// forming the product: the cost grows with (Rows+Cols)·Rank², not Rows·Cols. Signs are
	// left as computed; callers canonicalise them.
	TopTriplets(ctx context.Context, in []ScaledFactor, out []Triplet) error
	// Flatten writes the vectors of rs under the rank-1 layout lay into dst (len(rs)×lay.Dim,
	// row-major) with the layout's sign references applied, as [Layout.Flatten] does for one
	// LoRA, and returns each LoRA's module mask.
	Flatten(ctx context.Context, lay *Layout, rs []*Reduced, dst []float32) ([][]bool, error)
	// Gram computes g = X·Xᵀ for the row-major n×d matrix x; g is n×n row-major.
	Gram(ctx context.Context, x []float32, n, d int, g []float64) error
	// MulT computes out = X·Bᵀ for row-major X (n×d) and B (m×d); out is n×m row-major.
	MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error
	// Combine computes out = C·X for row-major C (m×n) and X (n×d); out is m×d row-major.
	Combine(ctx context.Context, c []float64, m int, x []float32, n, d int, out []float32) error
}

// Implementation notes on the kernels behind the backends.
//
// OpenBLAS (build tag openblas) runs the Gram matrices, projections and products of a PCA on
// OpenBLAS's float32 kernels: cblas_ssyrk in blocks of 32,768 columns accumulated in
// float64, cblas_sgemm, and LAPACK's dsyevr for the top m eigenpairs only; pure Go cannot
// reach BLAS speed for the PCA of a large population (BENCHMARKS.md). OpenBLAS 0.3.21 picks
// its kernels from the CPU model and falls back to generic SSE3 kernels on models it does
// not know; the backend then selects the AVX-512 or AVX2 set the CPU has
// (OPENBLAS_CORETYPE, when set, decides instead).
//
// The rank-1 reduction's factor products (the r×r Gram matrices AᵀA and B·Bᵀ and the
// matrix-vector products) run in C through cgo on amd64, in AVX-512 or AVX2+FMA variants
// chosen at start-up from the CPU's features, in float64 arithmetic over the float32
// factors: every product is exact, so they differ from the pure-Go kernels (the reference,
// used by builds without cgo and on other architectures) only in the order of the sums.
// Each module is computed by one goroutine in a fixed order, so results do not depend on
// the number of workers. The r×r step needs only the top eigenvector of one symmetric
// matrix: Householder tridiagonalisation, Sturm bisection for the largest eigenvalue and
// inverse iteration, instead of a full eigendecomposition. The same C code serves the CPU
// backend's PCA: centring (bit-identical to Go), the Gram matrix and X·Bᵀ (float32 products
// summed in float32 per vector lane over 1,024 columns, the lanes in float64, as the Go
// kernels sum runs of 256) and C·X (float64 accumulation); for a large population only the
// top m eigenpairs of the Gram matrix are computed (tridiagonalisation, bisection, inverse
// iteration), as LAPACK's dsyevr does for the OpenBLAS backend.

var (
	backendMu      sync.RWMutex
	defaultBackend Backend = CPU{}
)

// SetDefaultBackend makes b the backend used when options leave theirs nil (nil restores the
// CPU backend). An accelerated package calls it when its device is present.
func SetDefaultBackend(b Backend) {
	backendMu.Lock()
	defer backendMu.Unlock()
	if b == nil {
		b = CPU{}
	}
	defaultBackend = b
}

// DefaultBackend returns the backend used when options leave theirs nil.
func DefaultBackend() Backend {
	backendMu.RLock()
	defer backendMu.RUnlock()
	return defaultBackend
}

func pickBackend(b Backend) Backend {
	if b != nil {
		return b
	}
	return DefaultBackend()
}

// FlattenOptions configures [FlattenAll].
type FlattenOptions struct {
	// Backend runs the flattening; nil means [DefaultBackend].
	Backend Backend
}

// FlattenAll flattens a population under a rank-1 layout and returns the n×Dim matrix and
// the masks.
func FlattenAll(ctx context.Context, lay *Layout, rs []*Reduced, opts *FlattenOptions) ([]float32, [][]bool, error) {
	x := make([]float32, len(rs)*lay.Dim)
	masks, err := opts.resolve().Backend.Flatten(ctx, lay, rs, x)
	if err != nil {
		return nil, nil, err
	}
	return x, masks, nil
}
