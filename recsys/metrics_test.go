package recsys

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedModel scores item i as table[user][i].
type fixedModel struct {
	table [][]float32
	seq   bool
}

func (m *fixedModel) Name() string                      { return "fixed" }
func (m *fixedModel) Sequential() bool                  { return m.seq }
func (m *fixedModel) Fit(context.Context, *Split) error { return nil }
func (m *fixedModel) Score(u int, _ []int32, dst []float32) error {
	copy(dst, m.table[u])
	return nil
}

func TestRankMetricsHandValues(t *testing.T) {
	r, n, m := RankMetrics(0, 10)
	assert.Equal(t, [3]float64{1, 1, 1}, [3]float64{r, n, m})
	r, n, m = RankMetrics(2, 10) // third place: 1/log2(4) = 0.5, 1/3
	assert.Equal(t, 1.0, r)
	assert.InDelta(t, 0.5, n, 1e-15)
	assert.InDelta(t, 1.0/3, m, 1e-15)
	r, n, m = RankMetrics(10, 10)
	assert.Equal(t, [3]float64{0, 0, 0}, [3]float64{r, n, m})
}

func TestEvaluateFullMasksHistoryOfGeneralModels(t *testing.T) {
	// 6 items. User 0: train {0,1}, valid 2, test 3. User 1: train {4}, valid 5, test 0.
	s := &Split{NumItems: 6, Train: [][]int32{{0, 1}, {4}}, Valid: []int32{2, 5}, Test: []int32{3, 0}}
	m := &fixedModel{table: [][]float32{
		{9, 8, 7, 5, 6, 1}, // test 3: items 0,1,2 masked (history incl. valid), 4 beats it: rank 1
		{3, 0, 5, 4, 9, 1}, // test 0: items 4,5 masked; 2 and 3 beat it: rank 2
	}}
	got, err := Evaluate(context.Background(), m, s, &EvalOptions{Ks: []int{1, 2, 3}})
	require.NoError(t, err)
	assert.Equal(t, 2, got.Users)
	assert.InDelta(t, 0.0, got.Recall[1], 1e-12)
	assert.InDelta(t, 0.5, got.Recall[2], 1e-12)
	assert.InDelta(t, 1.0, got.Recall[3], 1e-12)
	assert.InDelta(t, (1/math.Log2(3)+1/math.Log2(4))/2, got.NDCG[3], 1e-12)
	assert.InDelta(t, (0.5+1.0/3)/2, got.MRR[3], 1e-12)

	// A sequential model sees no mask: user 0 ranks 5th (9,8,7,6 > 5), user 1 4th (5,4,9 > 3).
	m.seq = true
	got, err = Evaluate(context.Background(), m, s, &EvalOptions{Ks: []int{4, 5}})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, got.Recall[4], 1e-12)
	assert.InDelta(t, 1.0, got.Recall[5], 1e-12)
	assert.InDelta(t, (1/math.Log2(6)+1/math.Log2(5))/2, got.NDCG[5], 1e-12)
}

func TestEvaluateTiesCountAgainstTarget(t *testing.T) {
	s := &Split{NumItems: 4, Train: [][]int32{{0}}, Valid: []int32{1}, Test: []int32{2}}
	m := &fixedModel{table: [][]float32{{1, 1, 1, 1}}, seq: true}
	got, err := Evaluate(context.Background(), m, s, &EvalOptions{Ks: []int{3, 4}})
	require.NoError(t, err)
	assert.Equal(t, 0.0, got.Recall[3])
	assert.Equal(t, 1.0, got.Recall[4])
}

func TestEvaluateSampled(t *testing.T) {
	const n = 1000
	s := &Split{NumItems: n, Train: [][]int32{{0, 1}}, Valid: []int32{2}, Test: []int32{3}}
	// Item i scores i: the target 3 is beaten by every sampled negative above 3.
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(i)
	}
	m := &fixedModel{table: [][]float32{row}, seq: true}
	got, err := Evaluate(context.Background(), m, s, &EvalOptions{Protocol: ProtocolSampled100, Ks: []int{100, 101}})
	require.NoError(t, err)
	assert.Equal(t, 0.0, got.Recall[100])
	assert.Equal(t, 1.0, got.Recall[101])
	negs := sampleNegatives(nil, s, 0, 7)
	assert.Len(t, negs, SampledNegatives)
	seen := map[int32]bool{}
	for _, it := range negs {
		assert.False(t, it <= 3, "touched item %d sampled", it)
		assert.False(t, seen[it], "duplicate %d", it)
		seen[it] = true
	}
	assert.Equal(t, negs, sampleNegatives(nil, s, 0, 7), "same seed, same draw")
	_, err = Evaluate(context.Background(), m, s, &EvalOptions{Protocol: "bogus"})
	assert.Error(t, err)
}
