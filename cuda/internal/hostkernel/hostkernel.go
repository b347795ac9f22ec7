// Package hostkernel compiles the CUDA C kernels of package cuda as plain C and runs each
// thread block on one CPU thread (blockDim = 1), so that the kernels' arithmetic is tested on
// every machine, GPU or not. It is for tests only.
package hostkernel

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/../../kernels
#cgo LDFLAGS: -lm
#include <math.h>
typedef struct { int x; } hk_dim;
static hk_dim blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __shared__ static
#define __syncthreads()
#include "rank1.cu"

static void hk_one_block(void) {
	blockIdx.x = 0; threadIdx.x = 0; blockDim.x = 1; gridDim.x = 1;
}

static void hk_top_triplet(const float* up, const float* down, int out, int in, int r, double scale,
	double* work, double* sigma, double* energy, float* u, float* v) {
	long long zero = 0;
	hk_one_block();
	top_triplet(up, down, &zero, &zero, &out, &in, &scale, r, 1, work, sigma, energy, u, v, &zero, &zero);
}

static void hk_scatter(double sigma, const float* u, const float* v, int out, int in,
	const float* ref, long long dst, float* vec) {
	long long zero = 0, refOff = ref ? 0 : -1;
	hk_one_block();
	scatter_rank1(&sigma, u, v, &zero, &zero, &out, &in, ref, &refOff, &dst, 1, vec);
}
*/
import "C"

import "unsafe"

// TopTriplet runs the top_triplet kernel for one module ΔW = scale·up·down (up out×r, down
// r×in, row-major) and returns σ, ‖ΔW‖²_F, u and v.
func TopTriplet(up, down []float32, out, in, r int, scale float64) (sigma, energy float64, u, v []float32) {
	work := make([]float64, 5*r*r+2*r)
	u = make([]float32, out)
	v = make([]float32, in)
	var s, e C.double
	C.hk_top_triplet((*C.float)(unsafe.Pointer(&up[0])), (*C.float)(unsafe.Pointer(&down[0])),
		C.int(out), C.int(in), C.int(r), C.double(scale), (*C.double)(unsafe.Pointer(&work[0])),
		&s, &e, (*C.float)(unsafe.Pointer(&u[0])), (*C.float)(unsafe.Pointer(&v[0])))
	return float64(s), float64(e), u, v
}

// Scatter runs the scatter_rank1 kernel for one triplet into vec at dst (ref may be nil).
func Scatter(sigma float64, u, v, ref []float32, dst int, vec []float32) {
	var rp *C.float
	if ref != nil {
		rp = (*C.float)(unsafe.Pointer(&ref[0]))
	}
	C.hk_scatter(C.double(sigma), (*C.float)(unsafe.Pointer(&u[0])), (*C.float)(unsafe.Pointer(&v[0])),
		C.int(len(u)), C.int(len(v)), rp, C.longlong(dst), (*C.float)(unsafe.Pointer(&vec[0])))
}
