// Entry points of the C distance kernels (kernel_amd64.c), called from kernel_cgo.go. All
// matrices are row-major float32 with d values a row.

#ifndef HDBSCAN_KERNEL_AMD64_H
#define HDBSCAN_KERNEL_AMD64_H

#include <stdint.h>

// hdb_set_level selects the kernels: 2 AVX-512F, 1 AVX2+FMA, 0 plain C. The caller passes a
// level the CPU runs. It returns the level set.
int hdb_set_level(int level);

// hdb_block sets out[i*m + j] = |Q_i − X_j|² for nq query rows and m data rows.
void hdb_block(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d, float* out);

// hdb_block_dot is hdb_block through the squared norms qn and xn of the rows (dot-product
// form, clamped at 0).
void hdb_block_dot(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d,
		const float* qn, const float* xn, float* out);

// hdb_prim is one step of Prim's loop over m candidate rows (see primChunkGo).
int64_t hdb_prim(const float* X, int64_t m, int64_t d, const float* q, double cc,
		double alpha, int cosine, const double* core, double* curD, int32_t* curSrc,
		const int32_t* orig, int32_t cur);

#endif
