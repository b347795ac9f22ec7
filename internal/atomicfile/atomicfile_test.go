package atomicfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leftovers lists the temporary files left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	require.NoError(t, err)
	return m
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.bin")
	require.NoError(t, WriteFile(context.Background(), p, []byte("first"), nil))
	require.NoError(t, WriteFile(context.Background(), p, []byte("second"), nil))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "second", string(b))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, Mode, st.Mode().Perm(), "committed files are 0644 whatever the umask")
	assert.Empty(t, leftovers(t, dir))
}

func TestRefusesInputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	require.NoError(t, os.WriteFile(in, []byte("input"), 0o644))
	hard := filepath.Join(dir, "hard.safetensors")
	require.NoError(t, os.Link(in, hard))
	link := filepath.Join(dir, "link.safetensors")
	require.NoError(t, os.Symlink(in, link))
	other := filepath.Join(dir, "other.safetensors")
	require.NoError(t, os.WriteFile(other, []byte("other"), 0o644))
	linkToOther := filepath.Join(dir, "to-other.safetensors")
	require.NoError(t, os.Symlink(other, linkToOther))

	cases := []struct {
		name, dst string
		inputs    []string
	}{
		{"same path", in, []string{in}},
		{"same path spelled differently", filepath.Join(dir, ".", "in.safetensors"), []string{in}},
		{"hard link", hard, []string{in}},
		{"symlink to the input", link, []string{in}},
		{"input is a symlink to the destination", other, []string{linkToOther}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := WriteFile(context.Background(), c.dst, []byte("clobber"), &Options{Inputs: c.inputs})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrOverwritesInput)
			assert.Contains(t, err.Error(), c.dst)
			for _, f := range []string{in, other} {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				assert.NotEqual(t, "clobber", string(b))
			}
			assert.Empty(t, leftovers(t, dir))
		})
	}
	// An unrelated destination is fine, and a missing input is ignored.
	require.NoError(t, WriteFile(context.Background(), filepath.Join(dir, "new"), []byte("x"),
		&Options{Inputs: []string{in, filepath.Join(dir, "missing")}}))
}

func TestErrorLeavesDestination(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o600))
	boom := errors.New("boom")
	err := Write(context.Background(), p, nil, func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	assert.Empty(t, leftovers(t, dir))
}

func TestCancelStopsWrites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	writes := 0
	err := Write(ctx, p, nil, func(w io.Writer) error {
		for {
			if _, err := w.Write(bytes.Repeat([]byte{1}, 1024)); err != nil {
				return err
			}
			writes++
			if writes == 3 {
				cancel()
			}
		}
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, writes, "the first write after cancel fails")
	_, err = os.Stat(p)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Empty(t, leftovers(t, dir))

	// Already cancelled: nothing is created.
	err = WriteFile(ctx, p, []byte("x"), nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, leftovers(t, dir))
}

func TestFileAbortAndDoubleCommit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	f, err := Create(p, nil)
	require.NoError(t, err)
	_, err = f.Write([]byte("abc"))
	require.NoError(t, err)
	assert.FileExists(t, f.Name())
	f.Abort()
	f.Abort()
	assert.NoFileExists(t, p)
	assert.Empty(t, leftovers(t, dir))
	assert.Error(t, f.Commit(), "commit after abort")

	f, err = Create(p, nil)
	require.NoError(t, err)
	_, err = f.Write([]byte("abc"))
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	f.Abort() // harmless after commit
	assert.FileExists(t, p)
	assert.Error(t, f.Commit())
	_, err = f.Write([]byte("more"))
	assert.Error(t, err)
}

func TestCreateRefusesFolderAndMissingParent(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(dir, nil)
	assert.ErrorContains(t, err, "is a folder")
	_, err = Create(filepath.Join(dir, "no", "such", "out"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = Create("", nil)
	assert.Error(t, err)
}

func TestDir(t *testing.T) {
	parent := t.TempDir()
	p := filepath.Join(parent, "release")
	d, err := CreateDir(p, nil)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(d.Path(), "a", "b"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "a", "b", "f"), []byte("x"), 0o644))
	assert.NoDirExists(t, p, "invisible before commit")
	require.NoError(t, d.Commit())
	assert.FileExists(t, filepath.Join(p, "a", "b", "f"))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, DirMode, st.Mode().Perm())
	assert.Empty(t, leftovers(t, parent))

	_, err = CreateDir(p, nil)
	assert.ErrorIs(t, err, ErrExists)

	q := filepath.Join(parent, "aborted")
	d, err = CreateDir(q, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "f"), []byte("x"), 0o644))
	d.Abort()
	d.Abort()
	assert.NoDirExists(t, q)
	assert.Empty(t, leftovers(t, parent))

	// The destination appearing while the folder is written is not replaced.
	r := filepath.Join(parent, "raced")
	d, err = CreateDir(r, nil)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(r, 0o755))
	assert.ErrorIs(t, d.Commit(), ErrExists)
	assert.Empty(t, leftovers(t, parent))
}
