// Float32 reductions shared by the C kernels of recsys and embed/hdbscan: the dot product
// a·b and the squared Euclidean distance |a − b|² of two float32 vectors of d values, each in
// three builds (AVX-512F, AVX2+FMA, plain C) that a package picks from the features reported
// by internal/simd. Everything here is static inline: every package that includes the header
// compiles its own copy (compiled C cannot be shared between Go packages).
//
// The sums are float32. The order of the additions is part of the result, and the two packages
// settled on different orders before these functions were shared, so the layout of the
// accumulators is a parameter; the callers pass constants, and each call inlines into the
// loop of exactly that layout:
//   unroll   vectors summed side by side in the main loop (2 or 4), added pairwise at the end
//            ((0 + 1) + (2 + 3));
//   tail     (AVX-512F) the accumulator that takes the masked load of the last d mod 16
//            values (after whole vectors went to accumulator 0);
//   singles  (AVX2) whether whole vectors left after the main loop go to accumulator 0
//            before the scalar remainder;
//   apart    (AVX2) whether the scalar remainder is summed on its own and added to the
//            vector sum (1) or added to the vector sum value by value (0);
//   pairwise (plain C) whether the four partial sums are added as (s0 + s1) + (s2 + s3) (1)
//            or as ((s0 + s1) + s2) + s3 (0).

#ifndef IMAGEGEM_SIMD_F32_H
#define IMAGEGEM_SIMD_F32_H

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

// The two reductions.
enum { SIMD_DOT = 0, SIMD_SQDIST = 1 };

// simd_hsum256 adds the eight lanes of v: the two halves, then pairs, then the last two.
__attribute__((target("avx"), always_inline))
static inline float simd_hsum256(__m256 v) {
	__m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	h = _mm_add_ps(h, _mm_movehl_ps(h, h));
	h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
	return _mm_cvtss_f32(h);
}

// simd_term512 adds a·b (SIMD_DOT) or (a − b)² (SIMD_SQDIST) to acc, lane by lane, with one
// rounding for the product and the addition.
__attribute__((target("avx512f"), always_inline))
static inline __m512 simd_term512(int op, __m512 a, __m512 b, __m512 acc) {
	if (op == SIMD_SQDIST) {
		__m512 t = _mm512_sub_ps(a, b);
		return _mm512_fmadd_ps(t, t, acc);
	}
	return _mm512_fmadd_ps(a, b, acc);
}

// simd_f32_512 returns Σ_k a[k]·b[k] (SIMD_DOT) or Σ_k (a[k] − b[k])² (SIMD_SQDIST) over
// k < d with 16-lane AVX-512F vectors; see the header comment for unroll and tail.
__attribute__((target("avx512f"), always_inline))
static inline float simd_f32_512(int op, const float *a, const float *b, int64_t d, int unroll, int tail) {
	__m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
	int64_t k = 0;
	for (; k + 16 * unroll <= d; k += 16 * unroll)
		for (int u = 0; u < unroll; u++)
			acc[u] = simd_term512(op, _mm512_loadu_ps(a + k + 16 * u), _mm512_loadu_ps(b + k + 16 * u), acc[u]);
	for (; k + 16 <= d; k += 16)
		acc[0] = simd_term512(op, _mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc[0]);
	if (k < d) {
		__mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
		acc[tail] = simd_term512(op, _mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc[tail]);
	}
	__m512 s = unroll == 4 ? _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))
	                       : _mm512_add_ps(acc[0], acc[1]);
	return _mm512_reduce_add_ps(s);
}

// simd_term256 is simd_term512 on 8-lane vectors.
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 simd_term256(int op, __m256 a, __m256 b, __m256 acc) {
	if (op == SIMD_SQDIST) {
		__m256 t = _mm256_sub_ps(a, b);
		return _mm256_fmadd_ps(t, t, acc);
	}
	return _mm256_fmadd_ps(a, b, acc);
}

// simd_term1 adds a·b or (a − b)² to acc for one value (compiled with FMA where the caller
// is, so the product and the addition round once there too).
__attribute__((always_inline))
static inline float simd_term1(int op, float a, float b, float acc) {
	if (op == SIMD_SQDIST) {
		float t = a - b;
		return acc + t * t;
	}
	return acc + a * b;
}

// simd_f32_256 is simd_f32_512 with 8-lane AVX2 vectors and a scalar remainder; see the
// header comment for unroll, singles and apart.
__attribute__((target("avx2,fma"), always_inline))
static inline float simd_f32_256(int op, const float *a, const float *b, int64_t d, int unroll, int singles,
		int apart) {
	__m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
	int64_t k = 0;
	for (; k + 8 * unroll <= d; k += 8 * unroll)
		for (int u = 0; u < unroll; u++)
			acc[u] = simd_term256(op, _mm256_loadu_ps(a + k + 8 * u), _mm256_loadu_ps(b + k + 8 * u), acc[u]);
	if (singles)
		for (; k + 8 <= d; k += 8)
			acc[0] = simd_term256(op, _mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc[0]);
	float s = simd_hsum256(unroll == 4 ? _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))
	                                   : _mm256_add_ps(acc[0], acc[1]));
	if (apart) {
		float t = 0;
		for (; k < d; k++) t = simd_term1(op, a[k], b[k], t);
		return s + t;
	}
	for (; k < d; k++) s = simd_term1(op, a[k], b[k], s);
	return s;
}

// simd_f32_plain is the same reduction in plain C with four partial sums, each taking every
// fourth value, and the remainder going to the first; see the header comment for pairwise.
__attribute__((always_inline))
static inline float simd_f32_plain(int op, const float *a, const float *b, int64_t d, int pairwise) {
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int64_t k = 0;
	for (; k + 4 <= d; k += 4) {
		s0 = simd_term1(op, a[k], b[k], s0);
		s1 = simd_term1(op, a[k + 1], b[k + 1], s1);
		s2 = simd_term1(op, a[k + 2], b[k + 2], s2);
		s3 = simd_term1(op, a[k + 3], b[k + 3], s3);
	}
	for (; k < d; k++) s0 = simd_term1(op, a[k], b[k], s0);
	return pairwise ? (s0 + s1) + (s2 + s3) : s0 + s1 + s2 + s3;
}

#endif // __x86_64__

#endif // IMAGEGEM_SIMD_F32_H
