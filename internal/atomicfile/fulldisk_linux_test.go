package atomicfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFullDisk writes more than a 64 KiB tmpfs holds: the write fails with ENOSPC, the old
// destination survives and no temporary file is left. It needs root to mount the tmpfs.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })

	p := filepath.Join(dir, "out")
	require.NoError(t, WriteFile(context.Background(), p, []byte("old"), nil))
	err := WriteFile(context.Background(), p, bytes.Repeat([]byte{7}, 1<<20), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), p)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	assert.Empty(t, leftovers(t, dir))

	d, err := CreateDir(filepath.Join(dir, "folder"), nil)
	require.NoError(t, err)
	werr := os.WriteFile(filepath.Join(d.Path(), "big"), bytes.Repeat([]byte{7}, 1<<20), 0o644)
	assert.ErrorIs(t, werr, syscall.ENOSPC)
	d.Abort()
	assert.Empty(t, leftovers(t, dir))
}
