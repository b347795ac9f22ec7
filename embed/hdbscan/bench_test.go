package hdbscan

import (
	"context"
	"testing"
)

// benchFit clusters the benchmark mixture: n unit vectors in 768 dimensions,
// 20 clusters plus 10% noise, min_cluster_size 15.
func benchFit(b *testing.B, n int, mode Mode) {
	pts, d := flatten(clipLike(2025, n, 768, 20, 0.1, 0.6))
	b.ResetTimer()
	for range b.N {
		res, err := Fit(context.Background(), pts, d, &Options{MinClusterSize: 15, Mode: mode})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.NumClusters), "clusters")
		b.ReportMetric(float64(res.NumNoise()), "noise")
	}
}

// BenchmarkFit20kFast is the 20,000 × 768 benchmark on the fast path.
func BenchmarkFit20kFast(b *testing.B) { benchFit(b, 20000, Fast) }

// BenchmarkFit5kFast is 5,000 × 768 on the fast path.
func BenchmarkFit5kFast(b *testing.B) { benchFit(b, 5000, Fast) }

// BenchmarkFit5kExact is 5,000 × 768 on the exact float64 path.
func BenchmarkFit5kExact(b *testing.B) { benchFit(b, 5000, Exact) }

// BenchmarkFit100kApprox is 100,000 × 768 on the approximate path.
func BenchmarkFit100kApprox(b *testing.B) { benchFit(b, 100000, Approximate) }

// agreement fits the benchmark mixture with both modes and reports the adjusted Rand index
// of the second's labels against the first's.
func agreement(b *testing.B, n int, ref, mode Mode) {
	pts, d := flatten(clipLike(2025, n, 768, 20, 0.1, 0.6))
	for range b.N {
		a, err := Fit(context.Background(), pts, d, &Options{MinClusterSize: 15, Mode: ref})
		if err != nil {
			b.Fatal(err)
		}
		c, err := Fit(context.Background(), pts, d, &Options{MinClusterSize: 15, Mode: mode})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(adjustedRand(a.Labels, c.Labels), "ARI")
		b.ReportMetric(float64(c.NumClusters), "clusters")
		b.ReportMetric(float64(c.NumNoise()), "noise")
	}
}

// BenchmarkAgreeFastExact5k is the fast mode against the exact mode on 5,000 × 768.
func BenchmarkAgreeFastExact5k(b *testing.B) { agreement(b, 5000, Exact, Fast) }

// BenchmarkAgreeApproxFast20k is the approximate path against the fast mode on 20,000 × 768.
func BenchmarkAgreeApproxFast20k(b *testing.B) { agreement(b, 20000, Fast, Approximate) }

// BenchmarkFit10kFast is 10,000 × 768 on the fast path.
func BenchmarkFit10kFast(b *testing.B) { benchFit(b, 10000, Fast) }

// BenchmarkAgreeApproxFast100k is the approximate path against the fast mode on
// 100,000 × 768 (long: the fast mode does 25 times the 20,000-point work).
func BenchmarkAgreeApproxFast100k(b *testing.B) { agreement(b, 100000, Fast, Approximate) }
