package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
)

func TestSynthWritesAReleaseAndEndsWithJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "release")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-out", dir, "-images", "400", "-seed", "3", "-companions"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got result
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "last line is one JSON object")
	assert.Equal(t, dir, got.Out)
	assert.Equal(t, 400, got.Images)
	assert.True(t, got.Companions)
	assert.NotContains(t, stderr.String(), "\r", "no progress bar off a terminal")

	rel, err := imagegem.Open(context.Background(), dir, nil)
	require.NoError(t, err, "-out is a release folder")
	defer rel.Close()
	s, err := rel.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(400), s.Images)
	assert.Equal(t, int64(got.Users), s.Users)
	_, err = os.Stat(filepath.Join(dir, synth.CompanionDir, synth.TruthFile))
	assert.NoError(t, err)

	// A second run refuses to write over the release.
	err = run(context.Background(), []string{"-out", dir, "-images", "400"}, &stdout, &stderr)
	assert.ErrorIs(t, err, imagegem.ErrExists)
}

func TestSynthUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stderr, &stderr)
	assert.Equal(t, 0, cli.Status("synth", err, context.Background(), &stderr))
	assert.Contains(t, stderr.String(), "usage: synth -out DIR")
	assert.Contains(t, stderr.String(), "-companions")

	stderr.Reset()
	err = run(context.Background(), nil, &stderr, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.Contains(t, err.Error(), "-out is required")

	err = run(context.Background(), []string{"-out", t.TempDir(), "-images", "-5"}, &stderr, &stderr)
	assert.ErrorIs(t, err, synth.ErrInvalidOptions)
}

func TestSynthInterruptedLeavesNoRelease(t *testing.T) {
	bin := clitest.Build(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "release")
	// Two million images take far longer than the wait; small part files are flushed while
	// it runs, so that there is something half-written to clean up.
	r := clitest.Interrupt(t, bin, []string{"-out", dir, "-images", "2000000", "-rows-per-file", "20000", "-companions"}, "", 1500*time.Millisecond)
	t.Logf("exit %v after SIGINT", r.Exit)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Contains(t, r.Stderr, "context canceled")
	assert.Empty(t, clitest.Files(t, parent), "no partial release folder")
	_, err := os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
