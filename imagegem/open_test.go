package imagegem

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rewriteFirstImagesFile replaces the release's first images file by the result of a query
// over it (the query reads the original as "src").
func rewriteFirstImagesFile(t *testing.T, dir, query string) string {
	t.Helper()
	files, err := parquetFiles(filepath.Join(dir, ImagesDir))
	require.NoError(t, err)
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer db.Close()
	tmp := filepath.Join(t.TempDir(), "new.parquet")
	_, err = db.Exec("CREATE VIEW src AS SELECT * FROM read_parquet(" + quoteString(files[0]) + ")")
	require.NoError(t, err)
	_, err = db.Exec("COPY (" + query + ") TO " + quoteString(tmp) + " (FORMAT parquet)")
	require.NoError(t, err)
	moveFile(t, tmp, files[0])
	return files[0]
}

// moveFile moves a test file by copy and removal (the tests write no file any other way
// than the package under test does).
func moveFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
	require.NoError(t, os.Remove(from))
}

func TestOpenRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"missing column", `SELECT * EXCLUDE ("prompt") FROM src`, []string{`column "prompt" is missing`}},
		{"wrong type", `SELECT * REPLACE ('x' || "seed" AS "seed") FROM src`, []string{`column "seed" has type VARCHAR, want integer`}},
		{"wrong time type", `SELECT * REPLACE (true AS "createdAt") FROM src`, []string{`column "createdAt" has type BOOLEAN`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fixtureRelease(t)
			file := rewriteFirstImagesFile(t, dir, c.query)
			_, err := Open(ctx, dir, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), file, "names the file")
			assert.ErrorIs(t, err, ErrSchema)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestOpenRejectsUnreadableFile(t *testing.T) {
	dir := fixtureRelease(t)
	bad := filepath.Join(dir, ModelsDir, "data", "zzz-corrupt.parquet")
	require.NoError(t, os.WriteFile(bad, []byte("PAR1 this is not parquet"), 0o644))
	_, err := Open(context.Background(), dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), "unreadable")
}

func TestOpenRejectsEmptyTable(t *testing.T) {
	dir := fixtureRelease(t)
	files, err := parquetFiles(filepath.Join(dir, ImagesDir))
	require.NoError(t, err)
	scratch := t.TempDir()
	for _, f := range files {
		// Keep the schema, drop every row.
		db, err := sql.Open("duckdb", "")
		require.NoError(t, err)
		_, err = db.Exec("COPY (SELECT * FROM read_parquet(" + quoteString(f) + ") LIMIT 0) TO " + quoteString(filepath.Join(scratch, "new.parquet")) + " (FORMAT parquet)")
		require.NoError(t, err)
		db.Close()
		moveFile(t, filepath.Join(scratch, "new.parquet"), f)
	}
	_, err = Open(context.Background(), dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "images table is empty")
	assert.Contains(t, err.Error(), files[0])
}

func TestOpenRejectsMissingFolders(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ImagesDir)

	require.NoError(t, os.MkdirAll(filepath.Join(dir, ImagesDir, "data"), 0o755))
	_, err = Open(context.Background(), dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no .parquet files below")
}

func TestOpenFindsFilesAnywhereBelow(t *testing.T) {
	dir := fixtureRelease(t)
	// Move one images file two folders deeper: it still belongs to the table.
	files, err := parquetFiles(filepath.Join(dir, ImagesDir))
	require.NoError(t, err)
	deep := filepath.Join(dir, ImagesDir, "extra", "deeper")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	moveFile(t, files[1], filepath.Join(deep, "x.parquet"))
	r, err := Open(context.Background(), dir, &Options{Threads: 1, MemoryLimit: "256MB"})
	require.NoError(t, err)
	defer r.Close()
	s, err := r.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(6), s.Images)
}
