package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplaceDir(t *testing.T) {
	root := t.TempDir()
	dst := filepath.Join(root, "release")
	for i, content := range []string{"one", "two"} {
		src := filepath.Join(root, "next")
		require.NoError(t, os.Mkdir(src, DirMode))
		require.NoError(t, WriteFile(t.Context(), filepath.Join(src, "f"), []byte(content), nil))
		require.NoError(t, ReplaceDir(src, dst), "round %d", i)
		b, err := os.ReadFile(filepath.Join(dst, "f"))
		require.NoError(t, err)
		assert.Equal(t, content, string(b))
		_, err = os.Stat(src)
		assert.True(t, os.IsNotExist(err), "the old folder is gone")
	}
	ents, err := os.ReadDir(root)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "nothing left beside the folder")
	f := filepath.Join(root, "file")
	require.NoError(t, WriteFile(t.Context(), f, nil, nil))
	require.NoError(t, os.Mkdir(filepath.Join(root, "n2"), DirMode))
	assert.Error(t, ReplaceDir(filepath.Join(root, "n2"), f))
}
