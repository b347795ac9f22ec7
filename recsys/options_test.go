package recsys

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsRejectOutOfRange sets one field of each options type out of its range and
// expects ErrInvalidOptions naming the field.
func TestOptionsRejectOutOfRange(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name, field string
		resolve     func() error
	}{
		{"KNN K", "K", func() error { _, err := (&KNNOptions{K: -1}).resolve(); return err }},
		{"KNN Shrink negative", "Shrink", func() error { _, err := (&KNNOptions{Shrink: -1}).resolve(); return err }},
		{"KNN Shrink NaN", "Shrink", func() error { _, err := (&KNNOptions{Shrink: nan}).resolve(); return err }},
		{"KNN Shrink Inf", "Shrink", func() error { _, err := (&KNNOptions{Shrink: inf}).resolve(); return err }},
		{"KNN Workers", "Workers", func() error { _, err := (&KNNOptions{Workers: -1}).resolve(); return err }},

		{"Item2Vec Dim", "Dim", func() error { _, err := (&Item2VecOptions{Dim: -1}).resolve(); return err }},
		{"Item2Vec Negatives", "Negatives", func() error { _, err := (&Item2VecOptions{Negatives: -1}).resolve(); return err }},
		{"Item2Vec Epochs", "Epochs", func() error { _, err := (&Item2VecOptions{Epochs: -1}).resolve(); return err }},
		{"Item2Vec MaxPairs", "MaxPairs", func() error { _, err := (&Item2VecOptions{MaxPairs: -1}).resolve(); return err }},
		{"Item2Vec Window", "Window", func() error { _, err := (&Item2VecOptions{Window: -1}).resolve(); return err }},
		{"Item2Vec Scoring", "Scoring", func() error { _, err := (&Item2VecOptions{Scoring: 3}).resolve(); return err }},
		{"Item2Vec Scoring negative", "Scoring", func() error { _, err := (&Item2VecOptions{Scoring: -1}).resolve(); return err }},
		{"Item2Vec LR", "LR", func() error { _, err := (&Item2VecOptions{LR: -0.1}).resolve(); return err }},
		{"Item2Vec LR NaN", "LR", func() error { _, err := (&Item2VecOptions{LR: nan}).resolve(); return err }},
		{"Item2Vec Workers", "Workers", func() error { _, err := (&Item2VecOptions{Workers: -2}).resolve(); return err }},

		{"TwoTower Dim", "Dim", func() error { _, err := (&TwoTowerOptions{Dim: -1}).resolve(); return err }},
		{"TwoTower BatchSize 1", "BatchSize", func() error { _, err := (&TwoTowerOptions{BatchSize: 1}).resolve(); return err }},
		{"TwoTower BatchSize negative", "BatchSize", func() error { _, err := (&TwoTowerOptions{BatchSize: -5}).resolve(); return err }},
		{"TwoTower Epochs", "Epochs", func() error { _, err := (&TwoTowerOptions{Epochs: -1}).resolve(); return err }},
		{"TwoTower History", "History", func() error { _, err := (&TwoTowerOptions{History: -1}).resolve(); return err }},
		{"TwoTower LR", "LR", func() error { _, err := (&TwoTowerOptions{LR: -1}).resolve(); return err }},
		{"TwoTower Temperature", "Temperature", func() error { _, err := (&TwoTowerOptions{Temperature: -0.2}).resolve(); return err }},
		{"TwoTower Temperature Inf", "Temperature", func() error { _, err := (&TwoTowerOptions{Temperature: inf}).resolve(); return err }},
		{"TwoTower FreqAlpha negative", "FreqAlpha", func() error { _, err := (&TwoTowerOptions{FreqAlpha: -0.01}).resolve(); return err }},
		{"TwoTower FreqAlpha above 1", "FreqAlpha", func() error { _, err := (&TwoTowerOptions{FreqAlpha: 1.5}).resolve(); return err }},
		{"TwoTower ItemVectors NaN", "ItemVectors", func() error {
			_, err := (&TwoTowerOptions{ItemVectors: []float32{1, float32(nan)}}).resolve()
			return err
		}},
		{"TwoTower Workers", "Workers", func() error { _, err := (&TwoTowerOptions{Workers: -1}).resolve(); return err }},

		{"SASRec Hidden", "Hidden", func() error { _, err := (&SASRecOptions{Hidden: -1}).resolve(); return err }},
		{"SASRec Blocks", "Blocks", func() error { _, err := (&SASRecOptions{Blocks: -1}).resolve(); return err }},
		{"SASRec MaxLen", "MaxLen", func() error { _, err := (&SASRecOptions{MaxLen: -1}).resolve(); return err }},
		{"SASRec Dropout 1", "Dropout", func() error { _, err := (&SASRecOptions{Dropout: 1}).resolve(); return err }},
		{"SASRec Dropout NaN", "Dropout", func() error { _, err := (&SASRecOptions{Dropout: nan}).resolve(); return err }},
		{"SASRec LR", "LR", func() error { _, err := (&SASRecOptions{LR: -0.001}).resolve(); return err }},
		{"SASRec BatchSize", "BatchSize", func() error { _, err := (&SASRecOptions{BatchSize: -1}).resolve(); return err }},
		{"SASRec Epochs", "Epochs", func() error { _, err := (&SASRecOptions{Epochs: -1}).resolve(); return err }},
		{"SASRec Loss", "Loss", func() error { _, err := (&SASRecOptions{Loss: 2}).resolve(); return err }},
		{"SASRec MaxTrainTime", "MaxTrainTime", func() error { _, err := (&SASRecOptions{MaxTrainTime: -time.Second}).resolve(); return err }},
		{"SASRec Workers", "Workers", func() error { _, err := (&SASRecOptions{Workers: -1}).resolve(); return err }},

		{"HNSW M 1", "M", func() error { _, err := (&HNSWOptions{M: 1}).resolve(); return err }},
		{"HNSW M negative", "M", func() error { _, err := (&HNSWOptions{M: -3}).resolve(); return err }},
		{"HNSW M huge", "M", func() error { _, err := (&HNSWOptions{M: hnswMaxSavedM + 1}).resolve(); return err }},
		{"HNSW EfConstruction", "EfConstruction", func() error { _, err := (&HNSWOptions{EfConstruction: -1}).resolve(); return err }},
		{"HNSW EfSearch", "EfSearch", func() error { _, err := (&HNSWOptions{EfSearch: -1}).resolve(); return err }},
		{"HNSW Metric", "Metric", func() error { _, err := (&HNSWOptions{Metric: 7}).resolve(); return err }},
		{"HNSW Workers", "Workers", func() error { _, err := (&HNSWOptions{Workers: -1}).resolve(); return err }},

		{"Eval Protocol", "Protocol", func() error { _, err := (&EvalOptions{Protocol: "bogus"}).resolve(); return err }},
		{"Eval Stage", "Stage", func() error { _, err := (&EvalOptions{Stage: 5}).resolve(); return err }},
		{"Eval Ks", "Ks", func() error { _, err := (&EvalOptions{Ks: []int{10, 0}}).resolve(); return err }},
		{"Eval Workers", "Workers", func() error { _, err := (&EvalOptions{Workers: -1}).resolve(); return err }},
	}
	for _, c := range cases {
		err := c.resolve()
		assert.ErrorIs(t, err, ErrInvalidOptions, c.name)
		assert.ErrorContains(t, err, "recsys: invalid options: ", c.name)
		assert.ErrorContains(t, err, "."+c.field+": ", c.name)
	}
}

// TestOptionsDefaults checks that nil and the zero value resolve to the documented defaults.
func TestOptionsDefaults(t *testing.T) {
	for _, o := range []*KNNOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, KNNOptions{K: DefaultKNNNeighbours}, r)
	}
	for _, o := range []*Item2VecOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, Item2VecOptions{Dim: 64, Negatives: 5, Epochs: 20, MaxPairs: 10, LR: 0.025, Scoring: Item2VecInOut}, r)
	}
	for _, o := range []*TwoTowerOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, TwoTowerOptions{Dim: 64, BatchSize: 256, Epochs: 5, History: 10, LR: 0.005, Temperature: 0.2, FreqAlpha: 0.01}, r)
	}
	for _, o := range []*SASRecOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		// Kang & McAuley 2018 §IV-C.
		assert.Equal(t, SASRecOptions{Hidden: 50, Blocks: 2, MaxLen: 50, Dropout: 0.5, LR: 0.001, BatchSize: 128, Epochs: 200}, r)
	}
	r, err := (&SASRecOptions{Dropout: -1}).resolve()
	require.NoError(t, err)
	assert.Equal(t, 0.0, r.Dropout, "a negative dropout means none")
	for _, o := range []*HNSWOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		// Malkov & Yashunin 2018: M = 16, efConstruction = 200.
		assert.Equal(t, HNSWOptions{M: 16, EfConstruction: 200, EfSearch: 400, Metric: MetricInnerProduct}, r)
	}
	for _, o := range []*EvalOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, EvalOptions{Protocol: ProtocolFull, Stage: StageTest, Ks: []int{10, 50, 100}}, r)
	}
}

// TestConstructorsRejectInvalidOptions checks that every entry point resolves its options.
func TestConstructorsRejectInvalidOptions(t *testing.T) {
	_, err := NewItemKNN(&KNNOptions{K: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewUserKNN(&KNNOptions{K: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewItem2Vec(&Item2VecOptions{Dim: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewTwoTower(&TwoTowerOptions{BatchSize: 1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewSASRec(&SASRecOptions{Dropout: 2})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewHNSW(t.Context(), []float32{1, 0}, 2, &HNSWOptions{M: 1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	m := must(NewItemKNN(nil))
	_, err = Evaluate(t.Context(), m, &Split{}, &EvalOptions{Ks: []int{-1}})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

// TestTwoTowerKeepsResolvedOptions checks that the model scores with the options it was
// built with, whatever happens to the caller's struct afterwards.
func TestTwoTowerKeepsResolvedOptions(t *testing.T) {
	o := &TwoTowerOptions{Dim: 4, Epochs: 1, BatchSize: 2}
	m := must(NewTwoTower(o))
	s := &Split{NumItems: 3, Train: [][]int32{{0, 1, 2}, {2, 1, 0}}, Valid: []int32{-1, -1}, Test: []int32{-1, -1}}
	require.NoError(t, m.Fit(t.Context(), s))
	a := make([]float32, 3)
	require.NoError(t, m.Score(0, []int32{0, 1}, a))
	o.Dim, o.History = 99, 1
	b := make([]float32, 3)
	require.NoError(t, m.Score(0, []int32{0, 1}, b))
	assert.Equal(t, a, b)
}
