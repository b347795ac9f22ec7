//go:build cgo && amd64

package hdbscan

// The kernels are in kernel_amd64.c.

// #cgo CFLAGS: -O3
// #cgo LDFLAGS: -lm
// #include "kernel_amd64.h"
import "C"

import (
	"unsafe"

	"github.com/imagegem/imagegem-go/internal/simd"
)

// kernelLevel is the kernel level in use: the best the CPU runs from start-up.
var kernelLevel = int(C.hdb_set_level(C.int(cpuKernelLevel())))

// cpuKernelLevel returns the best kernel level for the CPU's features: 2 (AVX-512F), 1
// (AVX2+FMA) or 0 (plain C).
func cpuKernelLevel() int {
	switch {
	case simd.AVX512F:
		return 2
	case simd.AVX2 && simd.FMA:
		return 1
	}
	return 0
}

// forceKernel selects kernel level 2 (AVX-512), 1 (AVX2) or 0 (plain C), at most what the
// CPU has, and returns the level set. For tests.
func forceKernel(level int) int {
	kernelLevel = int(C.hdb_set_level(C.int(max(min(level, cpuKernelLevel()), 0))))
	return kernelLevel
}

// kernelName says which distance kernel this build and CPU use.
func kernelName() string {
	switch kernelLevel {
	case 2:
		return "avx512"
	case 1:
		return "avx2"
	}
	return "c"
}

func sqBlock(q []float32, nq int, x []float32, m, d int, out []float32) {
	if nq == 0 || m == 0 {
		return
	}
	C.hdb_block((*C.float)(unsafe.Pointer(&q[0])), C.int64_t(nq), (*C.float)(unsafe.Pointer(&x[0])),
		C.int64_t(m), C.int64_t(d), (*C.float)(unsafe.Pointer(&out[0])))
}

// sqBlockNorms is sqBlock through precomputed squared norms (dot-product form, faster,
// less accurate for near-duplicates: the error is about 1e-7 of the squared norms).
func sqBlockNorms(q []float32, nq int, x []float32, m, d int, qn, xn, out []float32) {
	if nq == 0 || m == 0 {
		return
	}
	C.hdb_block_dot((*C.float)(unsafe.Pointer(&q[0])), C.int64_t(nq), (*C.float)(unsafe.Pointer(&x[0])),
		C.int64_t(m), C.int64_t(d), (*C.float)(unsafe.Pointer(&qn[0])), (*C.float)(unsafe.Pointer(&xn[0])),
		(*C.float)(unsafe.Pointer(&out[0])))
}

func primChunk(x []float32, m, d int, q []float32, cc, alpha float64, cosine bool,
	core, curD []float64, curSrc, orig []int32, cur int32) int {
	if m == 0 {
		return -1
	}
	cs := C.int(0)
	if cosine {
		cs = 1
	}
	return int(C.hdb_prim((*C.float)(unsafe.Pointer(&x[0])), C.int64_t(m), C.int64_t(d),
		(*C.float)(unsafe.Pointer(&q[0])), C.double(cc), C.double(alpha), cs,
		(*C.double)(unsafe.Pointer(&core[0])), (*C.double)(unsafe.Pointer(&curD[0])),
		(*C.int32_t)(unsafe.Pointer(&curSrc[0])), (*C.int32_t)(unsafe.Pointer(&orig[0])), C.int32_t(cur)))
}
