package main

import "github.com/imagegem/imagegem-go/recsys"

// extraModel builds the embedding models.
func extraModel(name string, seed uint64, epochs int) (recsys.Model, bool) {
	switch name {
	case "item2vec":
		return recsys.NewItem2Vec(recsys.Item2VecOptions{Seed: seed, Epochs: epochs}), true
	case "twotower":
		return recsys.NewTwoTower(recsys.TwoTowerOptions{Seed: seed, Epochs: epochs}), true
	}
	return nil, false
}

func saveModel(m recsys.Model, path string) error {
	return recsys.SaveFile(path, m)
}
