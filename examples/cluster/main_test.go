package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
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

// TestRunReproducesReference runs the program on a golden case's points: with -exact the
// labels are the reference's stable-sort labels, with -reference-ties its own labels.
func TestRunReproducesReference(t *testing.T) {
	path := shareddata.Path(t, "hdbscan", "cases", "blobs_noise_mcs15.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	type outputs struct {
		Labels []int `json:"labels"`
	}
	var c struct {
		X      [][]float64 `json:"X"`
		Out    outputs     `json:"outputs"`
		Stable outputs     `json:"outputs_stable_sort"`
	}
	require.NoError(t, json.Unmarshal(b, &c))
	var csv strings.Builder
	for _, p := range c.X {
		fmt.Fprintf(&csv, "%s,%s\n", strconv.FormatFloat(p[0], 'g', -1, 64), strconv.FormatFloat(p[1], 'g', -1, 64))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "blobs.csv")
	require.NoError(t, os.WriteFile(in, []byte(csv.String()), 0o644))
	for _, tc := range []struct {
		flag string
		want []int
	}{{"-exact", c.Stable.Labels}, {"-reference-ties", c.Out.Labels}} {
		out := filepath.Join(dir, "labels.txt")
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"-in", in, "-out", out, "-min-cluster-size", "15", "-exact", tc.flag}, &stdout, &stderr))
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		var want strings.Builder
		for _, l := range tc.want {
			fmt.Fprintf(&want, "%d\n", l)
		}
		assert.Equal(t, want.String(), string(got), tc.flag)
	}
}
