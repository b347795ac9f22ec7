package recsys

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
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
// clustered rather than uniform. Each vector picks its centre uniformly.
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

// processCPU is the user + system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeFloat32s writes v as little-endian float32 (numpy's "<f4"), for the reference run.
func writeFloat32s(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}

// BenchmarkHNSW builds an index over RECSYS_ANN_N vectors of RECSYS_ANN_DIM dimensions
// (defaults 50,000 × 128) drawn around RECSYS_ANN_CENTERS centres (default 1,000), then runs
// RECSYS_ANN_QUERIES held-out queries from the same distribution (default 200) at k = 100
// with ef 100 to 1600 and reports recall@100 against exact TopK, queries per second on one
// goroutine and on GOMAXPROCS goroutines, the build time and rate, and exact top-k queries
// per second. RECSYS_ANN_WORKERS sets the insertion workers (default GOMAXPROCS),
// RECSYS_ANN_M and RECSYS_ANN_EFC the graph degree and construction beam (default the
// package defaults), RECSYS_ANN_FULL_PRECISION=1 walks the graph in float32. When
// RECSYS_ANN_DUMP names a folder, the items, queries and exact top-100 are written there for
// scripts/recsys_hnswlib_reference.py.
func BenchmarkHNSW(b *testing.B) {
	n, dim := envInt("RECSYS_ANN_N", 50000), envInt("RECSYS_ANN_DIM", 128)
	nq, centers := envInt("RECSYS_ANN_QUERIES", 200), envInt("RECSYS_ANN_CENTERS", 1000)
	workers := envInt("RECSYS_ANN_WORKERS", 0)
	efc, m := envInt("RECSYS_ANN_EFC", 0), envInt("RECSYS_ANN_M", 0)
	fullPrecision := os.Getenv("RECSYS_ANN_FULL_PRECISION") == "1"
	const k = 100
	t0 := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	all := clusteredVectors(rng, n+nq, dim, centers)
	items, queries := all[:n*dim:n*dim], all[n*dim:]
	fmt.Fprintf(os.Stderr, "hnsw bench: %d×%d, %d centres, %d queries, kernel %s, data in %.1fs\n",
		n, dim, centers, nq, distanceKernel, time.Since(t0).Seconds())
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		exact, err := TopKInnerProduct(context.Background(), queries, items, dim, k, 0)
		if err != nil {
			b.Fatal(err)
		}
		exactDur := time.Since(t1)
		fmt.Fprintf(os.Stderr, "exact TopK: %d queries in %.1fs\n", nq, exactDur.Seconds())
		if dir := os.Getenv("RECSYS_ANN_DUMP"); dir != "" {
			ids := make([]float32, 0, nq*k)
			for _, hs := range exact {
				for _, h := range hs {
					ids = append(ids, float32(h.Item))
				}
			}
			for name, v := range map[string][]float32{"items.f32": items, "queries.f32": queries, "exact.f32": ids} {
				if err := writeFloat32s(filepath.Join(dir, name), v); err != nil {
					b.Fatal(err)
				}
			}
		}
		t2, cpu0 := time.Now(), processCPU()
		idx, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{Seed: 1, Workers: workers,
			EfConstruction: efc, M: m, FullPrecision: fullPrecision,
			Progress: func(p Progress) {
				if p.Done%100000 == 0 {
					el := time.Since(t2).Seconds()
					fmt.Fprintf(os.Stderr, "  %d/%d inserted, %.0fs, %.0f/s\n", p.Done, p.Total, el, float64(p.Done)/el)
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		build := time.Since(t2)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "build: %.1fs, %.0f inserts/s, process CPU %.0fs, Go heap in use %.2f GiB\n",
			build.Seconds(), float64(n)/build.Seconds(), (processCPU() - cpu0).Seconds(), float64(ms.HeapInuse)/(1<<30))
		for _, ef := range []int{100, 200, 400, 800, 1600} {
			found := 0
			res := make([][]Hit, nq)
			t3 := time.Now()
			for q := 0; q < nq; q++ {
				if res[q], err = idx.Search(queries[q*dim:q*dim+dim], k, ef); err != nil {
					b.Fatal(err)
				}
			}
			one := time.Since(t3)
			par := runtime.GOMAXPROCS(0)
			var wg sync.WaitGroup
			t4 := time.Now()
			for w := 0; w < par; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for q := w; q < nq; q += par {
						_, _ = idx.Search(queries[q*dim:q*dim+dim], k, ef)
					}
				}()
			}
			wg.Wait()
			multi := time.Since(t4)
			for q := 0; q < nq; q++ {
				want := map[int32]bool{}
				for _, h := range exact[q] {
					want[h.Item] = true
				}
				for _, h := range res[q] {
					if want[h.Item] {
						found++
					}
				}
			}
			recall := float64(found) / float64(nq*k)
			fmt.Fprintf(os.Stderr, "ef %4d: recall@100 %.4f, %.0f queries/s on 1 goroutine, %.0f on %d\n",
				ef, recall, float64(nq)/one.Seconds(), float64(nq)/multi.Seconds(), par)
			b.ReportMetric(recall, fmt.Sprintf("recall@100/ef%d", ef))
			b.ReportMetric(float64(nq)/one.Seconds(), fmt.Sprintf("qps1/ef%d", ef))
		}
		b.ReportMetric(build.Seconds(), "build-s")
		b.ReportMetric(float64(n)/build.Seconds(), "inserts/s")
		b.ReportMetric(float64(nq)/exactDur.Seconds(), "exact-qps")
	}
}
