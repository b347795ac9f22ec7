package recsys_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

// promptly is how soon a cancelled operation must return.
const promptly = time.Second

// TestFitCancelled checks that every model's Fit returns promptly with an error wrapping
// context.Canceled, both for a context cancelled before the call and, for the models that
// train by epochs, for one cancelled from the first epoch's progress report.
func TestFitCancelled(t *testing.T) {
	_, s, err := recsystest.PlantedSplit(2)
	require.NoError(t, err)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for name, m := range map[string]recsys.Model{
		"itemknn":  must(recsys.NewItemKNN(nil)),
		"userknn":  must(recsys.NewUserKNN(nil)),
		"item2vec": must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Dim: 8})),
		"twotower": must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 8})),
		"sasrec":   must(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 8})),
	} {
		start := time.Now()
		err := m.Fit(done, s)
		assert.ErrorIs(t, err, context.Canceled, name)
		assert.ErrorContains(t, err, "recsys: "+name, name)
		assert.Less(t, time.Since(start), promptly, name)
		assert.ErrorIs(t, m.Score(0, []int32{1}, make([]float32, s.NumItems)), recsys.ErrNotFitted, "%s: a cancelled Fit leaves the model unfitted", name)
	}

	var cancelled time.Time
	midRun := func(cancel context.CancelFunc) func(recsys.Progress) {
		return func(p recsys.Progress) {
			assert.Equal(t, "epoch", p.Stage)
			assert.Equal(t, 1, p.Done)
			assert.Equal(t, 100000, p.Total)
			assert.Greater(t, p.Loss, 0.0)
			cancelled = time.Now()
			cancel()
		}
	}
	for _, name := range []string{"item2vec", "twotower", "sasrec"} {
		ctx, cancel := context.WithCancel(context.Background())
		progress := midRun(cancel)
		var m recsys.Model
		switch name {
		case "item2vec":
			m = must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Dim: 8, Epochs: 100000, Progress: progress}))
		case "twotower":
			m = must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 8, Epochs: 100000, BatchSize: 16, Progress: progress}))
		case "sasrec":
			m = must(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 8, Epochs: 100000, BatchSize: 16, Progress: progress}))
		}
		err := m.Fit(ctx, s)
		assert.ErrorIs(t, err, context.Canceled, name)
		assert.Less(t, time.Since(cancelled), promptly, name)
		cancel()
	}
}

// TestSASRecMaxTrainTime checks that a time budget ends training without an error and
// leaves a fitted model.
func TestSASRecMaxTrainTime(t *testing.T) {
	_, s, err := recsystest.PlantedSplit(2)
	require.NoError(t, err)
	epochs := 0
	m := must(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 8, Epochs: 100000, MaxTrainTime: time.Nanosecond,
		Progress: func(p recsys.Progress) { epochs = p.Done }}))
	require.NoError(t, m.Fit(context.Background(), s))
	assert.Equal(t, 1, epochs, "the first epoch ends past the budget")
	assert.NoError(t, m.Score(0, []int32{1}, make([]float32, s.NumItems)))
}

func TestEvaluateCancelled(t *testing.T) {
	_, s, err := recsystest.PlantedSplit(2)
	require.NoError(t, err)
	m := must(recsys.NewItemKNN(nil))
	require.NoError(t, m.Fit(context.Background(), s))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = recsys.Evaluate(ctx, m, s, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "recsys: evaluate")

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	_, err = recsys.Evaluate(ctx, m, s, &recsys.EvalOptions{Workers: 1, Progress: func(p recsys.Progress) {
		assert.Equal(t, "evaluate", p.Stage)
		calls++
		cancel()
	}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, calls, "one worker stops at the next user")
}

func TestRetrievalCancelled(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, dim = 25000, 8
	items := make([]float32, n*dim)
	for i := range items {
		items[i] = float32(rng.NormFloat64())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	_, err := recsys.NewHNSW(ctx, items, dim, &recsys.HNSWOptions{M: 2, EfConstruction: 2, FullPrecision: true, Progress: func(p recsys.Progress) {
		if p.Done < n {
			cancelled = time.Now()
			cancel()
		}
	}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "recsys: hnsw")
	assert.Less(t, time.Since(cancelled), promptly)

	done, stop := context.WithCancel(context.Background())
	stop()
	start := time.Now()
	_, err = recsys.TopKInnerProduct(done, items[:1000*dim], items, dim, 10, 0)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "recsys: topk")
	assert.Less(t, time.Since(start), promptly)
}
