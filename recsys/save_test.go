package recsys_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

func smallModels() []recsys.Model {
	return []recsys.Model{
		must(recsys.NewItemKNN(&recsys.KNNOptions{K: 5})),
		must(recsys.NewUserKNN(&recsys.KNNOptions{K: 5})),
		must(recsys.NewItem2Vec(&recsys.Item2VecOptions{Dim: 8, Epochs: 2})),
		must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 8, Epochs: 2, BatchSize: 32})),
		must(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 8, Epochs: 2, BatchSize: 32, ItemVectors: plantedVectors()})),
		must(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 8, MaxLen: 6, Epochs: 2})),
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	_, s, err := recsystest.PlantedSplit(3)
	require.NoError(t, err)
	dir := t.TempDir()
	for _, m := range smallModels() {
		require.NoError(t, m.Fit(context.Background(), s), m.Name())
		path := filepath.Join(dir, m.Name()+".model")
		require.NoError(t, recsys.SaveModelFile(context.Background(), path, m), m.Name())
		got, err := recsys.LoadModelFile(path)
		require.NoError(t, err, m.Name())
		assert.Equal(t, m.Name(), got.Name())
		a, b := make([]float32, s.NumItems), make([]float32, s.NumItems)
		for _, u := range []int{0, 9, -1} {
			h := s.History(max(u, 0), recsys.StageTest)
			require.NoError(t, m.Score(u, h, a))
			require.NoError(t, got.Score(u, h, b))
			assert.Equal(t, a, b, "%s user %d", m.Name(), u)
		}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			assert.NotContains(t, e.Name(), ".tmp", "temporary file left behind")
		}
	}
}

func TestSaveUnfittedAndLoadGarbage(t *testing.T) {
	var buf bytes.Buffer
	assert.ErrorIs(t, recsys.WriteModel(&buf, must(recsys.NewSASRec(&recsys.SASRecOptions{}))), recsys.ErrNotFitted)
	_, err := recsys.ReadModel(bytes.NewReader([]byte("not a model")))
	assert.ErrorContains(t, err, "recsys: load")
	_, err = recsys.LoadModelFile(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}

func FuzzLoad(f *testing.F) {
	_, s, err := recsystest.PlantedSplit(3)
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range smallModels()[:3] {
		if err := m.Fit(context.Background(), s); err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := recsys.WriteModel(&buf, m); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := recsys.ReadModel(bytes.NewReader(b))
		if err != nil {
			return
		}
		dst := make([]float32, s.NumItems)
		_ = m.Score(-1, []int32{1, 2}, dst)
	})
}
