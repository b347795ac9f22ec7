package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// envInt reads a positive integer from the environment, or returns def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// clusteredVectors draws n unit vectors around `centers` random unit centres with Gaussian
// noise of norm about 0.5, a stand-in for embedding corpora, whose neighbourhoods are
// clustered rather than uniform.
func clusteredVectors(rng *rand.Rand, n, dim, centers int) []float32 {
	c := randomUnitVectors(rng, centers, dim)
	v := make([]float32, n*dim)
	scale := 0.5 / float32(math.Sqrt(float64(dim)))
	for i := 0; i < n; i++ {
		k := rng.IntN(centers)
		row := v[i*dim : i*dim+dim]
		for j := range row {
			row[j] = c[k*dim+j] + float32(rng.NormFloat64())*scale
		}
		normalize32(row)
	}
	return v
}

// BenchmarkHNSW builds an index over RECSYS_ANN_N vectors of RECSYS_ANN_DIM dimensions
// (defaults 50,000 × 128), then runs 200 queries at k = 100 with ef 200, 400 and 800 and
// reports recall@100 against exact TopK, queries per second, the build time, and exact
// top-k queries per second.
func BenchmarkHNSW(b *testing.B) {
	n, dim := envInt("RECSYS_ANN_N", 50000), envInt("RECSYS_ANN_DIM", 128)
	const nq, k = 200, 100
	rng := rand.New(rand.NewPCG(1, 2))
	items := clusteredVectors(rng, n, dim, 1000)
	queries := clusteredVectors(rng, nq, dim, 1000)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		idx, err := NewHNSW(context.Background(), items, dim, HNSWOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		build := time.Since(t0)
		t1 := time.Now()
		exact, err := TopK(context.Background(), queries, items, dim, k, 0)
		if err != nil {
			b.Fatal(err)
		}
		exactDur := time.Since(t1)
		for _, ef := range []int{200, 400, 800} {
			t2 := time.Now()
			found := 0
			for q := 0; q < nq; q++ {
				hits, err := idx.Search(queries[q*dim:q*dim+dim], k, ef)
				if err != nil {
					b.Fatal(err)
				}
				want := map[int32]bool{}
				for _, h := range exact[q] {
					want[h.Item] = true
				}
				for _, h := range hits {
					if want[h.Item] {
						found++
					}
				}
			}
			searchDur := time.Since(t2)
			b.ReportMetric(float64(found)/float64(nq*k), fmt.Sprintf("recall@100/ef%d", ef))
			b.ReportMetric(float64(nq)/searchDur.Seconds(), fmt.Sprintf("qps/ef%d", ef))
		}
		b.ReportMetric(build.Seconds(), "build-s")
		b.ReportMetric(float64(nq)/exactDur.Seconds(), "exact-qps")
	}
}
