//go:build cgo && amd64

package recsys

/*
#cgo CFLAGS: -O3
#include <immintrin.h>
#include <stdint.h>

// Batched distances from one float32 query to rows of a row-major matrix of float32 or of
// IEEE half-precision values. Three builds of the same loops: AVX-512F, AVX2 with FMA and
// F16C, and plain C; recsys_kernel_level picks the best one
// the CPU supports. Metric 0 gives the negative inner product, 1 the squared Euclidean
// distance. Every row of a batch is prefetched before the first is scored: the rows of a
// large index are scattered in memory, and issuing all their loads at once overlaps the DRAM
// latencies (1.5–1.8× faster than prefetching one row ahead for 16 random half-precision
// rows of 512 values out of a million, on this project's 2-core test machine).

enum { RS_GENERIC = 0, RS_AVX2 = 1, RS_AVX512 = 2 };

static int recsys_kernel_level(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) return RS_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
		return RS_AVX2;
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
	for (int64_t j = 0; j < n; j++) rs_prefetch_row(base + (int64_t)ids[j] * dim, dim);
	for (int64_t j = 0; j < n; j++) {
		const float* r = base + (int64_t)ids[j] * dim;
		switch (level) {
		case RS_AVX512: out[j] = rs_one_avx512(metric, q, r, dim); break;
		case RS_AVX2: out[j] = rs_one_avx2(metric, q, r, dim); break;
		default: out[j] = rs_one_generic(metric, q, r, dim);
		}
	}
}

// rs_half_to_float decodes one IEEE 754 binary16 value (all cases: zero, subnormal, normal,
// infinity, NaN).
static inline float rs_half_to_float(uint16_t h) {
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000 | (man << 13);
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man == 0) {
		bits = sign;
	} else {
		exp = 113;
		while (!(man & 0x400)) { man <<= 1; exp--; }
		bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
	}
	float f;
	__builtin_memcpy(&f, &bits, 4);
	return f;
}

__attribute__((target("avx512f")))
static float rs_oneh_avx512(int metric, const float* q, const uint16_t* r, int64_t dim) {
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	int64_t k = 0;
	for (; k + 32 <= dim; k += 32) {
		__m512 x0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(r + k)));
		__m512 x1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(r + k + 16)));
		if (metric == 0) {
			a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k), x0, a0);
			a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + k + 16), x1, a1);
		} else {
			__m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + k), x0);
			__m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + k + 16), x1);
			a0 = _mm512_fmadd_ps(d0, d0, a0);
			a1 = _mm512_fmadd_ps(d1, d1, a1);
		}
	}
	float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
	for (; k < dim; k++) {
		float x = rs_half_to_float(r[k]);
		if (metric == 0) s += q[k] * x;
		else s += (q[k] - x) * (q[k] - x);
	}
	return metric == 0 ? -s : s;
}

__attribute__((target("avx2,fma,f16c")))
static float rs_oneh_avx2(int metric, const float* q, const uint16_t* r, int64_t dim) {
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	int64_t k = 0;
	for (; k + 16 <= dim; k += 16) {
		__m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(r + k)));
		__m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(r + k + 8)));
		if (metric == 0) {
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k), x0, a0);
			a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + k + 8), x1, a1);
		} else {
			__m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + k), x0);
			__m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + k + 8), x1);
			a0 = _mm256_fmadd_ps(d0, d0, a0);
			a1 = _mm256_fmadd_ps(d1, d1, a1);
		}
	}
	float s = rs_hsum256(_mm256_add_ps(a0, a1));
	for (; k < dim; k++) {
		float x = rs_half_to_float(r[k]);
		if (metric == 0) s += q[k] * x;
		else s += (q[k] - x) * (q[k] - x);
	}
	return metric == 0 ? -s : s;
}

static float rs_oneh_generic(int metric, const float* q, const uint16_t* r, int64_t dim) {
	float s = 0;
	for (int64_t k = 0; k < dim; k++) {
		float x = rs_half_to_float(r[k]);
		if (metric == 0) s += q[k] * x;
		else s += (q[k] - x) * (q[k] - x);
	}
	return metric == 0 ? -s : s;
}

static void recsys_distances_half(int level, int metric, const float* q, const uint16_t* base, int64_t dim,
		const int32_t* ids, int64_t n, float* out) {
	for (int64_t j = 0; j < n; j++) rs_prefetch_row((const float*)(base + (int64_t)ids[j] * dim), dim / 2);
	for (int64_t j = 0; j < n; j++) {
		const uint16_t* r = base + (int64_t)ids[j] * dim;
		switch (level) {
		case RS_AVX512: out[j] = rs_oneh_avx512(metric, q, r, dim); break;
		case RS_AVX2: out[j] = rs_oneh_avx2(metric, q, r, dim); break;
		default: out[j] = rs_oneh_generic(metric, q, r, dim);
		}
	}
}

__attribute__((target("avx512f")))
static void rs_half_row_avx512(const uint16_t* src, float* dst, int64_t n) {
	int64_t k = 0;
	for (; k + 16 <= n; k += 16)
		_mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + k))));
	for (; k < n; k++) dst[k] = rs_half_to_float(src[k]);
}

__attribute__((target("avx2,f16c")))
static void rs_half_row_avx2(const uint16_t* src, float* dst, int64_t n) {
	int64_t k = 0;
	for (; k + 8 <= n; k += 8)
		_mm256_storeu_ps(dst + k, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + k))));
	for (; k < n; k++) dst[k] = rs_half_to_float(src[k]);
}

// recsys_first_nearer returns the first j with distance(q, row ids[j]) < bound over
// half-precision rows, or -1: the test of the HNSW neighbour heuristic, which stops at the
// first kept neighbour nearer to the candidate than the base is.
static int64_t recsys_first_nearer(int level, int metric, const float* q, const uint16_t* base, int64_t dim,
		const int32_t* ids, int64_t n, float bound) {
	for (int64_t j = 0; j < n; j++) {
		const uint16_t* r = base + (int64_t)ids[j] * dim;
		float d;
		switch (level) {
		case RS_AVX512: d = rs_oneh_avx512(metric, q, r, dim); break;
		case RS_AVX2: d = rs_oneh_avx2(metric, q, r, dim); break;
		default: d = rs_oneh_generic(metric, q, r, dim);
		}
		if (d < bound) return j;
	}
	return -1;
}

static void recsys_half_row(int level, const uint16_t* src, float* dst, int64_t n) {
	switch (level) {
	case RS_AVX512: rs_half_row_avx512(src, dst, n); break;
	case RS_AVX2: rs_half_row_avx2(src, dst, n); break;
	default:
		for (int64_t k = 0; k < n; k++) dst[k] = rs_half_to_float(src[k]);
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
