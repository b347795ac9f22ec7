// Entry points of the C distance kernels (vecdist_amd64.c), called from vecdist_cgo.go. level
// is one of the RS_ levels, at most what the CPU runs; metric 0 is the negative inner
// product, 1 the squared Euclidean distance; ids index rows of dim values in base.

#ifndef RECSYS_VECDIST_AMD64_H
#define RECSYS_VECDIST_AMD64_H

#include <stdint.h>

// Kernel levels, in order of preference: plain C, AVX2 with FMA and F16C, AVX-512F.
enum { RS_GENERIC = 0, RS_AVX2 = 1, RS_AVX512 = 2 };

// recsys_distances sets out[j] to the distance from q to float32 row ids[j], j < n.
void recsys_distances(int level, int metric, const float* q, const float* base, int64_t dim,
		const int32_t* ids, int64_t n, float* out);

// recsys_distances_half is recsys_distances over half-precision rows.
void recsys_distances_half(int level, int metric, const float* q, const uint16_t* base, int64_t dim,
		const int32_t* ids, int64_t n, float* out);

// recsys_first_nearer returns the first j < n whose half-precision row ids[j] is nearer to q
// than bound, or -1.
int64_t recsys_first_nearer(int level, int metric, const float* q, const uint16_t* base, int64_t dim,
		const int32_t* ids, int64_t n, float bound);

// recsys_half_row decodes n half-precision values of src into dst.
void recsys_half_row(int level, const uint16_t* src, float* dst, int64_t n);

#endif
