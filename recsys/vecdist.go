package recsys

import (
	"math"

	"github.com/x448/float16"
)

// Batched float32 distances for the HNSW index. One call computes the distance from a query
// to a list of stored rows, so that the per-call cost of the accelerated kernel (cgo, see
// vecdist_cgo.go) is paid once per visited node rather than once per neighbour.

// Metric is the distance an [HNSW] index ranks by.
type Metric int

const (
	// MetricInnerProduct ranks by inner product, largest first (maximum inner-product
	// search; cosine for unit vectors). It is the zero value.
	MetricInnerProduct Metric = iota
	// MetricL2 ranks by Euclidean distance, nearest first.
	MetricL2
)

func (m Metric) String() string {
	switch m {
	case MetricInnerProduct:
		return "inner-product"
	case MetricL2:
		return "l2"
	}
	return "unknown"
}

// distancesGo writes into out[j] the distance from q to row ids[j] of base (row-major, dim
// columns): the negative inner product for MetricInnerProduct, the squared Euclidean
// distance for MetricL2. Smaller is nearer in both cases. It is the portable reference the
// accelerated kernels are tested against.
func distancesGo(metric Metric, q, base []float32, dim int, ids []int32, out []float32) {
	out = out[:len(ids)]
	for j, id := range ids {
		row := base[int(id)*dim:][:dim]
		if metric == MetricL2 {
			out[j] = l2sq32(q, row)
		} else {
			out[j] = -dot32(q, row)
		}
	}
}

// l2sq32 is the squared Euclidean distance of two float32 vectors.
func l2sq32(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	b = b[:len(a)]
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return s0 + s1 + s2 + s3
}

// distancesHalfGo is distancesGo over rows stored in IEEE half precision (binary16 bits).
func distancesHalfGo(metric Metric, q []float32, base []uint16, dim int, ids []int32, out []float32) {
	out = out[:len(ids)]
	for j, id := range ids {
		row := base[int(id)*dim:][:dim]
		var s float32
		for k, u := range row {
			x := float16.Frombits(u).Float32()
			if metric == MetricL2 {
				s += (q[k] - x) * (q[k] - x)
			} else {
				s += q[k] * x
			}
		}
		if metric == MetricL2 {
			out[j] = s
		} else {
			out[j] = -s
		}
	}
}

// halfMaxExponent bounds the scaled values stored in half precision: |x| < 2^15, below the
// largest finite binary16 value 65504 (IEEE 754-2008 §3.6), so rounding never overflows.
const halfMaxExponent = 15

// halfMaxScaleExponent caps the scale at 2^100 so that it stays a finite float32 (whose
// largest exponent is 127) for inputs made of tiny values only.
const halfMaxScaleExponent = 100

// halfScale returns the power of two s that brings the largest magnitude in v just below
// 2^halfMaxExponent. Scaling by a power of two is exact in float32 and keeps the order of
// both metrics (inner products scale by s², squared distances by s²), while it moves the
// values away from the binary16 subnormal range where precision is lost.
func halfScale(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		return 1
	}
	_, e := math.Frexp(float64(m)) // m < 2^e
	return float32(math.Ldexp(1, min(halfMaxExponent-e, halfMaxScaleExponent)))
}

// toHalf stores s·v in half precision (round to nearest even).
func toHalf(dst []uint16, v []float32, s float32) {
	for i, x := range v {
		dst[i] = float16.Fromfloat32(x * s).Bits()
	}
}
