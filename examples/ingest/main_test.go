package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/meta"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
	"github.com/imagegem/imagegem-go/internal/shareddata"
)

func generation(t *testing.T, path, params string) {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))))
	out, err := meta.AddPNGText(b.Bytes(), meta.ChunkText, "parameters", params)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

func lastJSON(t *testing.T, s string) result {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var r result
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &r), "last line is one JSON object")
	return r
}

func TestIngestSharedImagesAndLoRAs(t *testing.T) {
	in := t.TempDir()
	generation(t, filepath.Join(in, "a.png"), "a falcon, <lora:lycoris_lokr_smart_falcon_8:0.7>\nSteps: 20, Sampler: Euler, Seed: 1, Size: 4x4")
	out := filepath.Join(t.TempDir(), "release")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-in", in, "-loras", shareddata.Path(t, "lora"), "-out", out, "-user", "bob"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	r := lastJSON(t, stdout.String())
	assert.Equal(t, 1, r.Report.Images)
	assert.Equal(t, 1, r.Report.ByName)
	assert.NotContains(t, stderr.String(), "\r", "no progress bar off a terminal")
	rel, err := imagegem.Open(context.Background(), out, nil)
	require.NoError(t, err)
	s, err := rel.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Images)
	require.NoError(t, rel.Close())

	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"-in", in, "-loras", shareddata.Path(t, "lora"), "-out", out, "-user", "bob"}, &stdout, &stderr))
	r = lastJSON(t, stdout.String())
	assert.False(t, r.Report.Written, "nothing new")
	assert.Contains(t, stdout.String(), "nothing new")
}

func TestIngestUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stderr, &stderr)
	assert.Equal(t, 0, cli.Status("ingest", err, context.Background(), &stderr))
	assert.Contains(t, stderr.String(), "usage: ingest -in DIR -out DIR")
	assert.Contains(t, stderr.String(), "-loras")
	err = run(context.Background(), []string{"-in", t.TempDir()}, &stderr, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	err = run(context.Background(), []string{"-in", t.TempDir(), "-out", t.TempDir(), "-rows-per-file", "-1"}, &stderr, &stderr)
	assert.ErrorIs(t, err, imagegem.ErrInvalidOptions)
}

// bigLoRA writes a sparse safetensors file of 2 GiB, whose hashing takes seconds.
func bigLoRA(t *testing.T, path string) {
	header := []byte(`{"lora_unet_x.lora_down.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, binary.Write(f, binary.LittleEndian, uint64(len(header))))
	_, err = f.Write(header)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2<<30))
	require.NoError(t, f.Close())
}

func TestIngestInterruptedLeavesNoRelease(t *testing.T) {
	bin := clitest.Build(t)
	in, loras := t.TempDir(), t.TempDir()
	generation(t, filepath.Join(in, "a.png"), "x, <lora:big:1>\nSteps: 1, Sampler: a, Seed: 1, Size: 4x4")
	bigLoRA(t, filepath.Join(loras, "big.safetensors"))
	parent := t.TempDir()
	out := filepath.Join(parent, "release")
	r := clitest.Interrupt(t, bin, []string{"-in", in, "-loras", loras, "-out", out}, "ingest: reading", 300*time.Millisecond)
	t.Logf("exit %v after SIGINT", r.Exit)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Contains(t, r.Stderr, "context canceled")
	assert.Empty(t, clitest.Files(t, parent), "no partial release folder")
}
