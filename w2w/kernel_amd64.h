// Entry points of the C factor kernels (kernel_amd64.c), called from kernel_cgo.go. Each
// runs the variant chosen by w2w_set_level and returns -1 when none is (level 0) or when
// memory for its buffers ran out; the Go side then runs the Go kernels.

#ifndef W2W_KERNEL_AMD64_H
#define W2W_KERNEL_AMD64_H

#include <stdint.h>

// w2w_set_level selects the variant: 2 AVX-512, 1 AVX2+FMA, 0 none. The caller passes a
// level the CPU runs. It returns the level set.
int w2w_set_level(int level);

// w2w_gram_cols sets g (r×r) = AᵀA for row-major A (m×r).
int w2w_gram_cols(const float *a, int64_t m, int64_t r, double *g);

// w2w_gram_rows sets g (r×r) = B·Bᵀ for row-major B (r×n).
int w2w_gram_rows(const float *b, int64_t r, int64_t n, double *g);

// w2w_cross adds Σ_t x[i·ldx+t]·y[j·ldy+t] over t < k to out[i·ldo+j] for i < ni, j < mj.
int w2w_cross(const float *x, int64_t ldx, int64_t ni, const float *y, int64_t ldy, int64_t mj,
		int64_t k, double *out, int64_t ldo);

// w2w_combine sets out[k][c] = Σ_i coef[k][i]·x[i][c] for k < m and c0 ≤ c < c1 (coef m×n
// float64, x n×d and out m×d float32).
int w2w_combine(const double *coef, int64_t m, int64_t n, const float *x, int64_t d, int64_t c0,
		int64_t c1, float *out);

// w2w_centre sets mu to the means of columns c0..c1−1 of the row-major n×d x and subtracts
// them in place.
int w2w_centre(float *x, int64_t n, int64_t d, int64_t c0, int64_t c1, double *mu);

// w2w_matvec sets y = A·x (trans 0) or y = Aᵀ·x (trans 1) for the row-major rows×cols a.
int w2w_matvec(const float *a, int64_t rows, int64_t cols, const double *x, double *y, int trans);

// w2w_top_coef is the r×r step of the Cholesky route (plain C, any level): c = L⁻ᵀ·e for
// ga = L·Lᵀ and the top eigenvector e of Lᵀ·gb·L. It returns 0, 1 when ga is not safely
// positive definite (min_pivot), or -1 when memory ran out.
int w2w_top_coef(const double *ga, const double *gb, int64_t r, double min_pivot, double *c);

#endif
