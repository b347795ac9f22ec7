package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePoints(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for c := 0; c < 2; c++ {
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "%g,%g\n", float64(c*10)+float64(i%5)*0.1, float64(i/5)*0.1)
		}
	}
	p := filepath.Join(t.TempDir(), "points.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

func TestRunWritesLabels(t *testing.T) {
	in := writePoints(t)
	out := filepath.Join(filepath.Dir(in), "labels.txt")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-in", in, "-out", out, "-min-cluster-size", "5", "-exact"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "clusters 2, noise 0")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Fields(string(b))
	require.Len(t, lines, 40)
	assert.Equal(t, lines[0], lines[19])
	assert.NotEqual(t, lines[0], lines[20])
}

func TestRunRefusesBadInput(t *testing.T) {
	in := writePoints(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-in", in, "-out", in}, &stdout, &stderr)
	assert.ErrorContains(t, err, "refusing to overwrite")
	err = run(context.Background(), []string{"-in", in, "-method", "best"}, &stdout, &stderr)
	assert.ErrorContains(t, err, "unknown cluster selection method")
	ragged := filepath.Join(t.TempDir(), "ragged.csv")
	require.NoError(t, os.WriteFile(ragged, []byte("1,2\n3,4\n5\n"), 0o644))
	err = run(context.Background(), []string{"-in", ragged}, &stdout, &stderr)
	assert.ErrorContains(t, err, "line 3")
}
