package shareddata

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModuleRootHoldsGoMod(t *testing.T) {
	root := ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "module github.com/imagegem/imagegem-go")
}

func TestPathFindsSchema(t *testing.T) {
	p := Path(t, "SCHEMA.md")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Contains(t, string(b), "ImageGem-images")
}

func TestEnvOverride(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.txt"), []byte("x"), 0o644))
	t.Setenv(EnvDir, dir)
	assert.Equal(t, filepath.Join(dir, "x.txt"), Path(t, "x.txt"))
}
