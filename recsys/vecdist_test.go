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
