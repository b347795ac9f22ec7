//go:build cgo && amd64

package w2w

// The kernels are in kernel_amd64.c.

// #cgo CFLAGS: -O3 -Wno-psabi
// #cgo LDFLAGS: -lm
// #include "kernel_amd64.h"
import "C"

import "github.com/imagegem/imagegem-go/internal/simd"

// Native kernel levels, as w2w_set_level reports them.
const (
	kernelGo     = 0
	kernelAVX2   = 1
	kernelAVX512 = 2
)

// cpuKernelLevel is the widest variant of the C factor kernels this CPU runs.
func cpuKernelLevel() int {
	switch {
	case simd.AVX512F && simd.AVX2 && simd.FMA:
		return kernelAVX512
	case simd.AVX2 && simd.FMA:
		return kernelAVX2
	}
	return kernelGo
}

// nativeKernelLevel is the variant of the C factor kernels in use from start-up.
var nativeKernelLevel = setKernelLevel(kernelAVX512)

// setKernelLevel selects the C variant no wider than the CPU runs (tests run every variant
// the CPU allows) and returns the level in effect; kernelGo makes the C entry points fail
// over to the Go kernels.
func setKernelLevel(level int) int {
	level = max(min(level, cpuKernelLevel()), kernelGo)
	return int(C.w2w_set_level(C.int(level)))
}

// nativeKernels returns the C factor kernels when the CPU has AVX2+FMA or AVX-512, and the
// Go kernels otherwise.
func nativeKernels() (tripletKernels, string) {
	switch nativeKernelLevel {
	case kernelAVX512:
		return cKernels, "avx512"
	case kernelAVX2:
		return cKernels, "avx2"
	}
	return goKernels, "go"
}

var cKernels = tripletKernels{gramCols: cGramCols, gramRows: cGramRows, matVec: cMatVec, topCoef: cTopCoef}

// cTopCoef is [cholTopCoef] in C (plain C, no vector variants: the r×r step is a few tens of
// thousands of operations). It falls back to Go when memory for its buffers runs out.
func cTopCoef(ga, gb []float64, r int) ([]float64, bool) {
	if r <= 0 || len(ga) < r*r || len(gb) < r*r {
		return cholTopCoef(ga, gb, r)
	}
	c := make([]float64, r)
	switch C.w2w_top_coef((*C.double)(&ga[0]), (*C.double)(&gb[0]), C.int64_t(r), C.double(choleskyMinPivot), (*C.double)(&c[0])) {
	case 0:
		return c, true
	case 1:
		return nil, false
	}
	return cholTopCoef(ga, gb, r)
}

// cGramCols returns AᵀA (r×r) for row-major A (m×r), falling back to Go when the C side
// cannot run (no vector unit, or no memory for its buffers).
func cGramCols(a []float32, m, r int) []float64 {
	g := make([]float64, r*r)
	if len(a) < m*r || m*r == 0 || C.w2w_gram_cols((*C.float)(&a[0]), C.int64_t(m), C.int64_t(r), (*C.double)(&g[0])) != 0 {
		return gramOfColumns(a, m, r)
	}
	return g
}

// cGramRows returns B·Bᵀ (r×r) for row-major B (r×n).
func cGramRows(b []float32, r, n int) []float64 {
	g := make([]float64, r*r)
	if len(b) < r*n || r*n == 0 || C.w2w_gram_rows((*C.float)(&b[0]), C.int64_t(r), C.int64_t(n), (*C.double)(&g[0])) != 0 {
		return gramOfRows(b, r, n)
	}
	return g
}

// cCrossBlock adds x_i·y_j (float32 products summed in float32 per vector lane over slices of
// 1,024 columns, the lanes in float64) to out[i·ldo+j] for i < ni, j < mj over k columns;
// rows of x and y are ldx and ldy apart. It reports false when the C kernels do not run.
func cCrossBlock(x []float32, ldx, ni int, y []float32, ldy, mj, k int, out []float64, ldo int) bool {
	if nativeKernelLevel == kernelGo || ni <= 0 || mj <= 0 || k <= 0 ||
		len(x) < (ni-1)*ldx+k || len(y) < (mj-1)*ldy+k || len(out) < (ni-1)*ldo+mj {
		return false
	}
	return C.w2w_cross((*C.float)(&x[0]), C.int64_t(ldx), C.int64_t(ni), (*C.float)(&y[0]), C.int64_t(ldy),
		C.int64_t(mj), C.int64_t(k), (*C.double)(&out[0]), C.int64_t(ldo)) == 0
}

// cCombineBlock sets columns c0..c1−1 of out = C·X (C m×n float64, X n×d and out m×d
// float32, row-major), accumulating in float64 as [CPU.Combine] does. It reports false when
// the C kernels do not run.
func cCombineBlock(coef []float64, m, n int, x []float32, d, c0, c1 int, out []float32) bool {
	if nativeKernelLevel == kernelGo || m <= 0 || n <= 0 || c1 <= c0 || c1 > d ||
		len(coef) < m*n || len(x) < n*d || len(out) < m*d {
		return false
	}
	return C.w2w_combine((*C.double)(&coef[0]), C.int64_t(m), C.int64_t(n), (*C.float)(&x[0]), C.int64_t(d),
		C.int64_t(c0), C.int64_t(c1), (*C.float)(&out[0])) == 0
}

// cCentreBlock sets mu to the means of columns c0..c1−1 of the row-major n×d matrix x and
// subtracts them in place, as [goCentreBlock] does and with the same result bit for bit (each
// column is summed in row order, one column per vector lane). It reports false when the C
// kernels do not run.
func cCentreBlock(x []float32, n, d, c0, c1 int, mu []float64) bool {
	if nativeKernelLevel == kernelGo || n <= 0 || c1 <= c0 || len(x) < n*d || c1 > d || len(mu) < c1-c0 {
		return false
	}
	return C.w2w_centre((*C.float)(&x[0]), C.int64_t(n), C.int64_t(d), C.int64_t(c0), C.int64_t(c1), (*C.double)(&mu[0])) == 0
}

// cMatVec computes A·x or Aᵀ·x for the row-major rows×cols matrix a.
func cMatVec(a []float32, rows, cols int, x []float64, trans bool) []float64 {
	ny, nx := rows, cols
	if trans {
		ny, nx = cols, rows
	}
	if len(a) < rows*cols || rows*cols == 0 || len(x) < nx {
		return matVec64(a, rows, cols, x, trans)
	}
	y := make([]float64, ny)
	t := C.int(0)
	if trans {
		t = 1
	}
	if C.w2w_matvec((*C.float)(&a[0]), C.int64_t(rows), C.int64_t(cols), (*C.double)(&x[0]), (*C.double)(&y[0]), t) != 0 {
		return matVec64(a, rows, cols, x, trans)
	}
	return y
}
