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
