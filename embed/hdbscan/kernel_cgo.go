//go:build cgo && amd64

package hdbscan

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

// Squared Euclidean distance of two float32 vectors, three versions chosen once at start-up
// from the CPU's features: AVX-512F, AVX2+FMA, plain C.

__attribute__((target("avx512f")))
static float hdb_sq512(const float* a, const float* b, int64_t d) {
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	int64_t k = 0;
	for (; k + 32 <= d; k += 32) {
		__m512 x0 = _mm512_sub_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k));
		__m512 x1 = _mm512_sub_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16));
		acc0 = _mm512_fmadd_ps(x0, x0, acc0);
		acc1 = _mm512_fmadd_ps(x1, x1, acc1);
	}
	for (; k + 16 <= d; k += 16) {
		__m512 x0 = _mm512_sub_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k));
		acc0 = _mm512_fmadd_ps(x0, x0, acc0);
	}
	if (k < d) {
		__mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
		__m512 x0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k));
		acc0 = _mm512_fmadd_ps(x0, x0, acc0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

__attribute__((target("avx2,fma")))
static float hdb_sq256(const float* a, const float* b, int64_t d) {
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t k = 0;
	for (; k + 16 <= d; k += 16) {
		__m256 x0 = _mm256_sub_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k));
		__m256 x1 = _mm256_sub_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8));
		acc0 = _mm256_fmadd_ps(x0, x0, acc0);
		acc1 = _mm256_fmadd_ps(x1, x1, acc1);
	}
	acc0 = _mm256_add_ps(acc0, acc1);
	__m128 h = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
	h = _mm_add_ps(h, _mm_movehl_ps(h, h));
	h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
	float s = _mm_cvtss_f32(h);
	for (; k < d; k++) {
		float t = a[k] - b[k];
		s += t * t;
	}
	return s;
}

static float hdb_sqplain(const float* a, const float* b, int64_t d) {
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int64_t k = 0;
	for (; k + 4 <= d; k += 4) {
		float t0 = a[k] - b[k], t1 = a[k + 1] - b[k + 1], t2 = a[k + 2] - b[k + 2], t3 = a[k + 3] - b[k + 3];
		s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3;
	}
	for (; k < d; k++) {
		float t = a[k] - b[k];
		s0 += t * t;
	}
	return (s0 + s1) + (s2 + s3);
}

static float (*hdb_sq)(const float*, const float*, int64_t) = 0;

static int hdb_level = 0;

static int hdb_init(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) { hdb_sq = hdb_sq512; hdb_level = 2; return 2; }
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { hdb_sq = hdb_sq256; hdb_level = 1; return 1; }
	hdb_sq = hdb_sqplain;
	hdb_level = 0;
	return 0;
}

// hdb_force selects a kernel level at or below the CPU's (tests use it to run every path).
static int hdb_force(int level) {
	int have = hdb_init();
	if (level > have) level = have;
	hdb_level = level;
	hdb_sq = level == 2 ? hdb_sq512 : level == 1 ? hdb_sq256 : hdb_sqplain;
	return level;
}

// out[i*m + j] = |Q_i - X_j|^2 for nq query rows and m data rows, in tiles of data rows
// that stay in the L2 cache while every query passes over them.
static void hdb_block(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d, float* out) {
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
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	int64_t k = 0;
	for (; k + 32 <= d; k += 32) {
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), acc1);
	}
	for (; k + 16 <= d; k += 16)
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc0);
	if (k < d) {
		__mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
		acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
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
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t k = 0;
	for (; k + 16 <= d; k += 16) {
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), acc1);
	}
	acc0 = _mm256_add_ps(acc0, acc1);
	__m128 h = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
	h = _mm_add_ps(h, _mm_movehl_ps(h, h));
	h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
	float s = _mm_cvtss_f32(h);
	for (; k < d; k++) s += a[k] * b[k];
	return s;
}

__attribute__((target("avx2,fma")))
static inline float hdb_hsum256(__m256 v) {
	__m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	h = _mm_add_ps(h, _mm_movehl_ps(h, h));
	h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
	return _mm_cvtss_f32(h);
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
	float t[4][2] = {{hdb_hsum256(a00), hdb_hsum256(a01)}, {hdb_hsum256(a10), hdb_hsum256(a11)},
		{hdb_hsum256(a20), hdb_hsum256(a21)}, {hdb_hsum256(a30), hdb_hsum256(a31)}};
	for (int r = 0; r < 4; r++) for (int c = 0; c < 2; c++) {
		float dot = t[r][c];
		for (int64_t kk = k; kk < d; kk++) dot += Q[r * d + kk] * X[c * d + kk];
		float s = qn[r] + xn[c] - 2.0f * dot;
		out[r * ldo + c] = s > 0 ? s : 0;
	}
}

static float hdb_dotplain(const float* a, const float* b, int64_t d) {
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int64_t k = 0;
	for (; k + 4 <= d; k += 4) {
		s0 += a[k] * b[k]; s1 += a[k + 1] * b[k + 1]; s2 += a[k + 2] * b[k + 2]; s3 += a[k + 3] * b[k + 3];
	}
	for (; k < d; k++) s0 += a[k] * b[k];
	return (s0 + s1) + (s2 + s3);
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
static void hdb_block_dot(const float* Q, int64_t nq, const float* X, int64_t m, int64_t d,
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
static int64_t hdb_prim(const float* X, int64_t m, int64_t d, const float* q, double cc,
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
*/
import "C"

import "unsafe"

var kernelLevel = int(C.hdb_init())

// forceKernel selects kernel level 2 (AVX-512), 1 (AVX2) or 0 (plain C), at most what the
// CPU has, and returns the level set. For tests.
func forceKernel(level int) int {
	kernelLevel = int(C.hdb_force(C.int(level)))
	return kernelLevel
}

// kernelName says which distance kernel this build and CPU use.
func kernelName() string {
	switch kernelLevel {
	case 2:
		return "avx512"
	case 1:
		return "avx2"
	}
	return "c"
}

func sqBlock(q []float32, nq int, x []float32, m, d int, out []float32) {
	if nq == 0 || m == 0 {
		return
	}
	C.hdb_block((*C.float)(unsafe.Pointer(&q[0])), C.int64_t(nq), (*C.float)(unsafe.Pointer(&x[0])),
		C.int64_t(m), C.int64_t(d), (*C.float)(unsafe.Pointer(&out[0])))
}

// sqBlockNorms is sqBlock through precomputed squared norms (dot-product form, faster,
// less accurate for near-duplicates: the error is about 1e-7 of the squared norms).
func sqBlockNorms(q []float32, nq int, x []float32, m, d int, qn, xn, out []float32) {
	if nq == 0 || m == 0 {
		return
	}
	C.hdb_block_dot((*C.float)(unsafe.Pointer(&q[0])), C.int64_t(nq), (*C.float)(unsafe.Pointer(&x[0])),
		C.int64_t(m), C.int64_t(d), (*C.float)(unsafe.Pointer(&qn[0])), (*C.float)(unsafe.Pointer(&xn[0])),
		(*C.float)(unsafe.Pointer(&out[0])))
}

func primChunk(x []float32, m, d int, q []float32, cc, alpha float64, cosine bool,
	core, curD []float64, curSrc, orig []int32, cur int32) int {
	if m == 0 {
		return -1
	}
	cs := C.int(0)
	if cosine {
		cs = 1
	}
	return int(C.hdb_prim((*C.float)(unsafe.Pointer(&x[0])), C.int64_t(m), C.int64_t(d),
		(*C.float)(unsafe.Pointer(&q[0])), C.double(cc), C.double(alpha), cs,
		(*C.double)(unsafe.Pointer(&core[0])), (*C.double)(unsafe.Pointer(&curD[0])),
		(*C.int32_t)(unsafe.Pointer(&curSrc[0])), (*C.int32_t)(unsafe.Pointer(&orig[0])), C.int32_t(cur)))
}
