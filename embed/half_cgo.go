//go:build cgo && amd64

package embed

// The kernel is in half_amd64.c.

// #cgo CFLAGS: -O3
// #include "half_amd64.h"
import "C"

import (
	"unsafe"

	"github.com/imagegem/imagegem-go/internal/simd"
)

// Kernel levels of the C code.
const (
	halfKernel  = true
	halfGeneric = C.EMBED_HALF_GENERIC
	halfF16C    = C.EMBED_HALF_F16C
	halfAVX512  = C.EMBED_HALF_AVX512
)

// halfLevel is the best kernel for this CPU, chosen once at start-up.
var halfLevel = func() int {
	switch {
	case simd.AVX512F:
		return halfAVX512
	case simd.F16C:
		return halfF16C
	}
	return halfGeneric
}()

// halfLevels lists the kernels this CPU runs (the tests compare each with the table).
func halfLevels() []int {
	out := []int{halfGeneric}
	if simd.F16C {
		out = append(out, halfF16C)
	}
	if simd.AVX512F {
		out = append(out, halfAVX512)
	}
	return out
}

// rowAddr is the address of b's first byte; b must lie outside the Go heap (a mapped shard).
func rowAddr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// decodeRows widens the float16 rows starting at the addresses srcs (0: leave the row) into
// dst, dim values a row. The addresses point into memory-mapped shards, outside the Go heap.
func decodeRows(level int, srcs []uint64, dim int, dst []float32) {
	if len(srcs) == 0 || dim == 0 {
		return
	}
	_ = dst[len(srcs)*dim-1]
	C.embed_half_rows(C.int(level), (*C.uint64_t)(unsafe.Pointer(&srcs[0])), C.int64_t(len(srcs)),
		C.int64_t(dim), (*C.float)(unsafe.Pointer(&dst[0])))
}
