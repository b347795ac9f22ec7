package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/embed/hdbscan"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
	"github.com/imagegem/imagegem-go/internal/shareddata"
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

// lastJSON returns the output's lines before the last and the last line's JSON.
func lastJSON(t *testing.T, out string) (string, summary) {
	t.Helper()
	out = strings.TrimSuffix(out, "\n")
	i := strings.LastIndexByte(out, '\n')
	var s summary
	require.NoError(t, json.Unmarshal([]byte(out[i+1:]), &s), out)
	return out[:max(i, 0)], s
}

func TestRunWritesLabels(t *testing.T) {
	in := writePoints(t)
	out := filepath.Join(filepath.Dir(in), "labels.txt")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-in", in, "-out", out, "-min-cluster-size", "5", "-exact"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	text, sum := lastJSON(t, stdout.String())
	assert.Contains(t, text, "clusters 2, noise 0")
	assert.Equal(t, summary{Points: 40, Dimensions: 2, Mode: "exact", Clusters: 2, Noise: 0, Seconds: sum.Seconds, Out: out}, sum)
	assert.Empty(t, stderr.String(), "no bar when stderr is not a terminal")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Fields(string(b))
	require.Len(t, lines, 40)
	assert.Equal(t, lines[0], lines[19])
	assert.NotEqual(t, lines[0], lines[20])
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, atomicfile.Mode, st.Mode().Perm())
}

func TestRunRefusesBadInput(t *testing.T) {
	in := writePoints(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-in", in, "-out", in}, &stdout, &stderr)
	assert.ErrorIs(t, err, atomicfile.ErrOverwritesInput)
	err = run(context.Background(), []string{"-in", in, "-method", "best"}, &stdout, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.ErrorContains(t, err, "unknown cluster selection method")
	err = run(context.Background(), []string{"-out", "x"}, &stdout, &stderr)
	assert.ErrorContains(t, err, "-in is required")
	err = run(context.Background(), []string{"-in", in, "-min-cluster-size", "1"}, &stdout, &stderr)
	assert.ErrorIs(t, err, hdbscan.ErrInvalidOptions)
	ragged := filepath.Join(t.TempDir(), "ragged.csv")
	require.NoError(t, os.WriteFile(ragged, []byte("1,2\n3,4\n5\n"), 0o644))
	err = run(context.Background(), []string{"-in", ragged}, &stdout, &stderr)
	assert.ErrorContains(t, err, "line 3")
}

func TestHelpPrintsUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stdout, &stderr)
	assert.True(t, errors.Is(err, flag.ErrHelp), err)
	assert.Contains(t, stderr.String(), "usage: cluster -in points.csv")
	assert.Contains(t, stderr.String(), "-min-cluster-size")
	assert.Equal(t, 0, cli.Status("cluster", err, context.Background(), &stderr))
}

// TestRunReproducesReference runs the program on a golden case whose points are float32
// values, so that reading them as float32 loses nothing: with -exact the labels are the
// reference's stable-sort labels, with -reference-ties its own labels.
func TestRunReproducesReference(t *testing.T) {
	path := shareddata.Path(t, "hdbscan", "cases", "duplicates_mcs10_ms5.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	type outputs struct {
		Labels []int `json:"labels"`
	}
	var c struct {
		X      [][]float64 `json:"X"`
		Params struct {
			MinClusterSize int `json:"min_cluster_size"`
			MinSamples     int `json:"min_samples"`
		} `json:"params"`
		Out    outputs  `json:"outputs"`
		Stable *outputs `json:"outputs_stable_sort"`
	}
	require.NoError(t, json.Unmarshal(b, &c))
	stable := &c.Out
	if c.Stable != nil {
		stable = c.Stable
	}
	var csv strings.Builder
	for _, p := range c.X {
		require.Equal(t, p[0], float64(float32(p[0])))
		require.Equal(t, p[1], float64(float32(p[1])))
		fmt.Fprintf(&csv, "%s,%s\n", strconv.FormatFloat(p[0], 'g', -1, 64), strconv.FormatFloat(p[1], 'g', -1, 64))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "duplicates.csv")
	require.NoError(t, os.WriteFile(in, []byte(csv.String()), 0o644))
	for _, tc := range []struct {
		flag string
		want []int
	}{{"-exact", stable.Labels}, {"-reference-ties", c.Out.Labels}} {
		out := filepath.Join(dir, "labels.txt")
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"-in", in, "-out", out, "-exact", tc.flag,
			"-min-cluster-size", strconv.Itoa(c.Params.MinClusterSize), "-min-samples", strconv.Itoa(c.Params.MinSamples)}, &stdout, &stderr))
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		var want strings.Builder
		for _, l := range tc.want {
			fmt.Fprintf(&want, "%d\n", l)
		}
		assert.Equal(t, want.String(), string(got), tc.flag)
	}
}

// TestInterruptLeavesNoOutput fits a large generated input in the exact mode and sends
// SIGINT mid-run: the program exits within 2 s, with a non-zero status, and writes no
// labels.
func TestInterruptLeavesNoOutput(t *testing.T) {
	bin := clitest.Build(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "points.csv")
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 8000 {
		for k := range 32 {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(rng.NormFloat64(), 'g', 6, 32))
		}
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(in, []byte(b.String()), 0o644))
	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(outDir, 0o755))
	r := clitest.Interrupt(t, bin, []string{"-in", in, "-out", filepath.Join(outDir, "labels.txt"), "-exact", "-min-cluster-size", "15"}, "", time.Second)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Empty(t, clitest.Files(t, outDir))
	assert.Empty(t, r.Stdout)
}
