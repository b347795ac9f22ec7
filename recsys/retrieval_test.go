package recsys

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomUnitVectors(rng *rand.Rand, n, dim int) []float32 {
	v := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		row := v[i*dim : i*dim+dim]
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		normalize32(row)
	}
	return v
}

func TestTopKMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, nq, dim, k = 3000, 70, 12, 25
	items := randomUnitVectors(rng, n, dim)
	queries := randomUnitVectors(rng, nq, dim)
	// Duplicate an item so that a tie must go to the lower index.
	copy(items[10*dim:11*dim], items[2000*dim:2001*dim])
	got, err := TopKInnerProduct(context.Background(), queries, items, dim, k, 2)
	require.NoError(t, err)
	for q := 0; q < nq; q++ {
		all := make([]Hit, n)
		for i := 0; i < n; i++ {
			var s float64
			for j := 0; j < dim; j++ {
				s += float64(queries[q*dim+j]) * float64(items[i*dim+j])
			}
			all[i] = Hit{Item: int32(i), Score: float32(s)}
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].Score > all[b].Score })
		require.Len(t, got[q], k)
		for r := 0; r < k; r++ {
			assert.InDelta(t, all[r].Score, got[q][r].Score, 1e-5, "query %d rank %d", q, r)
		}
	}
	_, err = TopKInnerProduct(context.Background(), queries, items[:5], dim, k, 0)
	assert.ErrorContains(t, err, "recsys: topk")
}

// hnswRecall is the fraction of the exact top-k that the index finds for the queries.
func hnswRecall(t *testing.T, idx *HNSW, queries, items []float32, dim, k, ef int, metric Metric) float64 {
	t.Helper()
	nq := len(queries) / dim
	var exact [][]Hit
	if metric == MetricL2 {
		exact = make([][]Hit, nq)
		for q := 0; q < nq; q++ {
			all := make([]Hit, len(items)/dim)
			for i := range all {
				all[i] = Hit{Item: int32(i), Score: -l2sq32(queries[q*dim:q*dim+dim], items[i*dim:i*dim+dim])}
			}
			sort.SliceStable(all, func(a, b int) bool { return all[a].Score > all[b].Score })
			exact[q] = all[:k]
		}
	} else {
		var err error
		exact, err = TopKInnerProduct(context.Background(), queries, items, dim, k, 0)
		require.NoError(t, err)
	}
	found := 0
	for q := 0; q < nq; q++ {
		hits, err := idx.Search(queries[q*dim:q*dim+dim], k, ef)
		require.NoError(t, err)
		require.Len(t, hits, k)
		want := map[int32]bool{}
		for _, h := range exact[q] {
			want[h.Item] = true
		}
		for i, h := range hits {
			if want[h.Item] {
				found++
			}
			if i > 0 {
				assert.GreaterOrEqual(t, hits[i-1].Score, h.Score)
			}
		}
	}
	return float64(found) / float64(nq*k)
}

func TestHNSWRecallAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, nq, dim, k = 2000, 30, 16, 100
	items := randomUnitVectors(rng, n, dim)
	queries := randomUnitVectors(rng, nq, dim)
	for _, workers := range []int{1, 2} {
		for _, full := range []bool{false, workers == 2} {
			idx, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{Seed: 1, Workers: workers, FullPrecision: full})
			require.NoError(t, err)
			assert.Equal(t, n, idx.Len())
			assert.Equal(t, dim, idx.Dim())
			recall := hnswRecall(t, idx, queries, items, dim, k, 0, MetricInnerProduct)
			assert.GreaterOrEqual(t, recall, 0.95, "recall@%d, %d workers, full precision %v", k, workers, full)
		}
	}
}

func TestHNSWScoresAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n, dim = 500, 24
	items := randomUnitVectors(rng, n, dim)
	q := randomUnitVectors(rng, 1, dim)
	idx, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{Seed: 3})
	require.NoError(t, err)
	hits, err := idx.Search(q, 10, 0)
	require.NoError(t, err)
	for _, h := range hits {
		var s float64
		for j := 0; j < dim; j++ {
			s += float64(q[j]) * float64(items[int(h.Item)*dim+j])
		}
		assert.InDelta(t, s, float64(h.Score), 1e-6, "item %d", h.Item)
	}
}

func TestHNSWL2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, nq, dim, k = 2000, 30, 8, 50
	items := make([]float32, n*dim)
	for i := range items {
		items[i] = float32(rng.NormFloat64() * 100) // not unit vectors: L2 must not need them
	}
	queries := make([]float32, nq*dim)
	for i := range queries {
		queries[i] = float32(rng.NormFloat64() * 100)
	}
	idx, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{Seed: 2, Metric: MetricL2})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, hnswRecall(t, idx, queries, items, dim, k, 0, MetricL2), 0.95)
	hits, err := idx.Search(items[7*dim:8*dim], 1, 0)
	require.NoError(t, err)
	assert.Equal(t, int32(7), hits[0].Item)
	assert.Equal(t, float32(0), hits[0].Score)
}

// TestHNSWDeterministic checks that one worker builds the same graph every time and that
// the levels do not depend on the worker count (recall with several workers is checked in
// TestHNSWRecallAgainstExact).
func TestHNSWDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, dim = 1500, 12
	items := clusteredVectors(rng, n, dim, 30)
	opt := HNSWOptions{Seed: 5, Workers: 1, EfConstruction: 64}
	a, err := NewHNSW(context.Background(), items, dim, &opt)
	require.NoError(t, err)
	b, err := NewHNSW(context.Background(), items, dim, &opt)
	require.NoError(t, err)
	assert.Equal(t, a.links0, b.links0)
	assert.Equal(t, a.upper, b.upper)
	assert.Equal(t, a.entry, b.entry)
	opt.Workers = 3
	c, err := NewHNSW(context.Background(), items, dim, &opt)
	require.NoError(t, err)
	assert.Equal(t, a.levels, c.levels, "levels do not depend on the worker count")
}

func TestHNSWCancelAndProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const n, dim = 25000, 4
	items := randomUnitVectors(rng, n, dim)
	var calls []int
	_, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{M: 2, EfConstruction: 2, FullPrecision: true, Progress: func(p Progress) {
		assert.Equal(t, "insert", p.Stage)
		assert.Equal(t, n, p.Total)
		calls = append(calls, p.Done)
	}})
	require.NoError(t, err)
	assert.Equal(t, []int{10000, 20000, n}, calls)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = NewHNSW(ctx, items, dim, &HNSWOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestHNSWBadInput(t *testing.T) {
	items := []float32{1, 0, 0, 1, 0.6, 0.8}
	_, err := NewHNSW(context.Background(), items[:5], 2, &HNSWOptions{})
	assert.ErrorContains(t, err, "recsys: hnsw")
	_, err = NewHNSW(context.Background(), nil, 2, &HNSWOptions{})
	assert.Error(t, err)
	_, err = NewHNSW(context.Background(), items, 0, &HNSWOptions{})
	assert.Error(t, err)
	_, err = NewHNSW(context.Background(), items, 2, &HNSWOptions{Metric: 7})
	assert.ErrorContains(t, err, "metric")
	_, err = NewHNSW(context.Background(), []float32{1, float32(math.NaN())}, 2, &HNSWOptions{})
	assert.ErrorContains(t, err, "vector 0, component 1")
	idx, err := NewHNSW(context.Background(), items[:2], 2, &HNSWOptions{})
	require.NoError(t, err)
	hits, err := idx.Search([]float32{1, 0}, 5, 0)
	require.NoError(t, err)
	assert.Equal(t, []Hit{{Item: 0, Score: 1}}, hits)
	_, err = idx.Search([]float32{1}, 1, 0)
	assert.ErrorContains(t, err, "query has 1 values")
	_, err = idx.Search([]float32{1, 0}, 0, 0)
	assert.ErrorContains(t, err, "k = 0")
}

// Vectors whose float32 distances could overflow are refused (an overflowed distance would
// break the ordering the graph walks rely on); vectors just inside the bound still build and
// search with finite scores, in both precisions.
func TestHNSWLargeVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n, dim = 300, 8
	huge := make([]float32, n*dim)
	for i := range huge {
		huge[i] = float32(rng.NormFloat64() * 1e19)
	}
	for _, full := range []bool{false, true} {
		_, err := NewHNSW(context.Background(), huge, dim, &HNSWOptions{FullPrecision: full, Workers: 1})
		assert.ErrorContains(t, err, "squared norm", "full precision %v", full)
	}
	// Scale every row to squared norm maxHNSWNorm2/2.
	big := make([]float32, n*dim)
	for r := 0; r < n; r++ {
		n2 := 0.0
		for j := range dim {
			x := rng.NormFloat64()
			big[r*dim+j] = float32(x)
			n2 += x * x
		}
		f := math.Sqrt(maxHNSWNorm2 / 2 / n2)
		for j := range dim {
			big[r*dim+j] = float32(float64(big[r*dim+j]) * f * 0.999)
		}
	}
	for _, metric := range []Metric{MetricInnerProduct, MetricL2} {
		for _, full := range []bool{false, true} {
			idx, err := NewHNSW(context.Background(), big, dim, &HNSWOptions{Metric: metric, FullPrecision: full, Workers: 2})
			require.NoError(t, err)
			hits, err := idx.Search(big[:dim], 10, 0)
			require.NoError(t, err)
			require.Len(t, hits, 10)
			for _, h := range hits {
				assert.False(t, math.IsNaN(float64(h.Score)) || math.IsInf(float64(h.Score), 0), "metric %v full %v: score %v", metric, full, h.Score)
			}
			_, err = idx.Search(huge[:dim], 10, 0)
			assert.ErrorContains(t, err, "query has squared norm")
			_, err = idx.Search([]float32{1, 2, 3, float32(math.NaN()), 5, 6, 7, 8}, 10, 0)
			assert.ErrorContains(t, err, "query component 3")
		}
	}
}
