package imagegem

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := (*Options)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, Options{Threads: runtime.NumCPU()}, o)
	z, err := (&Options{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, o, z)

	i, err := (*InteractionOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultMinInteractions, i.MinPerUser)
	i, err = (&InteractionOptions{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultMinInteractions, i.MinPerUser)

	w, err := (*WriterOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultRowsPerFile, w.RowsPerFile)
	w, err = (&WriterOptions{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultRowsPerFile, w.RowsPerFile)

	g, err := (*IngestOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultRowsPerFile, g.RowsPerFile)
	assert.Equal(t, HashUsername("x"), g.HashUser("x"))
	g, err = (&IngestOptions{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, DefaultRowsPerFile, g.RowsPerFile)
}

func TestOptionsOutOfRange(t *testing.T) {
	ctx := context.Background()
	rel := fixtureRelease(t)
	page := filepath.Join(t.TempDir(), "page.json")
	require.NoError(t, os.WriteFile(page, []byte(`{"items": []}`), 0o644))
	for _, c := range []struct {
		field string
		call  func() error
	}{
		{"Options.Threads", func() error { _, err := Open(ctx, rel, &Options{Threads: -1}); return err }},
		{"Options.MemoryLimit", func() error { _, err := Open(ctx, rel, &Options{MemoryLimit: "lots"}); return err }},
		{"Options.MemoryLimit", func() error { _, err := Open(ctx, rel, &Options{MemoryLimit: "1GB'; SET x = 1"}); return err }},
		{"InteractionOptions.MinPerUser", func() error {
			r, err := Open(ctx, rel, nil)
			require.NoError(t, err)
			defer r.Close()
			_, err = r.Interactions(ctx, UserModel, &InteractionOptions{MinPerUser: -1})
			return err
		}},
		{"WriterOptions.RowsPerFile", func() error { _, err := NewWriter(ctx, t.TempDir(), &WriterOptions{RowsPerFile: -1}); return err }},
		{"IngestOptions.RowsPerFile", func() error {
			_, err := IngestCivitai(ctx, t.TempDir(), []string{page}, nil, &IngestOptions{RowsPerFile: -2})
			return err
		}},
		{"IngestOptions.RowsPerFile", func() error { _, _, err := ReadImagesPage(page, &IngestOptions{RowsPerFile: -2}); return err }},
		{"IngestOptions.RowsPerFile", func() error { _, err := ReadModelsPage(page, &IngestOptions{RowsPerFile: -2}); return err }},
	} {
		err := c.call()
		assert.ErrorIs(t, err, ErrInvalidOptions, c.field)
		assert.ErrorContains(t, err, "imagegem: invalid options: "+c.field+":")
	}
	// A valid memory limit in DuckDB's spelling is accepted.
	r, err := Open(ctx, rel, &Options{MemoryLimit: "512 MiB", Threads: 1})
	require.NoError(t, err)
	r.Close()
}

func TestErrorsArePrefixedAndNamed(t *testing.T) {
	ctx := context.Background()
	r := openFixture(t)
	_, err := r.Image(ctx, 424242)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "imagegem: image 424242: not found", err.Error())
	_, err = r.Interactions(ctx, InteractionKind(7), nil)
	assert.ErrorContains(t, err, "imagegem: interactions: unknown kind 7")

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ImagesDir), 0o755))
	_, err = Open(ctx, dir, nil)
	assert.ErrorIs(t, err, ErrSchema)
	assert.True(t, strings.HasPrefix(err.Error(), "imagegem: "), err.Error())
}

func TestPageErrorsNameFileFieldAndOffset(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	// A value the field's own decoder refuses: the item and the reason.
	p := write("wrong.json", `{"metadata": {}, "items": [{"id": 1}, {"id": 2, "width": "wide"}]}`)
	_, _, err := ReadImagesPage(p, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "imagegem: "+p+": items[1]: ")
	assert.Contains(t, err.Error(), "not a number")

	// A type error: the field and its offset in the file, not in the item.
	body := `{"metadata": {}, "items": [{"id": 1}, {"id": "two"}]}`
	p = write("typed.json", body)
	_, _, err = ReadImagesPage(p, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrMalformed)
	want := strings.Index(body, `"two"`) + len(`"two"`)
	assert.Contains(t, err.Error(), `items[1]: field "id" at offset `+itoa(int64(want)))

	p = write("broken.json", `{"items": [{"id": 1, "url": "x"`)
	_, _, err = ReadImagesPage(p, nil)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), p+": invalid JSON at offset 31")

	p = write("models.json", `{"items": [{"id": 1, "modelVersions": [{"id": "x"}]}]}`)
	_, err = ReadModelsPage(p, nil)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), p+`: field "items.modelVersions.id" at offset`)

	p = write("odd.json", `{"hello": 1}`)
	_, err = ReadModelsPage(p, nil)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.False(t, errors.Is(err, ErrInvalidOptions))
}
