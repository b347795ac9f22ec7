//go:build cgo && amd64

package recsys

// The kernels are in vecdist_amd64.c.

// #cgo CFLAGS: -O3
// #include "vecdist_amd64.h"
import "C"

import (
	"unsafe"

	"github.com/imagegem/imagegem-go/internal/simd"
)

// Kernel levels of the C code, in order of preference.
const (
	kernelGeneric = C.RS_GENERIC
	kernelAVX2    = C.RS_AVX2
	kernelAVX512  = C.RS_AVX512
)

// kernelLevel is the best C kernel this CPU runs, chosen once at start-up.
var kernelLevel = cpuKernelLevel()

// cpuKernelLevel returns the best C kernel level for the CPU's features.
func cpuKernelLevel() int {
	switch {
	case simd.AVX512F:
		return kernelAVX512
	case simd.AVX2 && simd.FMA && simd.F16C:
		return kernelAVX2
	}
	return kernelGeneric
}

// distanceKernel names the kernel in use.
var distanceKernel = map[int]string{kernelGeneric: "c", kernelAVX2: "avx2+fma", kernelAVX512: "avx512f"}[kernelLevel]

// distances computes what distancesGo does, with the best C kernel for the CPU. ids must be
// valid row indices of base; len(out) ≥ len(ids).
func distances(metric Metric, q, base []float32, dim int, ids []int32, out []float32) {
	distancesLevel(kernelLevel, metric, q, base, dim, ids, out)
}

// distancesLevel runs one particular C kernel (the tests compare every level the CPU has).
func distancesLevel(level int, metric Metric, q, base []float32, dim int, ids []int32, out []float32) {
	if len(ids) == 0 {
		return
	}
	_ = out[len(ids)-1]
	_ = q[dim-1]
	C.recsys_distances(C.int(level), C.int(metric), (*C.float)(unsafe.Pointer(&q[0])),
		(*C.float)(unsafe.Pointer(&base[0])), C.int64_t(dim),
		(*C.int32_t)(unsafe.Pointer(&ids[0])), C.int64_t(len(ids)), (*C.float)(unsafe.Pointer(&out[0])))
}

// distancesHalf is distancesHalfGo with the best C kernel for the CPU.
func distancesHalf(metric Metric, q []float32, base []uint16, dim int, ids []int32, out []float32) {
	distancesHalfLevel(kernelLevel, metric, q, base, dim, ids, out)
}

// distancesHalfLevel runs one particular C kernel over half-precision rows.
func distancesHalfLevel(level int, metric Metric, q []float32, base []uint16, dim int, ids []int32, out []float32) {
	if len(ids) == 0 {
		return
	}
	_ = out[len(ids)-1]
	_ = q[dim-1]
	C.recsys_distances_half(C.int(level), C.int(metric), (*C.float)(unsafe.Pointer(&q[0])),
		(*C.uint16_t)(unsafe.Pointer(&base[0])), C.int64_t(dim),
		(*C.int32_t)(unsafe.Pointer(&ids[0])), C.int64_t(len(ids)), (*C.float)(unsafe.Pointer(&out[0])))
}

// halfRow decodes half-precision values into dst (len(dst) ≥ len(src)).
func halfRow(dst []float32, src []uint16) { halfRowLevel(kernelLevel, dst, src) }

func halfRowLevel(level int, dst []float32, src []uint16) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	C.recsys_half_row(C.int(level), (*C.uint16_t)(unsafe.Pointer(&src[0])), (*C.float)(unsafe.Pointer(&dst[0])), C.int64_t(len(src)))
}

// firstNearerHalf returns the first j with distance(q, row ids[j]) < bound over half rows,
// or -1.
func firstNearerHalf(metric Metric, q []float32, base []uint16, dim int, ids []int32, bound float32) int {
	if len(ids) == 0 {
		return -1
	}
	_ = q[dim-1]
	return int(C.recsys_first_nearer(C.int(kernelLevel), C.int(metric), (*C.float)(unsafe.Pointer(&q[0])),
		(*C.uint16_t)(unsafe.Pointer(&base[0])), C.int64_t(dim),
		(*C.int32_t)(unsafe.Pointer(&ids[0])), C.int64_t(len(ids)), C.float(bound)))
}
