package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartWritesTheFigures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "figs")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-images", "2000", "-figures", dir}, &stdout, &stderr), stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r result
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &r))
	require.Len(t, r.Figures, 5)
	for _, p := range r.Figures {
		assert.Equal(t, dir, filepath.Dir(p))
		_, err := os.Stat(p)
		assert.NoError(t, err)
		assert.Contains(t, stdout.String(), p, "the quickstart prints where")
	}
}
