//go:build openblas && cgo

package w2w

// #cgo LDFLAGS: -lopenblas
// #include <stddef.h>
// #include <cblas.h>
// // LAPACK's dsyevr (Fortran interface, shipped inside libopenblas; LP64 integers; the
// // trailing arguments are the hidden lengths of the character arguments).
// void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
//     const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
//     const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
//     double *work, const int *lwork, int *iwork, const int *liwork, int *info,
//     size_t, size_t, size_t);
import "C"

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// OpenBLAS is the CPU backend with its Gram matrices and products on OpenBLAS's float32
// kernels (cblas_ssyrk, cblas_sgemm, cblas_sgemv), built with the openblas tag (Debian:
// libopenblas-dev). The rank-1 reduction runs the same algorithm as [CPU] with the factor
// Gram matrices and matrix-vector products on OpenBLAS. Building with the tag makes it the
// default backend.
type OpenBLAS struct {
	CPU
}

// openblasCore names the OpenBLAS kernel set in use (openblas_get_corename) after
// [retargetOpenBLAS].
var openblasCore string

func init() {
	retargetOpenBLAS()
	openblasCore = C.GoString(C.openblas_get_corename())
	SetDefaultBackend(OpenBLAS{})
}

// openblasColChunk is the column block of [OpenBLAS.Gram]: each block's float32 Gram matrix
// is added into the float64 result, so rounding grows with the block, not with d.
const openblasColChunk = 32768

// Name implements [Backend].
func (OpenBLAS) Name() string { return "cpu+openblas" }

var blasKernels = tripletKernels{gramCols: blasGramCols, gramRows: blasGramRows, matVec: blasMatVec, topCoef: cholTopCoef}

// TopTriplets implements [Backend]. Where the C factor kernels run (AVX2+FMA or AVX-512),
// it is the CPU backend's: they form every product exactly in float64 and measured faster
// than OpenBLAS's float32 ssyrk on these r×r Gram matrices. Otherwise the Gram matrices and
// matrix-vector products go to OpenBLAS; the per-module products are too small for
// OpenBLAS's threads, whose synchronisation costs more than the work, so OpenBLAS runs
// single-threaded during the call and modules run in parallel on Go's workers instead; the
// previous thread count is restored afterwards. Do not run that route concurrently with the
// large products of a PCA.
func (b OpenBLAS) TopTriplets(ctx context.Context, in []ScaledFactor, out []Triplet) error {
	if cpuKernelName != "go" {
		return b.CPU.TopTriplets(ctx, in, out)
	}
	if len(out) != len(in) {
		return fmt.Errorf("w2w: top triplets: %w: %d inputs, %d outputs", ErrLayout, len(in), len(out))
	}
	prev := C.openblas_get_num_threads()
	C.openblas_set_num_threads(1)
	defer C.openblas_set_num_threads(prev)
	return parallelFor(ctx, len(in), b.workers(), func(i int) error {
		t, err := topTriplet(in[i], blasKernels)
		out[i] = t
		return err
	})
}

// syrkTo64 widens the upper triangle of a float32 r×r ssyrk result to a full float64 matrix.
func syrkTo64(tmp []float32, r int) []float64 {
	g := make([]float64, r*r)
	for i := 0; i < r; i++ {
		for j := i; j < r; j++ {
			g[i*r+j] = float64(tmp[i*r+j])
			g[j*r+i] = g[i*r+j]
		}
	}
	return g
}

// blasGramCols returns AᵀA for row-major A (m×r).
func blasGramCols(a []float32, m, r int) []float64 {
	tmp := make([]float32, r*r)
	C.cblas_ssyrk(C.CblasRowMajor, C.CblasUpper, C.CblasTrans, C.blasint(r), C.blasint(m),
		1, (*C.float)(&a[0]), C.blasint(r), 0, (*C.float)(&tmp[0]), C.blasint(r))
	return syrkTo64(tmp, r)
}

// blasGramRows returns B·Bᵀ for row-major B (r×n).
func blasGramRows(b []float32, r, n int) []float64 {
	tmp := make([]float32, r*r)
	C.cblas_ssyrk(C.CblasRowMajor, C.CblasUpper, C.CblasNoTrans, C.blasint(r), C.blasint(n),
		1, (*C.float)(&b[0]), C.blasint(n), 0, (*C.float)(&tmp[0]), C.blasint(r))
	return syrkTo64(tmp, r)
}

// blasMatVec computes A·x or Aᵀ·x with cblas_sgemv.
func blasMatVec(a []float32, rows, cols int, x []float64, trans bool) []float64 {
	nOut, tr := rows, C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if trans {
		nOut, tr = cols, C.CblasTrans
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	y32 := make([]float32, nOut)
	C.cblas_sgemv(C.CblasRowMajor, tr, C.blasint(rows), C.blasint(cols), 1, (*C.float)(&a[0]), C.blasint(cols),
		(*C.float)(&x32[0]), 1, 0, (*C.float)(&y32[0]), 1)
	y := make([]float64, nOut)
	for i, v := range y32 {
		y[i] = float64(v)
	}
	return y
}

// Gram implements [Backend].
func (OpenBLAS) Gram(ctx context.Context, x []float32, n, d int, g []float64) error {
	return blasGram(ctx, x, n, d, g, openblasColChunk)
}

// blasGram computes g = X·Xᵀ with one cblas_ssyrk per block of chunk columns, each block's
// float32 result added into g in float64.
func blasGram(ctx context.Context, x []float32, n, d int, g []float64, chunk int) error {
	if len(x) != n*d || len(g) != n*n {
		return fmt.Errorf("w2w: gram: %w: x has %d values for %dx%d, g %d for %dx%d", ErrLayout, len(x), n, d, len(g), n, n)
	}
	for i := range g {
		g[i] = 0
	}
	if n == 0 || d == 0 {
		return nil
	}
	tmp := make([]float32, n*n)
	for c0 := 0; c0 < d; c0 += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(chunk, d-c0)
		C.cblas_ssyrk(C.CblasRowMajor, C.CblasLower, C.CblasNoTrans, C.blasint(n), C.blasint(k),
			1, (*C.float)(&x[c0]), C.blasint(d), 0, (*C.float)(&tmp[0]), C.blasint(n))
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				g[i*n+j] += float64(tmp[i*n+j])
			}
		}
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			g[i*n+j] = g[j*n+i]
		}
	}
	return nil
}

// MulT implements [Backend].
func (OpenBLAS) MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	if len(x) != n*d || len(b) != m*d || len(out) != n*m {
		return fmt.Errorf("w2w: mult: %w: x %d values for %dx%d, b %d for %dx%d, out %d", ErrLayout, len(x), n, d, len(b), m, d, len(out))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n == 0 || m == 0 || d == 0 {
		for i := range out {
			out[i] = 0
		}
		return nil
	}
	tmp := make([]float32, n*m)
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans, C.blasint(n), C.blasint(m), C.blasint(d),
		1, (*C.float)(&x[0]), C.blasint(d), (*C.float)(&b[0]), C.blasint(d), 0, (*C.float)(&tmp[0]), C.blasint(m))
	for i, v := range tmp {
		out[i] = float64(v)
	}
	return nil
}

// Combine implements [Backend].
func (OpenBLAS) Combine(ctx context.Context, coef []float64, m int, x []float32, n, d int, out []float32) error {
	if len(coef) != m*n || len(x) != n*d || len(out) != m*d {
		return fmt.Errorf("w2w: combine: %w: coef %d values for %dx%d, x %d for %dx%d, out %d", ErrLayout, len(coef), m, n, len(x), n, d, len(out))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if m == 0 || n == 0 || d == 0 {
		for i := range out {
			out[i] = 0
		}
		return nil
	}
	c32 := make([]float32, len(coef))
	for i, v := range coef {
		c32[i] = float32(v)
	}
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasNoTrans, C.blasint(m), C.blasint(d), C.blasint(n),
		1, (*C.float)(&c32[0]), C.blasint(n), (*C.float)(&x[0]), C.blasint(d), 0, (*C.float)(&out[0]), C.blasint(d))
	return nil
}

// topEigen returns the top k eigenpairs of the symmetric n×n matrix g (descending) with
// LAPACK's dsyevr, which computes only the eigenvectors asked for (gonum's EigenSym computes
// all n). Eigenvalues below relEigenFloor of the largest are dropped, as [topEigen] does.
func (OpenBLAS) topEigen(g []float64, n, k int) ([]float64, *mat.Dense, error) {
	k = min(k, n)
	a := append([]float64(nil), g...) // symmetric: row-major is column-major
	jobz, rng, uplo := C.char('V'), C.char('I'), C.char('U')
	cn, lda, il, iu, ldz := C.int(n), C.int(n), C.int(n-k+1), C.int(n), C.int(n)
	var vl, vu, abstol C.double
	var found, info C.int
	w := make([]float64, n)
	z := make([]float64, n*k)
	isuppz := make([]C.int, 2*k)
	// Workspace query, then the call.
	var wq C.double
	var iwq C.int
	lw, liw := C.int(-1), C.int(-1)
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(&a[0]), &lda, &vl, &vu, &il, &iu, &abstol, &found,
		(*C.double)(&w[0]), (*C.double)(&z[0]), &ldz, &isuppz[0], &wq, &lw, &iwq, &liw, &info, 1, 1, 1)
	if info != 0 {
		return nil, nil, fmt.Errorf("%w: dsyevr workspace query: info %d", ErrUnsupported, info)
	}
	lw, liw = C.int(wq), iwq
	work := make([]float64, int(lw))
	iwork := make([]C.int, int(liw))
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(&a[0]), &lda, &vl, &vu, &il, &iu, &abstol, &found,
		(*C.double)(&w[0]), (*C.double)(&z[0]), &ldz, &isuppz[0], (*C.double)(&work[0]), &lw, &iwork[0], &liw, &info, 1, 1, 1)
	if info != 0 || int(found) != k {
		return nil, nil, fmt.Errorf("%w: dsyevr: info %d, %d of %d eigenpairs", ErrUnsupported, info, found, k)
	}
	top := w[k-1]
	var lam []float64
	for j := 0; j < k; j++ {
		v := w[k-1-j]
		if v <= relEigenFloor*top || v <= 0 {
			break
		}
		lam = append(lam, v)
	}
	E := mat.NewDense(n, max(len(lam), 1), nil)
	for j := range lam {
		col := z[(k-1-j)*n : (k-j)*n]
		for i := 0; i < n; i++ {
			E.Set(i, j, col[i])
		}
	}
	return lam, E, nil
}

// core returns the OpenBLAS kernel set in use ("SkylakeX", "Haswell", …).
func (OpenBLAS) core() string { return openblasCore }
