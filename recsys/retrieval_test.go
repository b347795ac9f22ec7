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
	got, err := TopK(context.Background(), queries, items, dim, k, 2)
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
	_, err = TopK(context.Background(), queries, items[:5], dim, k, 0)
	assert.ErrorContains(t, err, "recsys: topk")
}

func TestHNSWRecallAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, nq, dim, k = 2500, 40, 16, 100
	items := randomUnitVectors(rng, n, dim)
	queries := randomUnitVectors(rng, nq, dim)
	idx, err := NewHNSW(context.Background(), items, dim, HNSWOptions{Seed: 1})
	require.NoError(t, err)
	exact, err := TopK(context.Background(), queries, items, dim, k, 0)
	require.NoError(t, err)
	found := 0
	for q := 0; q < nq; q++ {
		hits, err := idx.Search(queries[q*dim:q*dim+dim], k, 0)
		require.NoError(t, err)
		want := map[int32]bool{}
		for _, h := range exact[q] {
			want[h.Item] = true
		}
		for _, h := range hits {
			if want[h.Item] {
				found++
			}
		}
		for i := 1; i < len(hits); i++ {
			assert.GreaterOrEqual(t, hits[i-1].Score, hits[i].Score)
		}
	}
	recall := float64(found) / float64(nq*k)
	assert.GreaterOrEqual(t, recall, 0.95, "recall@%d", k)
	_, err = idx.Search(queries[:3], k, 0)
	assert.Error(t, err)
	_, err = NewHNSW(context.Background(), items[:5], dim, HNSWOptions{})
	assert.Error(t, err)
	assert.Equal(t, n, idx.Len())
	assert.False(t, math.IsNaN(float64(recall)))
}
