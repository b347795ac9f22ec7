// The store's lookup kernel: rows of float16 values gathered from the memory-mapped shards and
// widened to float32 with the vector conversions of internal/simd/f16.h (bit-exact: every
// binary16 value is a binary32 value). One call decodes a whole lookup, so the cgo crossing is
// paid once per Lookup, not once per row.

#include "half_amd64.h"
#include "../internal/simd/f16.h"

void embed_half_rows(int level, const uint64_t* srcs, int64_t n, int64_t dim, float* dst) {
	for (int64_t j = 0; j < n; j++) {
		if (srcs[j] == 0) continue;
		const uint16_t* src = (const uint16_t*)(uintptr_t)srcs[j];
		float* out = dst + j * dim;
		switch (level) {
		case EMBED_HALF_AVX512: simd_half_row_avx512(src, out, dim); break;
		case EMBED_HALF_F16C: simd_half_row_f16c(src, out, dim); break;
		default: simd_half_row_generic(src, out, dim);
		}
	}
}
