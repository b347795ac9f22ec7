package recsys

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Dense float32 kernels over row-major matrices, shared by the neural models.

var blas32 gonum.Implementation

// gemm computes C = alpha·op(A)·op(B) + beta·C with op(A) m×k and op(B) k×n, all row-major
// with leading dimensions equal to their column counts.
func gemm(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if transA {
		ta, lda = blas.Trans, m
	}
	if transB {
		tb, ldb = blas.Trans, k
	}
	if k == 0 {
		for i := range c[:m*n] {
			c[i] *= beta
		}
		return
	}
	blas32.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
}

// addBias adds bias (len n) to each of the m rows of x.
func addBias(x []float32, m, n int, bias []float32) {
	for r := 0; r < m; r++ {
		row := x[r*n : r*n+n]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// sumRows adds the column sums of x (m×n) into dst.
func sumRows(dst, x []float32, m, n int) {
	for r := 0; r < m; r++ {
		row := x[r*n : r*n+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// dot32 is the float32 inner product.
func dot32(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	b = b[:len(a)]
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// axpy32 adds alpha·x into y.
func axpy32(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// layerNormEps is the LayerNorm epsilon of SASRec (kang205/SASRec modules.normalize and
// pmixer/SASRec.pytorch torch.nn.LayerNorm(eps=1e-8)).
const layerNormEps = 1e-8

// layerNorm normalises each of the m rows of x (width n) into xhat, stores 1/σ in rstd, and
// writes y = xhat·g + b.
func layerNorm(y, xhat, rstd, x []float32, m, n int, g, b []float32) {
	for r := 0; r < m; r++ {
		row := x[r*n : r*n+n]
		var mean float32
		for _, v := range row {
			mean += v
		}
		mean /= float32(n)
		var vr float32
		for _, v := range row {
			dv := v - mean
			vr += dv * dv
		}
		vr /= float32(n)
		rs := float32(1 / math.Sqrt(float64(vr)+layerNormEps))
		rstd[r] = rs
		xh := xhat[r*n : r*n+n]
		yr := y[r*n : r*n+n]
		for j, v := range row {
			h := (v - mean) * rs
			xh[j] = h
			yr[j] = h*g[j] + b[j]
		}
	}
}

// layerNormBackward adds into dx the gradient through y = LN(x)·g + b for dy, and
// accumulates dg and db.
func layerNormBackward(dx, dy, xhat, rstd []float32, m, n int, g, dg, db []float32) {
	inv := 1 / float32(n)
	for r := 0; r < m; r++ {
		dyr := dy[r*n : r*n+n]
		xh := xhat[r*n : r*n+n]
		var s1, s2 float32
		for j, v := range dyr {
			dxh := v * g[j]
			s1 += dxh
			s2 += dxh * xh[j]
			dg[j] += v * xh[j]
			db[j] += v
		}
		s1 *= inv
		s2 *= inv
		rs := rstd[r]
		dxr := dx[r*n : r*n+n]
		for j, v := range dyr {
			dxr[j] += rs * (v*g[j] - s1 - xh[j]*s2)
		}
	}
}

// adam holds Adam's moments for a flat parameter vector (Kingma & Ba 2015).
type adam struct {
	lr, b1, b2, eps float64
	m, v            []float32
	t               int
}

func newAdam(n int, lr, b1, b2, eps float64) *adam {
	return &adam{lr: lr, b1: b1, b2: b2, eps: eps, m: make([]float32, n), v: make([]float32, n)}
}

// stepRange applies one Adam update to params[lo:hi] for gradient g; the caller advances t
// once per step (before calling) so that ranges can be updated in parallel.
func (a *adam) stepRange(params, g []float32, lo, hi int) {
	bc1 := 1 - math.Pow(a.b1, float64(a.t))
	bc2 := 1 - math.Pow(a.b2, float64(a.t))
	step := float32(a.lr / bc1)
	sq := float32(math.Sqrt(bc2))
	b1, b2 := float32(a.b1), float32(a.b2)
	eps := float32(a.eps)
	m, v, p, gg := a.m[lo:hi], a.v[lo:hi], params[lo:hi], g[lo:hi]
	for i, gi := range gg {
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (float32(math.Sqrt(float64(vi)))/sq + eps)
	}
}
