//go:build cgo

// The C factor kernels of the rank-1 reduction and of the PCA; kernel_cgo.go calls them
// through kernel_amd64.h.

#include "kernel_amd64.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

// Factor kernels of the rank-1 reduction in float64 arithmetic over float32 factors: the
// Gram matrices AᵀA (A m×r, row-major) and B·Bᵀ (B r×n, row-major) and the matrix-vector
// products A·x and Aᵀ·x. Each float32·float32 product is exact in float64, so a fused
// multiply-add rounds exactly as a product followed by an addition and only the order of
// the sums differs from the Go reference. Two variants are generated from one template:
// AVX-512 (8 doubles per vector) and AVX2+FMA (4 doubles); w2w_set_level selects one (the Go
// side passes the widest the CPU runs, from internal/simd, or a narrower one in tests). The
// tile sizes keep every accumulator in a register: 8 rows × 3 vectors (24 of the 32 zmm) and
// 4×4 row pairs (16 zmm + 8 loads) for AVX-512, 4 × 3 (12 of the 16 ymm) and 3×3 (9 ymm + 6
// loads) for AVX2.

typedef double w2w_v8d __attribute__((vector_size(64)));
typedef float w2w_v8f __attribute__((vector_size(32)));
typedef float w2w_v16f __attribute__((vector_size(64)));
typedef double w2w_v4d __attribute__((vector_size(32)));
typedef float w2w_v4f __attribute__((vector_size(16)));

// W2W_CHUNK_DOUBLES bounds the converted block of a factor (32 KiB of float64), which then
// stays in the core's L1 data cache (48 KiB here) while every register tile passes over it;
// 256 KiB blocks (L2) measured about 10 % slower.
#define W2W_CHUNK_DOUBLES 4096

// W2W_COMBINE_SLAB is the column slab of S_combine: the slab of every row is copied into one
// buffer first, so the register tiles walk rows a kilobyte apart instead of a whole row of X
// (2.4 MB for an SD1.5-sized vector) apart, which costs a page-table walk per row.
#define W2W_COMBINE_SLAB 256

// W2W_VARIANT(S, TGT, VD, VF, L, CN, PR, BC) defines, with prefix S for target TGT (vectors VD
// of L doubles, VF of L floats, BC the intrinsic that broadcasts one double):
//   S_widen(src, dst, n)            dst[0:n] = (double)src[0:n];
//   S_otile(X, rows, rp, k0, c0, G, cn)
//                                   G[k0+a][c0+c·L+t] += Σ_i X[i][k0+a]·X[i][c0+c·L+t] for
//                                   a < L, c < cn ≤ CN (X rows×rp, G rp×rp, row-major);
//   S_outer(X, rows, rp, G)         G += XᵀX over the upper block triangle;
//   S_gram_cols(a, m, r, g)         g (r×r) = AᵀA for row-major A (m×r), converted to
//                                   float64 in row chunks (rows padded to rp = L·⌈r/L⌉);
//   S_rtile(X, ld, cols, k0, l0, G, rg)
//                                   G[k0+a][l0+b] += Σ_j X[k0+a][j]·X[l0+b][j], a, b < PR;
//   S_gram_rows(b, r, n, g)         g (r×r) = B·Bᵀ for row-major B (r×n), converted in
//                                   column chunks (rows padded to a multiple of PR);
//   S_centre(x, n, d, c0, c1, mu)   mu = the means of columns c0..c1−1 of the row-major n×d
//                                   x (summed in row order), subtracted from them in place;
//   S_combine(coef, m, n, x, d, c0, c1, out)
//                                   out[k][c] = Σ_i coef[k][i]·x[i][c] for k < m and columns
//                                   c0 ≤ c < c1 (coef m×n float64, x n×d and out m×d float32),
//                                   -1 when its slab buffer cannot be allocated;
//   S_matvec(a, rows, cols, x, y, trans)
//                                   y = A·x (trans 0) or y = Aᵀ·x (trans 1).
// The gram functions return -1 when their buffers cannot be allocated.
#define W2W_VARIANT(S, TGT, VD, VF, L, CN, PR, BC)                                                    \
__attribute__((target(TGT), always_inline)) static inline VD S##_ld(const double *p) {            \
	VD v; memcpy(&v, p, sizeof v); return v;                                                     \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline void S##_st(double *p, VD v) {          \
	memcpy(p, &v, sizeof v);                                                                     \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline VD S##_ldf(const float *p) {            \
	VF f; memcpy(&f, p, sizeof f); return __builtin_convertvector(f, VD);                         \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline VD S##_bc(double x) {                   \
	return (VD)BC(x);                                                                             \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline double S##_hsum(VD v) {                 \
	double s = 0;                                                                                 \
	for (int t = 0; t < L; t++) s += v[t];                                                        \
	return s;                                                                                     \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_widen(const float *src, double *dst, int64_t n) {    \
	int64_t j = 0;                                                                                \
	for (; j + L <= n; j += L) S##_st(dst + j, S##_ldf(src + j));                                 \
	for (; j < n; j++) dst[j] = src[j];                                                           \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline void S##_otile(const double *X,        \
		int64_t rows, int64_t rp, int64_t k0, int64_t c0, double *G, const int cn) {            \
	VD acc[L][CN];                                                                                \
	for (int a = 0; a < L; a++)                                                                   \
		for (int c = 0; c < cn; c++) acc[a][c] = S##_ld(G + (k0 + a) * rp + c0 + c * L);          \
	for (int64_t i = 0; i < rows; i++) {                                                          \
		const double *x = X + i * rp;                                                             \
		VD v[CN];                                                                                 \
		for (int c = 0; c < cn; c++) v[c] = S##_ld(x + c0 + c * L);                               \
		for (int a = 0; a < L; a++) {                                                             \
			VD b = S##_bc(x[k0 + a]);                                                              \
			for (int c = 0; c < cn; c++) acc[a][c] += b * v[c];                                   \
		}                                                                                         \
	}                                                                                             \
	for (int a = 0; a < L; a++)                                                                   \
		for (int c = 0; c < cn; c++) S##_st(G + (k0 + a) * rp + c0 + c * L, acc[a][c]);           \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_outer(const double *X, int64_t rows, int64_t rp,     \
		double *G) {                                                                             \
	int64_t nb = rp / L;                                                                          \
	for (int64_t kb = 0; kb < nb; kb++) {                                                         \
		for (int64_t cb = kb; cb < nb; cb += CN) {                                                \
			int64_t cn = nb - cb < CN ? nb - cb : CN;                                             \
			switch (cn) {                                                                         \
			case 1: S##_otile(X, rows, rp, kb * L, cb * L, G, 1); break;                          \
			case 2: S##_otile(X, rows, rp, kb * L, cb * L, G, 2); break;                          \
			default: S##_otile(X, rows, rp, kb * L, cb * L, G, CN); break;                        \
			}                                                                                     \
		}                                                                                         \
	}                                                                                             \
}                                                                                                 \
__attribute__((target(TGT))) static int S##_gram_cols(const float *a, int64_t m, int64_t r,      \
		double *g) {                                                                             \
	int64_t rp = (r + L - 1) / L * L;                                                             \
	int64_t ch = W2W_CHUNK_DOUBLES / rp;                                                          \
	if (ch < 1) ch = 1;                                                                           \
	if (ch > m) ch = m;                                                                           \
	double *buf = malloc(sizeof(double) * ch * rp);                                               \
	double *G = calloc(rp * rp, sizeof(double));                                                  \
	if (!buf || !G) { free(buf); free(G); return -1; }                                            \
	for (int64_t i0 = 0; i0 < m; i0 += ch) {                                                      \
		int64_t rows = m - i0 < ch ? m - i0 : ch;                                                 \
		if (rp == r) {                                                                            \
			S##_widen(a + i0 * r, buf, rows * r);                                                 \
		} else {                                                                                  \
			for (int64_t i = 0; i < rows; i++) {                                                  \
				S##_widen(a + (i0 + i) * r, buf + i * rp, r);                                     \
				for (int64_t k = r; k < rp; k++) buf[i * rp + k] = 0;                             \
			}                                                                                     \
		}                                                                                         \
		S##_outer(buf, rows, rp, G);                                                              \
	}                                                                                             \
	for (int64_t k = 0; k < r; k++)                                                               \
		for (int64_t l = k; l < r; l++) g[k * r + l] = g[l * r + k] = G[k * rp + l];              \
	free(buf);                                                                                    \
	free(G);                                                                                      \
	return 0;                                                                                     \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_rtile(const double *X, int64_t ld, int64_t cols,     \
		int64_t k0, int64_t l0, double *G, int64_t rg) {                                         \
	VD acc[PR][PR];                                                                               \
	for (int a = 0; a < PR; a++)                                                                  \
		for (int b = 0; b < PR; b++) acc[a][b] = (VD){0};                                         \
	for (int64_t j = 0; j < cols; j += L) {                                                       \
		VD x[PR], y[PR];                                                                          \
		for (int a = 0; a < PR; a++) x[a] = S##_ld(X + (k0 + a) * ld + j);                        \
		for (int b = 0; b < PR; b++) y[b] = S##_ld(X + (l0 + b) * ld + j);                        \
		for (int a = 0; a < PR; a++)                                                              \
			for (int b = 0; b < PR; b++) acc[a][b] += x[a] * y[b];                                \
	}                                                                                             \
	for (int a = 0; a < PR; a++)                                                                  \
		for (int b = 0; b < PR; b++) G[(k0 + a) * rg + l0 + b] += S##_hsum(acc[a][b]);            \
}                                                                                                 \
__attribute__((target(TGT))) static int S##_gram_rows(const float *b, int64_t r, int64_t n,      \
		double *g) {                                                                             \
	int64_t rg = (r + PR - 1) / PR * PR;                                                          \
	int64_t ch = W2W_CHUNK_DOUBLES / rg / L * L;                                                  \
	if (ch < L) ch = L;                                                                           \
	int64_t np = (n + L - 1) / L * L;                                                             \
	if (ch > np) ch = np;                                                                         \
	double *buf = calloc(rg * ch, sizeof(double));                                                \
	double *G = calloc(rg * rg, sizeof(double));                                                  \
	if (!buf || !G) { free(buf); free(G); return -1; }                                            \
	for (int64_t j0 = 0; j0 < n; j0 += ch) {                                                      \
		int64_t cols = n - j0 < ch ? n - j0 : ch;                                                 \
		int64_t colsp = (cols + L - 1) / L * L;                                                   \
		for (int64_t k = 0; k < r; k++) {                                                         \
			S##_widen(b + k * n + j0, buf + k * ch, cols);                                        \
			for (int64_t j = cols; j < colsp; j++) buf[k * ch + j] = 0;                           \
		}                                                                                         \
		for (int64_t k0 = 0; k0 < rg; k0 += PR)                                                   \
			for (int64_t l0 = k0; l0 < rg; l0 += PR) S##_rtile(buf, ch, colsp, k0, l0, G, rg);    \
	}                                                                                             \
	for (int64_t k = 0; k < r; k++)                                                               \
		for (int64_t l = k; l < r; l++) g[k * r + l] = g[l * r + k] = G[k * rg + l];              \
	free(buf);                                                                                    \
	free(G);                                                                                      \
	return 0;                                                                                     \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_centre(float *x, int64_t n, int64_t d, int64_t c0,  \
		int64_t c1, double *mu) {                                                                \
	int64_t w = c1 - c0, wv = w / L * L;                                                          \
	for (int64_t j = 0; j < w; j++) mu[j] = 0;                                                    \
	for (int64_t i = 0; i < n; i++) {                                                             \
		const float *row = x + i * d + c0;                                                        \
		int64_t j = 0;                                                                            \
		for (; j < wv; j += L) S##_st(mu + j, S##_ld(mu + j) + S##_ldf(row + j));                 \
		for (; j < w; j++) mu[j] += (double)row[j];                                               \
	}                                                                                             \
	for (int64_t j = 0; j < w; j++) mu[j] /= (double)n;                                           \
	for (int64_t i = 0; i < n; i++) {                                                             \
		float *row = x + i * d + c0;                                                              \
		int64_t j = 0;                                                                            \
		for (; j < wv; j += L) {                                                                  \
			VF f = __builtin_convertvector(S##_ldf(row + j) - S##_ld(mu + j), VF);                \
			memcpy(row + j, &f, sizeof f);                                                        \
		}                                                                                         \
		for (; j < w; j++) row[j] = (float)((double)row[j] - mu[j]);                              \
	}                                                                                             \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline void S##_cmbtile(const double *coef,  \
		int64_t n, const float *x, int64_t ldx, int64_t c, float *out, int64_t d, const int kb) { \
	VD acc[4][2];                                                                                 \
	for (int a = 0; a < kb; a++) acc[a][0] = acc[a][1] = (VD){0};                                 \
	for (int64_t i = 0; i < n; i++) {                                                             \
		VD x0 = S##_ldf(x + i * ldx + c), x1 = S##_ldf(x + i * ldx + c + L);                      \
		for (int a = 0; a < kb; a++) {                                                            \
			VD b = S##_bc(coef[a * n + i]);                                                       \
			acc[a][0] += b * x0;                                                                  \
			acc[a][1] += b * x1;                                                                  \
		}                                                                                         \
	}                                                                                             \
	for (int a = 0; a < kb; a++) {                                                                \
		VF f0 = __builtin_convertvector(acc[a][0], VF), f1 = __builtin_convertvector(acc[a][1], VF); \
		memcpy(out + a * d + c, &f0, sizeof f0);                                                  \
		memcpy(out + a * d + c + L, &f1, sizeof f1);                                              \
	}                                                                                             \
}                                                                                                 \
__attribute__((target(TGT))) static int S##_combine(const double *coef, int64_t m, int64_t n,    \
		const float *x, int64_t d, int64_t c0, int64_t c1, float *out) {                         \
	float *buf = malloc(sizeof(float) * n * W2W_COMBINE_SLAB);                                    \
	if (!buf) return -1;                                                                          \
	for (int64_t s0 = c0; s0 < c1; s0 += W2W_COMBINE_SLAB) {                                      \
		int64_t w = c1 - s0 < W2W_COMBINE_SLAB ? c1 - s0 : W2W_COMBINE_SLAB;                      \
		int64_t wv = w / (2 * L) * (2 * L);                                                       \
		for (int64_t i = 0; i < n; i++) memcpy(buf + i * W2W_COMBINE_SLAB, x + i * d + s0, sizeof(float) * w); \
		for (int64_t c = 0; c < wv; c += 2 * L) {                                                 \
			int64_t k = 0;                                                                        \
			for (; k + 4 <= m; k += 4)                                                            \
				S##_cmbtile(coef + k * n, n, buf, W2W_COMBINE_SLAB, c, out + k * d + s0, d, 4); \
			switch (m - k) {                                                                      \
			case 3: S##_cmbtile(coef + k * n, n, buf, W2W_COMBINE_SLAB, c, out + k * d + s0, d, 3); break; \
			case 2: S##_cmbtile(coef + k * n, n, buf, W2W_COMBINE_SLAB, c, out + k * d + s0, d, 2); break; \
			case 1: S##_cmbtile(coef + k * n, n, buf, W2W_COMBINE_SLAB, c, out + k * d + s0, d, 1); break; \
			}                                                                                     \
		}                                                                                         \
		for (int64_t k = 0; k < m; k++)                                                           \
			for (int64_t c = wv; c < w; c++) {                                                    \
				double acc = 0;                                                                   \
				for (int64_t i = 0; i < n; i++) acc += coef[k * n + i] * (double)buf[i * W2W_COMBINE_SLAB + c]; \
				out[k * d + s0 + c] = (float)acc;                                                 \
			}                                                                                     \
	}                                                                                             \
	free(buf);                                                                                    \
	return 0;                                                                                     \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_matvec(const float *a, int64_t rows, int64_t cols,  \
		const double *x, double *y, int trans) {                                                 \
	if (!trans) {                                                                                 \
		for (int64_t i = 0; i < rows; i++) {                                                      \
			const float *row = a + i * cols;                                                      \
			VD acc = (VD){0};                                                                     \
			int64_t j = 0;                                                                        \
			for (; j + L <= cols; j += L) acc += S##_ldf(row + j) * S##_ld(x + j);                \
			double s = S##_hsum(acc);                                                             \
			for (; j < cols; j++) s += (double)row[j] * x[j];                                     \
			y[i] = s;                                                                             \
		}                                                                                         \
		return;                                                                                   \
	}                                                                                             \
	for (int64_t j = 0; j < cols; j++) y[j] = 0;                                                  \
	for (int64_t i = 0; i < rows; i++) {                                                          \
		const float *row = a + i * cols;                                                          \
		double xi = x[i];                                                                         \
		VD b = S##_bc(xi);                                                                         \
		int64_t j = 0;                                                                            \
		for (; j + L <= cols; j += L) S##_st(y + j, S##_ld(y + j) + S##_ldf(row + j) * b);        \
		for (; j < cols; j++) y[j] += (double)row[j] * xi;                                        \
	}                                                                                             \
}

// The products of a PCA (X·Xᵀ and X·Bᵀ of long float32 rows) in float32 vectors: VS holds LS
// floats. W2W_CROSS_VARIANT(S, TGT, VS, LS, PR) defines
//   S_cross(x, ldx, ni, y, ldy, mj, k, out, ldo)
//                                   out[i·ldo+j] += Σ_t x[i·ldx+t]·y[j·ldy+t] for i < ni,
//                                   j < mj, t < k, in PR×PR register tiles over slices of
//                                   W2W_CROSS_SLICE columns; each lane sums its products in
//                                   float32 within a slice and the lanes are added in float64.
#define W2W_CROSS_SLICE 1024
#define W2W_CROSS_VARIANT(S, TGT, VS, LS, PR)                                                      \
__attribute__((target(TGT), always_inline)) static inline VS S##_lds(const float *p) {            \
	VS v; memcpy(&v, p, sizeof v); return v;                                                      \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline double S##_hsumd(VS v) {                \
	double s = 0;                                                                                 \
	for (int t = 0; t < LS; t++) s += (double)v[t];                                               \
	return s;                                                                                     \
}                                                                                                 \
__attribute__((target(TGT), always_inline)) static inline void S##_ctile(const float *x,         \
		int64_t ldx, const float *y, int64_t ldy, int64_t k, double *out, int64_t ldo,            \
		const int pa, const int pb) {                                                            \
	VS acc[PR][PR];                                                                               \
	for (int a = 0; a < pa; a++)                                                                  \
		for (int b = 0; b < pb; b++) acc[a][b] = (VS){0};                                         \
	int64_t kv = k / LS * LS;                                                                     \
	for (int64_t t = 0; t < kv; t += LS) {                                                        \
		VS xa[PR], yb[PR];                                                                        \
		for (int a = 0; a < pa; a++) xa[a] = S##_lds(x + a * ldx + t);                            \
		for (int b = 0; b < pb; b++) yb[b] = S##_lds(y + b * ldy + t);                            \
		for (int a = 0; a < pa; a++)                                                              \
			for (int b = 0; b < pb; b++) acc[a][b] += xa[a] * yb[b];                              \
	}                                                                                             \
	for (int a = 0; a < pa; a++)                                                                  \
		for (int b = 0; b < pb; b++) {                                                            \
			float tail = 0;                                                                       \
			for (int64_t t = kv; t < k; t++) tail += x[a * ldx + t] * y[b * ldy + t];             \
			out[a * ldo + b] += S##_hsumd(acc[a][b]) + (double)tail;                              \
		}                                                                                         \
}                                                                                                 \
__attribute__((target(TGT))) static void S##_cross(const float *x, int64_t ldx, int64_t ni,      \
		const float *y, int64_t ldy, int64_t mj, int64_t k, double *out, int64_t ldo) {         \
	for (int64_t t0 = 0; t0 < k; t0 += W2W_CROSS_SLICE) {                                         \
		int64_t kk = k - t0 < W2W_CROSS_SLICE ? k - t0 : W2W_CROSS_SLICE;                         \
		int64_t i = 0;                                                                            \
		for (; i + PR <= ni; i += PR) {                                                           \
			int64_t j = 0;                                                                        \
			for (; j + PR <= mj; j += PR)                                                         \
				S##_ctile(x + i * ldx + t0, ldx, y + j * ldy + t0, ldy, kk, out + i * ldo + j,    \
					ldo, PR, PR);                                                                 \
			for (; j < mj; j++)                                                                   \
				S##_ctile(x + i * ldx + t0, ldx, y + j * ldy + t0, ldy, kk, out + i * ldo + j,    \
					ldo, PR, 1);                                                                  \
		}                                                                                         \
		for (; i < ni; i++)                                                                       \
			for (int64_t j = 0; j < mj; j++)                                                      \
				S##_ctile(x + i * ldx + t0, ldx, y + j * ldy + t0, ldy, kk, out + i * ldo + j,    \
					ldo, 1, 1);                                                                   \
	}                                                                                             \
}

W2W_VARIANT(w2w512, "avx512f,avx2,fma", w2w_v8d, w2w_v8f, 8, 3, 4, _mm512_set1_pd)
W2W_VARIANT(w2w256, "avx2,fma", w2w_v4d, w2w_v4f, 4, 3, 3, _mm256_set1_pd)
W2W_CROSS_VARIANT(w2w512, "avx512f,avx2,fma", w2w_v16f, 16, 4)
W2W_CROSS_VARIANT(w2w256, "avx2,fma", w2w_v8f, 8, 3)

// The r×r step of the Cholesky route, as toppair.go does it in Go (same algorithm, same
// order of operations; the two are tested against each other): with ga = L·Lᵀ, c = L⁻ᵀ·e for
// the top eigenvector e of S = Lᵀ·gb·L, found by Householder tridiagonalisation, Sturm
// bisection for the largest eigenvalue and inverse iteration. Returns 0, 1 when ga is not
// safely positive definite (the caller takes the eigendecomposition route), -1 when memory
// ran out.
static void w2w_tridiag_top(const double *d, const double *e, int64_t n, double *x, double *scratch) {
	if (n == 1) { x[0] = 1; return; }
	double lo = INFINITY, hi = -INFINITY, scale = 0;
	for (int64_t i = 0; i < n; i++) {
		double rad = 0;
		if (i > 0) rad += fabs(e[i - 1]);
		if (i < n - 1) rad += fabs(e[i]);
		if (d[i] - rad < lo) lo = d[i] - rad;
		if (d[i] + rad > hi) hi = d[i] + rad;
		if (fabs(d[i]) + rad > scale) scale = fabs(d[i]) + rad;
	}
	if (scale == 0) {
		for (int64_t i = 0; i < n; i++) x[i] = 0;
		x[n - 1] = 1;
		return;
	}
	double tiny = scale * 1e-300, eps = 2.220446049250313e-16;
	hi += eps * scale;
	lo -= eps * scale;
	for (int it = 0; it < 200; it++) {
		double width = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
		if (!(hi - lo > 2 * eps * width)) break;
		double mid = lo + (hi - lo) / 2;
		if (mid == lo || mid == hi) break;
		int64_t cnt = 0;
		double q = d[0] - mid;
		for (int64_t i = 0;; i++) {
			if (q == 0) q = -tiny;
			if (q < 0) cnt++;
			if (i == n - 1) break;
			q = d[i + 1] - mid - e[i] * e[i] / q;
		}
		if (cnt == n) hi = mid; else lo = mid;
	}
	double lambda = lo + (hi - lo) / 2;
	double *diag = scratch, *up1 = scratch + n, *up2 = scratch + 2 * n, *mult = scratch + 3 * n,
	       *sub = scratch + 4 * n, *swp = scratch + 5 * n;
	for (int64_t i = 0; i < n; i++) {
		diag[i] = d[i] - lambda;
		up1[i] = i < n - 1 ? e[i] : 0;
		up2[i] = 0;
		mult[i] = 0;
		swp[i] = 0;
		sub[i] = i < n - 1 ? e[i] : 0;
	}
	double piv = eps * scale;
	for (int64_t i = 0; i < n - 1; i++) {
		if (fabs(diag[i]) >= fabs(sub[i])) {
			if (fabs(diag[i]) < piv) {
				diag[i] = copysign(piv, diag[i]);
				if (diag[i] == 0) diag[i] = piv;
			}
			double f = sub[i] / diag[i];
			mult[i] = f;
			diag[i + 1] -= f * up1[i];
		} else {
			double f = diag[i] / sub[i];
			mult[i] = f;
			swp[i] = 1;
			diag[i] = sub[i];
			double t = diag[i + 1];
			diag[i + 1] = up1[i] - f * t;
			up1[i] = t;
			if (i < n - 2) {
				up2[i] = up1[i + 1];
				up1[i + 1] = -f * up2[i];
			}
		}
	}
	if (fabs(diag[n - 1]) < piv) diag[n - 1] = piv;
	for (int64_t i = 0; i < n; i++) x[i] = 1 + fmod((double)i * 0.6180339887498949, 1);
	for (int step = 0; step < 3; step++) {
		for (int64_t i = 0; i < n - 1; i++) {
			if (swp[i] != 0) { double t = x[i]; x[i] = x[i + 1]; x[i + 1] = t; }
			x[i + 1] -= mult[i] * x[i];
		}
		for (int64_t i = n - 1; i >= 0; i--) {
			double acc = x[i];
			if (i + 1 < n) acc -= up1[i] * x[i + 1];
			if (i + 2 < n) acc -= up2[i] * x[i + 2];
			x[i] = acc / diag[i];
		}
		double m = 0;
		for (int64_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
		if (m == 0 || isinf(m) || isnan(m)) break;
		for (int64_t i = 0; i < n; i++) x[i] /= m;
	}
	double ss = 0;
	for (int64_t i = 0; i < n; i++) ss += x[i] * x[i];
	ss = sqrt(ss);
	if (ss > 0) for (int64_t i = 0; i < n; i++) x[i] /= ss;
}

int w2w_top_coef(const double *ga, const double *gb, int64_t r, double min_pivot, double *c) {
	double *l = calloc(r * r, sizeof(double)), *gl = calloc(r * r, sizeof(double)),
	       *s = calloc(r * r, sizeof(double)), *work = calloc(12 * r + 1, sizeof(double));
	int rc = 0;
	if (!l || !gl || !s || !work) { rc = -1; goto out; }
	for (int64_t j = 0; j < r; j++) {
		double sj = ga[j * r + j];
		for (int64_t k = 0; k < j; k++) sj -= l[j * r + k] * l[j * r + k];
		if (!(sj > 0)) { rc = 1; goto out; }
		double dj = sqrt(sj);
		l[j * r + j] = dj;
		for (int64_t i = j + 1; i < r; i++) {
			double t = ga[i * r + j];
			for (int64_t k = 0; k < j; k++) t -= l[i * r + k] * l[j * r + k];
			l[i * r + j] = t / dj;
		}
	}
	double lmax = 0, lmin = INFINITY;
	for (int64_t i = 0; i < r; i++) {
		double dd = l[i * r + i] * l[i * r + i];
		if (dd > lmax) lmax = dd;
		if (dd < lmin) lmin = dd;
	}
	if (lmin <= min_pivot * lmax) { rc = 1; goto out; }
	for (int64_t i = 0; i < r; i++)
		for (int64_t q = 0; q < r; q++) {
			double a = gb[i * r + q];
			for (int64_t j = 0; j <= q; j++) gl[i * r + j] += a * l[q * r + j];
		}
	for (int64_t q = 0; q < r; q++)
		for (int64_t i = 0; i <= q; i++) {
			double a = l[q * r + i];
			for (int64_t j = i; j < r; j++) s[i * r + j] += a * gl[q * r + j];
		}
	for (int64_t i = 0; i < r; i++)
		for (int64_t j = i + 1; j < r; j++) s[j * r + i] = s[i * r + j];
	double *d = work, *e = work + r, *betas = work + 2 * r, *p = work + 3 * r, *v = work + 4 * r,
	       *z = work + 5 * r, *scratch = work + 6 * r;
	for (int64_t k = 0; k + 2 < r; k++) {
		int64_t n = r - k - 1;
		double ss = 0;
		for (int64_t i = 0; i < n; i++) {
			v[i] = s[(k + 1 + i) * r + k];
			ss += v[i] * v[i];
		}
		double norm = sqrt(ss), alpha = v[0] < 0 ? norm : -norm;
		v[0] -= alpha;
		double vv = 0;
		for (int64_t i = 0; i < n; i++) vv += v[i] * v[i];
		betas[k] = 0;
		if (vv == 0 || norm == 0) { e[k] = s[(k + 1) * r + k]; continue; }
		double beta = 2 / vv, pv = 0;
		e[k] = alpha;
		for (int64_t i = 0; i < n; i++) {
			const double *row = s + (k + 1 + i) * r + k + 1;
			double acc = 0;
			for (int64_t j = 0; j < n; j++) acc += row[j] * v[j];
			p[i] = beta * acc;
			pv += p[i] * v[i];
		}
		double cc = beta * pv / 2;
		for (int64_t i = 0; i < n; i++) p[i] -= cc * v[i];
		for (int64_t i = 0; i < n; i++) {
			double *row = s + (k + 1 + i) * r + k + 1;
			double vi = v[i], wi = p[i];
			for (int64_t j = 0; j < n; j++) row[j] -= vi * p[j] + wi * v[j];
		}
		for (int64_t i = 0; i < n; i++) s[(k + 1 + i) * r + k] = v[i];
		betas[k] = beta;
	}
	for (int64_t i = 0; i < r; i++) d[i] = s[i * r + i];
	if (r >= 2) e[r - 2] = s[(r - 1) * r + r - 2];
	w2w_tridiag_top(d, e, r, z, scratch);
	for (int64_t k = r - 3; k >= 0; k--) {
		double beta = betas[k];
		if (beta == 0) continue;
		double *zz = z + k + 1, t = 0;
		int64_t n = r - k - 1;
		for (int64_t i = 0; i < n; i++) t += s[(k + 1 + i) * r + k] * zz[i];
		t *= beta;
		for (int64_t i = 0; i < n; i++) zz[i] -= t * s[(k + 1 + i) * r + k];
	}
	double zn = 0;
	for (int64_t i = 0; i < r; i++) zn += z[i] * z[i];
	zn = sqrt(zn);
	if (zn > 0) for (int64_t i = 0; i < r; i++) z[i] /= zn;
	for (int64_t i = r - 1; i >= 0; i--) {
		double acc = z[i];
		for (int64_t q = i + 1; q < r; q++) acc -= l[q * r + i] * c[q];
		c[i] = acc / l[i * r + i];
	}
out:
	free(l); free(gl); free(s); free(work);
	return rc;
}

// w2w_level is the variant the entry points below run: 2 AVX-512, 1 AVX2+FMA, 0 none (they
// return -1 and the Go kernels run).
static int w2w_level = 0;

int w2w_set_level(int level) {
	w2w_level = level;
	return w2w_level;
}

int w2w_gram_cols(const float *a, int64_t m, int64_t r, double *g) {
	switch (w2w_level) {
	case 2: return w2w512_gram_cols(a, m, r, g);
	case 1: return w2w256_gram_cols(a, m, r, g);
	}
	return -1;
}

int w2w_gram_rows(const float *b, int64_t r, int64_t n, double *g) {
	switch (w2w_level) {
	case 2: return w2w512_gram_rows(b, r, n, g);
	case 1: return w2w256_gram_rows(b, r, n, g);
	}
	return -1;
}

int w2w_cross(const float *x, int64_t ldx, int64_t ni, const float *y, int64_t ldy, int64_t mj,
		int64_t k, double *out, int64_t ldo) {
	switch (w2w_level) {
	case 2: w2w512_cross(x, ldx, ni, y, ldy, mj, k, out, ldo); return 0;
	case 1: w2w256_cross(x, ldx, ni, y, ldy, mj, k, out, ldo); return 0;
	}
	return -1;
}

int w2w_combine(const double *coef, int64_t m, int64_t n, const float *x, int64_t d, int64_t c0,
		int64_t c1, float *out) {
	switch (w2w_level) {
	case 2: return w2w512_combine(coef, m, n, x, d, c0, c1, out);
	case 1: return w2w256_combine(coef, m, n, x, d, c0, c1, out);
	}
	return -1;
}

int w2w_centre(float *x, int64_t n, int64_t d, int64_t c0, int64_t c1, double *mu) {
	switch (w2w_level) {
	case 2: w2w512_centre(x, n, d, c0, c1, mu); return 0;
	case 1: w2w256_centre(x, n, d, c0, c1, mu); return 0;
	}
	return -1;
}

int w2w_matvec(const float *a, int64_t rows, int64_t cols, const double *x, double *y, int trans) {
	switch (w2w_level) {
	case 2: w2w512_matvec(a, rows, cols, x, y, trans); return 0;
	case 1: w2w256_matvec(a, rows, cols, x, y, trans); return 0;
	}
	return -1;
}
