package recsys_test

import (
	"testing"

	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

func TestConformance(t *testing.T) {
	models := map[string]func(seed uint64) recsys.Model{
		"itemknn": func(uint64) recsys.Model { return recsys.NewItemKNN(recsys.KNNOptions{}) },
		"userknn": func(uint64) recsys.Model { return recsys.NewUserKNN(recsys.KNNOptions{}) },
		"item2vec": func(seed uint64) recsys.Model {
			return recsys.NewItem2Vec(recsys.Item2VecOptions{Seed: seed, Dim: 16, Epochs: 20})
		},
		"twotower": func(seed uint64) recsys.Model {
			return recsys.NewTwoTower(recsys.TwoTowerOptions{Seed: seed, Dim: 16, Epochs: 30, BatchSize: 64, LR: 0.02})
		},
		"twotower-vectors": func(seed uint64) recsys.Model {
			return recsys.NewTwoTower(recsys.TwoTowerOptions{Seed: seed, Dim: 16, Epochs: 30, BatchSize: 64, LR: 0.02, ItemVectors: plantedVectors()})
		},
		"sasrec": func(seed uint64) recsys.Model {
			return recsys.NewSASRec(recsys.SASRecOptions{Seed: seed, Hidden: 16, MaxLen: 10, Epochs: 60, BatchSize: 64, Dropout: 0.2, LR: 0.005})
		},
		"sasrec-ce": func(seed uint64) recsys.Model {
			return recsys.NewSASRec(recsys.SASRecOptions{Seed: seed, Hidden: 16, MaxLen: 10, Epochs: 60, BatchSize: 64, Dropout: 0.2, LR: 0.005, Loss: recsys.LossCE})
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
