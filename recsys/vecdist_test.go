package recsys

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// checkDistances compares a distance kernel with a float64 computation, for lengths that
// exercise every tail of the vector loops.
func checkDistances(t *testing.T, name string, kernel func(Metric, []float32, []float32, int, []int32, []float32)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, dim := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 128, 511, 512, 777} {
		const n = 40
		base := make([]float32, n*dim)
		for i := range base {
			base[i] = float32(rng.NormFloat64())
		}
		q := make([]float32, dim)
		for i := range q {
			q[i] = float32(rng.NormFloat64())
		}
		ids := []int32{39, 0, 5, 5, 17, 38, 1}
		for _, metric := range []Metric{MetricInnerProduct, MetricL2} {
			out := make([]float32, len(ids))
			kernel(metric, q, base, dim, ids, out)
			for j, id := range ids {
				var want, scale float64
				for k := 0; k < dim; k++ {
					a, b := float64(q[k]), float64(base[int(id)*dim+k])
					if metric == MetricL2 {
						want += (a - b) * (a - b)
					} else {
						want -= a * b
					}
					scale += math.Abs(a * b)
				}
				tol := 1e-5 * (scale + 1)
				if metric == MetricL2 {
					tol = 1e-5 * (want + 1)
				}
				assert.InDelta(t, want, float64(out[j]), tol, "%s %s dim %d row %d", name, metric, dim, id)
			}
		}
	}
}

func TestDistancesMatchFloat64(t *testing.T) {
	checkDistances(t, "go", distancesGo)
	checkDistances(t, distanceKernel, distances)
}

// checkHalfDistances compares a half-precision distance kernel with a float64 computation
// over the decoded rows.
func checkHalfDistances(t *testing.T, name string, kernel func(Metric, []float32, []uint16, int, []int32, []float32)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, dim := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 512, 777} {
		const n = 30
		v := make([]float32, n*dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		v[3] = 0
		v[4] = 1e-6 // a binary16 subnormal after scaling only if the scale were 1
		s := halfScale(v)
		base := make([]uint16, len(v))
		toHalf(base, v, s)
		dec := make([]float32, len(v))
		halfRow(dec, base)
		q := make([]float32, dim)
		for i := range q {
			q[i] = float32(rng.NormFloat64()) * s
		}
		ids := []int32{29, 0, 4, 4, 13}
		for _, metric := range []Metric{MetricInnerProduct, MetricL2} {
			out := make([]float32, len(ids))
			kernel(metric, q, base, dim, ids, out)
			for j, id := range ids {
				var want, scale float64
				for k := 0; k < dim; k++ {
					a, b := float64(q[k]), float64(dec[int(id)*dim+k])
					exact := float64(v[int(id)*dim+k]) * float64(s)
					assert.InDelta(t, exact, b, math.Abs(exact)/2048, "decoded value") // binary16: 11 significant bits
					if metric == MetricL2 {
						want += (a - b) * (a - b)
						scale += (a - b) * (a - b)
					} else {
						want -= a * b
						scale += math.Abs(a * b)
					}
				}
				assert.InDelta(t, want, float64(out[j]), 1e-5*(scale+1), "%s half %s dim %d row %d", name, metric, dim, id)
			}
		}
	}
}

func TestHalfDistancesMatchFloat64(t *testing.T) {
	checkHalfDistances(t, "go", distancesHalfGo)
	checkHalfDistances(t, distanceKernel, distancesHalf)
}

func TestHalfScale(t *testing.T) {
	assert.Equal(t, float32(1), halfScale([]float32{0, 0}))
	assert.Equal(t, float32(1<<15), halfScale([]float32{0.5, -0.25})) // 0.5 < 2^0 → 2^15
	assert.Equal(t, float32(1<<14), halfScale([]float32{1, -0.25}))   // 1 < 2^1 → 2^14
	assert.Equal(t, float32(math.Ldexp(1, 100)), halfScale([]float32{1e-37}))
	out := make([]uint16, 2)
	toHalf(out, []float32{65535, -70000}, halfScale([]float32{65535, -70000}))
	dec := make([]float32, 2)
	halfRow(dec, out)
	assert.False(t, math.IsInf(float64(dec[0]), 0) || math.IsInf(float64(dec[1]), 0))
}
