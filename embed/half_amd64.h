// Entry point of the half-precision row gather (half_amd64.c), called from half_cgo.go.

#ifndef EMBED_HALF_AMD64_H
#define EMBED_HALF_AMD64_H

#include <stdint.h>

// Kernel levels, in order of preference: plain C, F16C, AVX-512F.
enum { EMBED_HALF_GENERIC = 0, EMBED_HALF_F16C = 1, EMBED_HALF_AVX512 = 2 };

// embed_half_rows decodes n rows of dim little-endian binary16 values, row j starting at the
// address srcs[j], into dst (n·dim floats, row-major). A zero address leaves its row as it is.
void embed_half_rows(int level, const uint64_t* srcs, int64_t n, int64_t dim, float* dst);

#endif
