//go:build cgo

// The distance kernels of the fast and approximate paths, called from kernel_cgo.go through
// kernel_amd64.h.

#include "kernel_amd64.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "../../internal/simd/f32.h"

// Squared Euclidean distance of two float32 vectors, three versions (AVX-512F, AVX2+FMA,
// plain C) from the shared reductions of internal/simd/f32.h, with the accumulator layout
// these kernels have always had; hdb_set_level selects one.

__attribute__((target("avx512f")))
static float hdb_sq512(const float* a, const float* b, int64_t d) {
	return simd_f32_512(SIMD_SQDIST, a, b, d, 2, 0);
}

__attribute__((target("avx2,fma")))
static float hdb_sq256(const float* a, const float* b, int64_t d) {
	return simd_f32_256(SIMD_SQDIST, a, b, d, 2, 0, 0);
}

static float hdb_sqplain(const float* a, const float* b, int64_t d) {
	return simd_f32_plain(SIMD_SQDIST, a, b, d, 1);
}

static float (*hdb_sq)(const float*, const float*, int64_t) = 0;

// hdb_level is the level set by hdb_set_level; hdb_sq is its squared distance.
static int hdb_level = 0;

int hdb_set_level(int level) {
	hdb_level = level;
	hdb_sq = level == 2 ? hdb_sq512 : level == 1 ? hdb_sq256 : hdb_sqplain;
	return level;
}

// out[i*m + j] = |Q_i - X_j|^2 for nq query rows and m data rows, in tiles of data rows
// that stay in the L2 cache while every query passes over them.
void hdb_block(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d, float* out) {
	const int64_t tile = 128;
	for (int64_t j0 = 0; j0 < m; j0 += tile) {
		int64_t j1 = j0 + tile < m ? j0 + tile : m;
		for (int64_t i = 0; i < nq; i++) {
			const float* q = Q + i * d;
			float* o = out + i * m;
			for (int64_t j = j0; j < j1; j++) o[j] = hdb_sq(q, X + j * d, d);
		}
	}
}

// AVX-512 dot products of 4 query rows with 4 data rows at once (16 accumulators), turned
// into squared distances |q|^2 + |x|^2 - 2 q.x, clamped at 0.
#define HDB_ROW(r, q) \
	a##r##0 = _mm512_fmadd_ps(q, x0, a##r##0); a##r##1 = _mm512_fmadd_ps(q, x1, a##r##1); \
	a##r##2 = _mm512_fmadd_ps(q, x2, a##r##2); a##r##3 = _mm512_fmadd_ps(q, x3, a##r##3);
#define HDB_OUT(r, c) do { \
	float s = qn[r] + xn[c] - 2.0f * _mm512_reduce_add_ps(a##r##c); \
	out[r * ldo + c] = s > 0 ? s : 0; } while (0)

__attribute__((target("avx512f")))
static void hdb_dot4x4(const float* Q, const float* X, int64_t d, const float* qn, const float* xn,
		float* out, int64_t ldo) {
	__m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
	__m512 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
	__m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
	__m512 a30 = a00, a31 = a00, a32 = a00, a33 = a00;
	int64_t k = 0;
	for (; k + 16 <= d; k += 16) {
		__m512 x0 = _mm512_loadu_ps(X + k), x1 = _mm512_loadu_ps(X + d + k);
		__m512 x2 = _mm512_loadu_ps(X + 2 * d + k), x3 = _mm512_loadu_ps(X + 3 * d + k);
		__m512 q0 = _mm512_loadu_ps(Q + k), q1 = _mm512_loadu_ps(Q + d + k);
		__m512 q2 = _mm512_loadu_ps(Q + 2 * d + k), q3 = _mm512_loadu_ps(Q + 3 * d + k);
		HDB_ROW(0, q0) HDB_ROW(1, q1) HDB_ROW(2, q2) HDB_ROW(3, q3)
	}
	if (k < d) {
		__mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
		__m512 x0 = _mm512_maskz_loadu_ps(m, X + k), x1 = _mm512_maskz_loadu_ps(m, X + d + k);
		__m512 x2 = _mm512_maskz_loadu_ps(m, X + 2 * d + k), x3 = _mm512_maskz_loadu_ps(m, X + 3 * d + k);
		__m512 q0 = _mm512_maskz_loadu_ps(m, Q + k), q1 = _mm512_maskz_loadu_ps(m, Q + d + k);
		__m512 q2 = _mm512_maskz_loadu_ps(m, Q + 2 * d + k), q3 = _mm512_maskz_loadu_ps(m, Q + 3 * d + k);
		HDB_ROW(0, q0) HDB_ROW(1, q1) HDB_ROW(2, q2) HDB_ROW(3, q3)
	}
	HDB_OUT(0, 0); HDB_OUT(0, 1); HDB_OUT(0, 2); HDB_OUT(0, 3);
	HDB_OUT(1, 0); HDB_OUT(1, 1); HDB_OUT(1, 2); HDB_OUT(1, 3);
	HDB_OUT(2, 0); HDB_OUT(2, 1); HDB_OUT(2, 2); HDB_OUT(2, 3);
	HDB_OUT(3, 0); HDB_OUT(3, 1); HDB_OUT(3, 2); HDB_OUT(3, 3);
}

__attribute__((target("avx512f")))
static float hdb_dot512(const float* a, const float* b, int64_t d) {
	return simd_f32_512(SIMD_DOT, a, b, d, 2, 0);
}

// One query row against 4 data rows.
__attribute__((target("avx512f")))
static void hdb_dot1x4(const float* Q, const float* X, int64_t d, float qn, const float* xn, float* out) {
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	int64_t k = 0;
	for (; k + 16 <= d; k += 16) {
		__m512 q = _mm512_loadu_ps(Q + k);
		a0 = _mm512_fmadd_ps(q, _mm512_loadu_ps(X + k), a0);
		a1 = _mm512_fmadd_ps(q, _mm512_loadu_ps(X + d + k), a1);
		a2 = _mm512_fmadd_ps(q, _mm512_loadu_ps(X + 2 * d + k), a2);
		a3 = _mm512_fmadd_ps(q, _mm512_loadu_ps(X + 3 * d + k), a3);
	}
	if (k < d) {
		__mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
		__m512 q = _mm512_maskz_loadu_ps(m, Q + k);
		a0 = _mm512_fmadd_ps(q, _mm512_maskz_loadu_ps(m, X + k), a0);
		a1 = _mm512_fmadd_ps(q, _mm512_maskz_loadu_ps(m, X + d + k), a1);
		a2 = _mm512_fmadd_ps(q, _mm512_maskz_loadu_ps(m, X + 2 * d + k), a2);
		a3 = _mm512_fmadd_ps(q, _mm512_maskz_loadu_ps(m, X + 3 * d + k), a3);
	}
	float s;
	s = qn + xn[0] - 2.0f * _mm512_reduce_add_ps(a0); out[0] = s > 0 ? s : 0;
	s = qn + xn[1] - 2.0f * _mm512_reduce_add_ps(a1); out[1] = s > 0 ? s : 0;
	s = qn + xn[2] - 2.0f * _mm512_reduce_add_ps(a2); out[2] = s > 0 ? s : 0;
	s = qn + xn[3] - 2.0f * _mm512_reduce_add_ps(a3); out[3] = s > 0 ? s : 0;
}

__attribute__((target("avx2,fma")))
static float hdb_dot256(const float* a, const float* b, int64_t d) {
	return simd_f32_256(SIMD_DOT, a, b, d, 2, 0, 0);
}

// AVX2 dot products of 4 query rows with 2 data rows (8 accumulators: AVX2 has 16
// registers), turned into squared distances.
__attribute__((target("avx2,fma")))
static void hdb_dot4x2(const float* Q, const float* X, int64_t d, const float* qn, const float* xn,
		float* out, int64_t ldo) {
	__m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;
	__m256 a20 = a00, a21 = a00, a30 = a00, a31 = a00;
	int64_t k = 0;
	for (; k + 8 <= d; k += 8) {
		__m256 x0 = _mm256_loadu_ps(X + k), x1 = _mm256_loadu_ps(X + d + k);
		__m256 q = _mm256_loadu_ps(Q + k);
		a00 = _mm256_fmadd_ps(q, x0, a00); a01 = _mm256_fmadd_ps(q, x1, a01);
		q = _mm256_loadu_ps(Q + d + k);
		a10 = _mm256_fmadd_ps(q, x0, a10); a11 = _mm256_fmadd_ps(q, x1, a11);
		q = _mm256_loadu_ps(Q + 2 * d + k);
		a20 = _mm256_fmadd_ps(q, x0, a20); a21 = _mm256_fmadd_ps(q, x1, a21);
		q = _mm256_loadu_ps(Q + 3 * d + k);
		a30 = _mm256_fmadd_ps(q, x0, a30); a31 = _mm256_fmadd_ps(q, x1, a31);
	}
	float t[4][2] = {{simd_hsum256(a00), simd_hsum256(a01)}, {simd_hsum256(a10), simd_hsum256(a11)},
		{simd_hsum256(a20), simd_hsum256(a21)}, {simd_hsum256(a30), simd_hsum256(a31)}};
	for (int r = 0; r < 4; r++) for (int c = 0; c < 2; c++) {
		float dot = t[r][c];
		for (int64_t kk = k; kk < d; kk++) dot += Q[r * d + kk] * X[c * d + kk];
		float s = qn[r] + xn[c] - 2.0f * dot;
		out[r * ldo + c] = s > 0 ? s : 0;
	}
}

static float hdb_dotplain(const float* a, const float* b, int64_t d) {
	return simd_f32_plain(SIMD_DOT, a, b, d, 1);
}

static float hdb_dot(const float* a, const float* b, int64_t d) {
	return hdb_level == 2 ? hdb_dot512(a, b, d) : hdb_level == 1 ? hdb_dot256(a, b, d) : hdb_dotplain(a, b, d);
}

// The AVX2 version of hdb_block_dot: 4×2 register blocks, remainders one pair at a time.
static void hdb_block_dot2(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d,
		const float* qn, const float* xn, float* out) {
	const int64_t tile = 64;
	for (int64_t j0 = 0; j0 < m; j0 += tile) {
		int64_t j1 = j0 + tile < m ? j0 + tile : m;
		int64_t j2 = j0 + ((j1 - j0) / 2) * 2;
		int64_t i4 = (nq / 4) * 4;
		for (int64_t i = 0; i < i4; i += 4) {
			for (int64_t j = j0; j < j2; j += 2)
				hdb_dot4x2(Q + i * d, X + j * d, d, qn + i, xn + j, out + i * m + j, m);
			for (int64_t j = j2; j < j1; j++)
				for (int64_t r = i; r < i + 4; r++) {
					float s = qn[r] + xn[j] - 2.0f * hdb_dot(Q + r * d, X + j * d, d);
					out[r * m + j] = s > 0 ? s : 0;
				}
		}
		for (int64_t r = i4; r < nq; r++)
			for (int64_t j = j0; j < j1; j++) {
				float s = qn[r] + xn[j] - 2.0f * hdb_dot(Q + r * d, X + j * d, d);
				out[r * m + j] = s > 0 ? s : 0;
			}
	}
}

// Like hdb_block through the norms; the 4x4 AVX-512 kernel covers whole groups and a plain
// loop the remainders.
void hdb_block_dot(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d,
		const float* qn, const float* xn, float* out) {
	if (hdb_level == 1) { hdb_block_dot2(Q, nq, X, m, d, qn, xn, out); return; }
	if (hdb_level == 0) { hdb_block(Q, nq, X, m, d, out); return; }
	const int64_t tile = 64;
	for (int64_t j0 = 0; j0 < m; j0 += tile) {
		int64_t j1 = j0 + tile < m ? j0 + tile : m;
		int64_t j4 = j0 + ((j1 - j0) / 4) * 4;
		int64_t i4 = (nq / 4) * 4;
		for (int64_t i = 0; i < i4; i += 4) {
			for (int64_t j = j0; j < j4; j += 4)
				hdb_dot4x4(Q + i * d, X + j * d, d, qn + i, xn + j, out + i * m + j, m);
			for (int64_t j = j4; j < j1; j++)
				for (int64_t r = i; r < i + 4; r++) {
					float s = qn[r] + xn[j] - 2.0f * hdb_dot(Q + r * d, X + j * d, d);
					out[r * m + j] = s > 0 ? s : 0;
				}
		}
		for (int64_t r = i4; r < nq; r++) {
			for (int64_t j = j0; j < j4; j += 4)
				hdb_dot1x4(Q + r * d, X + j * d, d, qn[r], xn + j, out + r * m + j);
			for (int64_t j = j4; j < j1; j++) {
				float s = qn[r] + xn[j] - 2.0f * hdb_dot(Q + r * d, X + j * d, d);
				out[r * m + j] = s > 0 ? s : 0;
			}
		}
	}
}

// One step of Prim's loop over m candidate rows (see fastPrim).
int64_t hdb_prim(const float* X, int64_t m, int64_t d, const float* q, double cc,
		double alpha, int cosine, const double* core, double* curD, int32_t* curSrc,
		const int32_t* orig, int32_t cur) {
	int64_t best = -1;
	double bestD = 0;
	for (int64_t j = 0; j < m; j++) {
		double lb = core[j] > cc ? core[j] : cc;
		if (curD[j] > lb) {
			double s = (double)hdb_sq(q, X + j * d, d);
			double dist = cosine ? s * 0.5 : sqrt(s);
			if (alpha != 1.0) dist /= alpha;
			double mr = dist > lb ? dist : lb;
			if (mr < curD[j]) { curD[j] = mr; curSrc[j] = cur; }
		}
		if (best < 0 || curD[j] < bestD || (curD[j] == bestD && orig[j] < orig[best])) {
			best = j;
			bestD = curD[j];
		}
	}
	return best;
}
