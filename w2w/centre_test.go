package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCentre checks the blocked parallel centring against the definition (column means and
// n−1 standard deviations in float64), a constant column included, and that the result is
// the same bit for bit for any number of workers.
func TestCentre(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n, d = 7, 2*centreColBlock + 37
	x := randFloats(rng, n*d, 2)
	for i := 0; i < n; i++ {
		x[i*d+5] = 1.5 // constant column
		x[i*d+d-1] += 100
	}
	for _, standardize := range []bool{false, true} {
		var first []float32
		for _, w := range []int{1, 2, 5} {
			xc := append([]float32(nil), x...)
			mean, std, err := centre(context.Background(), xc, n, d, w, standardize)
			require.NoError(t, err)
			if first == nil {
				first = xc
				for j := 0; j < d; j++ {
					mu, ss := 0.0, 0.0
					for i := 0; i < n; i++ {
						mu += float64(x[i*d+j])
					}
					mu /= n
					for i := 0; i < n; i++ {
						c := float64(x[i*d+j]) - mu
						ss += c * c
					}
					sd := math.Sqrt(ss / (n - 1))
					if sd == 0 {
						sd = 1
					}
					assert.InDelta(t, mu, float64(mean[j]), 1e-6*math.Max(1, math.Abs(mu)))
					for i := 0; i < n; i++ {
						want := float64(x[i*d+j]) - mu
						if standardize {
							want /= sd
							assert.InDelta(t, sd, float64(std[j]), 1e-6*sd)
						}
						assert.InDelta(t, want, float64(xc[i*d+j]), 1e-5*math.Max(1, math.Abs(want)))
					}
				}
				if !standardize {
					assert.Nil(t, std)
				}
				continue
			}
			assert.Equal(t, first, xc, "workers %d", w)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := centre(ctx, append([]float32(nil), x...), n, d, 2, false)
	assert.ErrorIs(t, err, context.Canceled)
}
