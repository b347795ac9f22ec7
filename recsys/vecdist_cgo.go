//go:build cgo && amd64

package recsys

/*
#cgo CFLAGS: -O3
#include <immintrin.h>
#include <stdint.h>

// Batched float32 distances from one query to rows of a row-major matrix. Three builds of
// the same loop: AVX-512F, AVX2 with FMA, and plain C; recsys_kernel_level picks the best one
// the CPU supports. Metric 0 gives the negative inner product, 1 the squared Euclidean
// distance. While one row is scored, the next row's cache lines are prefetched: rows of a
// large index are scattered in memory, so the loads otherwise wait on DRAM.

enum { RS_GENERIC = 0, RS_AVX2 = 1, RS_AVX512 = 2 };

static int recsys_kernel_level(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) return RS_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RS_AVX2;
	return RS_GENERIC;
}

static inline void rs_prefetch_row(const float* row, int64_t dim) {
	for (int64_t k = 0; k < dim; k += 16) __builtin_prefetch(row + k, 0, 3);
}

__attribute__((target("avx512f")))
static float rs_one_avx512(int metric, const float* q, const float* r, int64_t dim) {
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	__m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
	int64_t k = 0;
	if (metric == 0) {
		for (; k + 64 <= dim; k += 64) {
			a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k), _mm512_loadu_ps(r + k), a0);
			a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k + 16), _mm512_loadu_ps(r + k + 16), a1);
			a2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k + 32), _mm512_loadu_ps(r + k + 32), a2);
			a3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k + 48), _mm512_loadu_ps(r + k + 48), a3);
		}
		for (; k + 16 <= dim; k += 16)
			a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k), _mm512_loadu_ps(r + k), a0);
		if (k < dim) {
			__mmask16 m = (__mmask16)((1u << (dim - k)) - 1u);
			a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + k), _mm512_maskz_loadu_ps(m, r + k), a1);
		}
	} else {
		for (; k + 64 <= dim; k += 64) {
			__m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + k), _mm512_loadu_ps(r + k));
			__m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + k + 16), _mm512_loadu_ps(r + k + 16));
			__m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(q + k + 32), _mm512_loadu_ps(r + k + 32));
			__m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(q + k + 48), _mm512_loadu_ps(r + k + 48));
			a0 = _mm512_fmadd_ps(d0, d0, a0);
			a1 = _mm512_fmadd_ps(d1, d1, a1);
			a2 = _mm512_fmadd_ps(d2, d2, a2);
			a3 = _mm512_fmadd_ps(d3, d3, a3);
		}
		for (; k + 16 <= dim; k += 16) {
			__m512 d = _mm512_sub_ps(_mm512_loadu_ps(q + k), _mm512_loadu_ps(r + k));
			a0 = _mm512_fmadd_ps(d, d, a0);
		}
		if (k < dim) {
			__mmask16 m = (__mmask16)((1u << (dim - k)) - 1u);
			__m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, q + k), _mm512_maskz_loadu_ps(m, r + k));
			a1 = _mm512_fmadd_ps(d, d, a1);
		}
	}
	float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
	return metric == 0 ? -s : s;
}

__attribute__((target("avx2,fma")))
static float rs_hsum256(__m256 v) {
	__m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 0x55));
	return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma")))
static float rs_one_avx2(int metric, const float* q, const float* r, int64_t dim) {
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	__m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	int64_t k = 0;
	float tail = 0;
	if (metric == 0) {
		for (; k + 32 <= dim; k += 32) {
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k), _mm256_loadu_ps(r + k), a0);
			a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k + 8), _mm256_loadu_ps(r + k + 8), a1);
			a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k + 16), _mm256_loadu_ps(r + k + 16), a2);
			a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k + 24), _mm256_loadu_ps(r + k + 24), a3);
		}
		for (; k + 8 <= dim; k += 8)
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k), _mm256_loadu_ps(r + k), a0);
		for (; k < dim; k++) tail += q[k] * r[k];
	} else {
		for (; k + 32 <= dim; k += 32) {
			__m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + k), _mm256_loadu_ps(r + k));
			__m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + k + 8), _mm256_loadu_ps(r + k + 8));
			__m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(q + k + 16), _mm256_loadu_ps(r + k + 16));
			__m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(q + k + 24), _mm256_loadu_ps(r + k + 24));
			a0 = _mm256_fmadd_ps(d0, d0, a0);
			a1 = _mm256_fmadd_ps(d1, d1, a1);
			a2 = _mm256_fmadd_ps(d2, d2, a2);
			a3 = _mm256_fmadd_ps(d3, d3, a3);
		}
		for (; k + 8 <= dim; k += 8) {
			__m256 d = _mm256_sub_ps(_mm256_loadu_ps(q + k), _mm256_loadu_ps(r + k));
			a0 = _mm256_fmadd_ps(d, d, a0);
		}
		for (; k < dim; k++) {
			float d = q[k] - r[k];
			tail += d * d;
		}
	}
	float s = rs_hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + tail;
	return metric == 0 ? -s : s;
}

static float rs_one_generic(int metric, const float* q, const float* r, int64_t dim) {
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int64_t k = 0;
	if (metric == 0) {
		for (; k + 4 <= dim; k += 4) {
			s0 += q[k] * r[k];
			s1 += q[k + 1] * r[k + 1];
			s2 += q[k + 2] * r[k + 2];
			s3 += q[k + 3] * r[k + 3];
		}
		for (; k < dim; k++) s0 += q[k] * r[k];
		return -(s0 + s1 + s2 + s3);
	}
	for (; k + 4 <= dim; k += 4) {
		float d0 = q[k] - r[k], d1 = q[k + 1] - r[k + 1], d2 = q[k + 2] - r[k + 2], d3 = q[k + 3] - r[k + 3];
		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; k < dim; k++) {
		float d = q[k] - r[k];
		s0 += d * d;
	}
	return s0 + s1 + s2 + s3;
}

static void recsys_distances(int level, int metric, const float* q, const float* base, int64_t dim,
		const int32_t* ids, int64_t n, float* out) {
	if (n > 0) rs_prefetch_row(base + (int64_t)ids[0] * dim, dim);
	for (int64_t j = 0; j < n; j++) {
		const float* r = base + (int64_t)ids[j] * dim;
		if (j + 1 < n) rs_prefetch_row(base + (int64_t)ids[j + 1] * dim, dim);
		switch (level) {
		case RS_AVX512: out[j] = rs_one_avx512(metric, q, r, dim); break;
		case RS_AVX2: out[j] = rs_one_avx2(metric, q, r, dim); break;
		default: out[j] = rs_one_generic(metric, q, r, dim);
		}
	}
}
*/
import "C"

import "unsafe"

// Kernel levels of the C code, in order of preference.
const (
	kernelGeneric = C.RS_GENERIC
	kernelAVX2    = C.RS_AVX2
	kernelAVX512  = C.RS_AVX512
)

// kernelLevel is the best C kernel this CPU runs, chosen once at start-up.
var kernelLevel = int(C.recsys_kernel_level())

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
