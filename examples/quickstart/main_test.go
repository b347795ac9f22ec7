package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
)

func TestQuickstartDemoEndsWithJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-images", "2000", "-seed", "9"}, &stdout, &stderr), stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got result
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "last line is one JSON object")
	assert.True(t, got.Demo)
	assert.Equal(t, int64(2000), got.Raw.Images)
	require.NotNil(t, got.Filtered)
	assert.Less(t, got.Filtered.Images, got.Raw.Images)
	require.Len(t, got.Interactions, 2)
	assert.Equal(t, "user-model", got.Interactions[0].Kind)
	assert.Equal(t, got.Interactions[0].Users, got.Interactions[0].Test)
	assert.Contains(t, stdout.String(), "Filtered")
	assert.NotContains(t, stderr.String(), "\r", "no progress bar off a terminal")

	// -json prints the JSON line alone.
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"-images", "2000", "-seed", "9", "-json"}, &stdout, &stderr))
	assert.Equal(t, 1, strings.Count(stdout.String(), "\n"))
	var again result
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &again))
	assert.Equal(t, got.Raw, again.Raw, "same seed, same release")
}

func TestQuickstartMissingData(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", t.TempDir()}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ImageGem-images")
	assert.True(t, strings.HasPrefix(err.Error(), "imagegem: "))
}

func TestQuickstartUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stderr, &stderr)
	assert.Equal(t, 0, cli.Status("quickstart", err, context.Background(), &stderr))
	assert.Contains(t, stderr.String(), "usage: quickstart [-data DIR]")
	assert.ErrorIs(t, run(context.Background(), []string{"stray"}, &stderr, &stderr), cli.ErrUsage)
	assert.ErrorIs(t, run(context.Background(), []string{"-images", "-1"}, &stderr, &stderr), imagegem.ErrInvalidOptions)
}

func TestQuickstartInterruptedDuringGeneration(t *testing.T) {
	bin := clitest.Build(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the demo release is generated
	r := clitest.Interrupt(t, bin, []string{"-images", "2000000"}, "", 1500*time.Millisecond)
	t.Logf("exit %v after SIGINT", r.Exit)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Contains(t, r.Stderr, "quickstart: synth: ")
	assert.Empty(t, clitest.Files(t, tmp), "the demo release is removed")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "its folder too")
	assert.NotContains(t, r.Stdout, "Table 1")
}
