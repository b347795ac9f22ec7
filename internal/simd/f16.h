// Half-precision (IEEE 754 binary16) to float32 conversion shared by the C kernels of recsys
// and embed: one value in plain C (every case: zero, subnormal, normal, infinity, NaN with its
// payload) and whole rows with AVX-512F or F16C vector conversions, which give the same bits
// (a binary16 value is exactly representable in binary32; a signalling NaN comes out quiet). Everything here is static inline:
// every package that includes the header compiles its own copy.

#ifndef IMAGEGEM_SIMD_F16_H
#define IMAGEGEM_SIMD_F16_H

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

// simd_half_to_float decodes one binary16 value.
static inline float simd_half_to_float(uint16_t h) {
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0x1f) {
		// A NaN keeps its payload and comes out quiet, as the vector conversions give it.
		bits = sign | 0x7f800000 | (man << 13) | (man ? 0x400000u : 0);
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
	memcpy(&f, &bits, sizeof f);
	return f;
}

// simd_half_row_generic decodes n values of src into dst one by one.
static inline void simd_half_row_generic(const uint16_t* src, float* dst, int64_t n) {
	for (int64_t k = 0; k < n; k++) dst[k] = simd_half_to_float(src[k]);
}

// simd_half_row_avx512 decodes n values, sixteen at a time.
__attribute__((target("avx512f")))
static inline void simd_half_row_avx512(const uint16_t* src, float* dst, int64_t n) {
	int64_t k = 0;
	for (; k + 16 <= n; k += 16)
		_mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + k))));
	for (; k < n; k++) dst[k] = simd_half_to_float(src[k]);
}

// simd_half_row_f16c decodes n values, eight at a time (AVX with F16C).
__attribute__((target("avx,f16c")))
static inline void simd_half_row_f16c(const uint16_t* src, float* dst, int64_t n) {
	int64_t k = 0;
	for (; k + 8 <= n; k += 8)
		_mm256_storeu_ps(dst + k, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + k))));
	for (; k < n; k++) dst[k] = simd_half_to_float(src[k]);
}

#endif
#endif
