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

// TestSaveModelFileAtomic checks the writer's contract: mode 0644, an input is never
// overwritten, and on error or cancellation the destination is left as it was with no
// temporary file beside it.
func TestSaveModelFileAtomic(t *testing.T) {
	_, s, err := recsystest.PlantedSplit(3)
	require.NoError(t, err)
	m := must(recsys.NewItemKNN(&recsys.KNNOptions{K: 5}))
	require.NoError(t, m.Fit(context.Background(), s))
	dir := t.TempDir()
	in := filepath.Join(dir, "interactions.txt")
	out := filepath.Join(dir, "itemknn.model")
	require.NoError(t, os.WriteFile(in, []byte("1 2\n"), 0o644))
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o600))
	link := filepath.Join(dir, "link.txt")
	require.NoError(t, os.Symlink(in, link))

	assert.ErrorIs(t, recsys.SaveModelFile(context.Background(), in, m, in), recsys.ErrOverwritesInput)
	assert.ErrorIs(t, recsys.SaveModelFile(context.Background(), link, m, in), recsys.ErrOverwritesInput)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = recsys.SaveModelFile(ctx, out, m, in)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "recsys: save")
	err = recsys.SaveModelFile(context.Background(), out, must(recsys.NewItemKNN(nil)), in)
	assert.ErrorIs(t, err, recsys.ErrNotFitted)
	assertFile(t, in, "1 2\n")
	assertFile(t, out, "old")
	assertOnly(t, dir, "interactions.txt", "itemknn.model", "link.txt")

	require.NoError(t, recsys.SaveModelFile(context.Background(), out, m, in))
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	_, err = recsys.LoadModelFile(out)
	assert.NoError(t, err)
	assertOnly(t, dir, "interactions.txt", "itemknn.model", "link.txt")
}

// TestSaveHNSWFileAtomic is TestSaveModelFileAtomic for indexes.
func TestSaveHNSWFileAtomic(t *testing.T) {
	idx, err := recsys.NewHNSW(context.Background(), []float32{1, 0, 0, 1, 0.6, 0.8}, 2, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	in := filepath.Join(dir, "vectors.f32")
	out := filepath.Join(dir, "items.hnsw")
	require.NoError(t, os.WriteFile(in, []byte("vectors"), 0o644))
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
	require.NoError(t, os.Link(in, filepath.Join(dir, "hard.f32")))

	assert.ErrorIs(t, recsys.SaveHNSWFile(context.Background(), in, idx, in), recsys.ErrOverwritesInput)
	assert.ErrorIs(t, recsys.SaveHNSWFile(context.Background(), filepath.Join(dir, "hard.f32"), idx, in), recsys.ErrOverwritesInput)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = recsys.SaveHNSWFile(ctx, out, idx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "recsys: hnsw save")
	assert.ErrorContains(t, recsys.SaveHNSWFile(context.Background(), out, nil), "empty index")
	assertFile(t, in, "vectors")
	assertFile(t, out, "old")
	assertOnly(t, dir, "hard.f32", "items.hnsw", "vectors.f32")

	require.NoError(t, recsys.SaveHNSWFile(context.Background(), out, idx, in))
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	back, err := recsys.LoadHNSWFile(out)
	require.NoError(t, err)
	assert.Equal(t, 3, back.Len())
	assertOnly(t, dir, "hard.f32", "items.hnsw", "vectors.f32")
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(b), path)
}

// assertOnly checks that dir holds exactly the named entries (no temporary file).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got)
}
