package imagegem_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem"
)

func TestFiguresArePNGs(t *testing.T) {
	dir, cleanup := demoRelease()
	defer cleanup()
	ctx := context.Background()
	rel, err := imagegem.Open(ctx, dir, nil)
	require.NoError(t, err)
	defer rel.Close()
	out := filepath.Join(t.TempDir(), "figures")
	paths, err := rel.Figures(ctx, out)
	require.NoError(t, err)
	names := []string{imagegem.FigPromptWords, imagegem.FigReactions, imagegem.FigTopUsers, imagegem.FigTopUploaders, imagegem.FigBaseModels}
	require.Len(t, paths, len(names))
	for i, p := range paths {
		assert.Equal(t, filepath.Join(out, names[i]), p)
		f, err := os.Open(p)
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(f)
		f.Close()
		require.NoError(t, err, p)
		assert.Greater(t, cfg.Width, 400)
		assert.Greater(t, cfg.Height, 200)
	}
	// Again over the same folder: the files are replaced.
	_, err = rel.Figures(ctx, out)
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = rel.Figures(cctx, filepath.Join(t.TempDir(), "x"))
	require.ErrorIs(t, err, context.Canceled)
}
