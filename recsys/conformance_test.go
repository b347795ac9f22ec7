package recsys_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

func TestConformance(t *testing.T) {
	models := map[string]func(seed uint64) recsys.Model{
		"itemknn": func(uint64) recsys.Model { return must(recsys.NewItemKNN(&recsys.KNNOptions{})) },
		"userknn": func(uint64) recsys.Model { return must(recsys.NewUserKNN(&recsys.KNNOptions{})) },
		"item2vec": func(seed uint64) recsys.Model {
			return must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Seed: seed, Dim: 16, Epochs: 20}))
		},
		"item2vec-window": func(seed uint64) recsys.Model {
			return must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Seed: seed, Dim: 16, Epochs: 20, Window: 2, Scoring: recsys.Item2VecCosine}))
		},
		"twotower": func(seed uint64) recsys.Model {
			return must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Seed: seed, Dim: 16, Epochs: 30, BatchSize: 64, LR: 0.02}))
		},
		"twotower-vectors-logq": func(seed uint64) recsys.Model {
			return must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Seed: seed, Dim: 16, Epochs: 30, BatchSize: 64, LR: 0.02, ItemVectors: plantedVectors(), LogQ: true}))
		},
		"sasrec": func(seed uint64) recsys.Model {
			return must(recsys.NewSASRec(&recsys.SASRecOptions{Seed: seed, Hidden: 16, MaxLen: 10, Epochs: 60, BatchSize: 64, Dropout: 0.2, LR: 0.005}))
		},
		"sasrec-ce": func(seed uint64) recsys.Model {
			return must(recsys.NewSASRec(&recsys.SASRecOptions{Seed: seed, Hidden: 16, MaxLen: 10, Epochs: 60, BatchSize: 64, Dropout: 0.2, LR: 0.005, Loss: recsys.LossCE}))
		},
	}
	for name, nm := range models {
		t.Run(name, func(t *testing.T) { recsystest.Run(t, nm) })
	}
}

// plantedVectors gives each planted item a noisy one-hot vector of its cluster, standing in
// for image embeddings.
func plantedVectors() []float32 {
	n := recsystest.Clusters * recsystest.ClusterSize
	v := make([]float32, n*recsystest.Clusters)
	for i := 0; i < n; i++ {
		v[i*recsystest.Clusters+i/recsystest.ClusterSize] = 1
		v[i*recsystest.Clusters+(i*7)%recsystest.Clusters] += 0.3
	}
	return v
}

// TestOneUserDataset: a data set with a single user either trains and evaluates or is
// refused with an error; nothing panics.
func TestOneUserDataset(t *testing.T) {
	in, err := recsys.NewInteractions([][]int32{{0, 1, 2, 3, 4}}, 6)
	require.NoError(t, err)
	s, err := recsys.LeaveOneLast(in)
	require.NoError(t, err)
	for _, m := range []recsys.Model{
		must(recsys.NewItemKNN(&recsys.KNNOptions{})),
		must(recsys.NewUserKNN(&recsys.KNNOptions{})),
		must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Dim: 4, Epochs: 1})),
		must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 4, Epochs: 1})),
		must(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 4, Epochs: 1})),
	} {
		if err := m.Fit(context.Background(), s); err != nil {
			assert.Contains(t, err.Error(), "recsys: ", m.Name())
			continue
		}
		for _, p := range []recsys.Protocol{recsys.ProtocolFull, recsys.ProtocolSampled100} {
			met, err := recsys.Evaluate(context.Background(), m, s, &recsys.EvalOptions{Protocol: p})
			require.NoError(t, err, m.Name())
			assert.Equal(t, 1, met.Users)
		}
	}
}
