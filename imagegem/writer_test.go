package imagegem

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriterRefusesToOverwrite(t *testing.T) {
	dir := fixtureRelease(t)
	_, err := NewWriter(context.Background(), dir, nil)
	assert.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), ImagesDir)
}

func TestWriterAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := NewWriter(ctx, dir, nil)
	require.NoError(t, err)
	require.NoError(t, w.WriteImage(Image{ID: 1, ModelVersionIDs: []int64{2}}))
	w.Abort()
	assert.Empty(t, entries(t, dir))
	assert.Error(t, w.Close(), "Close after Abort is not a success")

	w, err = NewWriter(ctx, dir, nil)
	require.NoError(t, err)
	assert.Error(t, w.WriteImage(Image{ID: 1}), "an image needs a version")
	require.NoError(t, w.WriteImage(Image{ID: 1, ModelVersionIDs: []int64{2}}))
	err = w.Close()
	require.Error(t, err, "no model rows")
	assert.Contains(t, err.Error(), "models table has no rows")
	assert.Empty(t, entries(t, dir))
}

func TestWriterRemovesTheFolderItCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "release")
	w, err := NewWriter(context.Background(), dir, nil)
	require.NoError(t, err)
	w.Abort()
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriterCancelLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := NewWriter(ctx, dir, &WriterOptions{RowsPerFile: 10})
	require.NoError(t, err)
	extra, err := w.AddFolder("extra")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(extra, "x.txt"), []byte("x"), 0o644))
	for i := range 25 {
		require.NoError(t, w.WriteImage(Image{ID: int64(i), ModelVersionIDs: []int64{2}, CreatedAt: time.Unix(0, 0)}))
	}
	require.NoError(t, w.WriteModelVersion(ModelVersion{ID: 2}))
	cancel()
	assert.ErrorIs(t, w.WriteImage(Image{ID: 99, ModelVersionIDs: []int64{2}}), context.Canceled)
	assert.ErrorIs(t, w.Close(), context.Canceled)
	assert.Empty(t, entries(t, dir), "part files and the added folder are gone")
}

func TestWriterAddFolderIsPublishedWithTheTables(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(context.Background(), dir, &WriterOptions{RowsPerFile: 2})
	require.NoError(t, err)
	_, err = w.AddFolder("../escape")
	assert.Error(t, err)
	_, err = w.AddFolder(ModelsDir)
	assert.Error(t, err)
	extra, err := w.AddFolder("extra")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(extra, "x.txt"), []byte("x"), 0o644))
	for i := range 5 {
		require.NoError(t, w.WriteImage(Image{ID: int64(i), ModelVersionIDs: []int64{2}}))
	}
	require.NoError(t, w.WriteModelVersion(ModelVersion{ID: 2}))
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "a second Close is harmless")
	assert.Equal(t, []string{ImagesDir, ModelsDir, "extra"}, entries(t, dir))
	data, err := os.ReadDir(filepath.Join(dir, ImagesDir, "data"))
	require.NoError(t, err)
	var names []string
	for _, e := range data {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"train-00000-of-00003.parquet", "train-00001-of-00003.parquet", "train-00002-of-00003.parquet"}, names)
	st, err := os.Stat(filepath.Join(dir, ImagesDir, "data", names[0]))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestIngestRefusesToWriteOverAPage(t *testing.T) {
	dir := t.TempDir()
	// A page saved where the release's images folder would go.
	page := filepath.Join(dir, ImagesDir)
	require.NoError(t, os.WriteFile(page, []byte(`{"items": []}`), 0o644))
	_, err := IngestCivitai(context.Background(), dir, []string{page}, nil, nil)
	assert.ErrorIs(t, err, ErrOverwritesInput)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Equal(t, `{"items": []}`, string(b), "the page is untouched")
}

// entries lists the names in dir, hidden temporary ones included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
