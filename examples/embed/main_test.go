package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
	"github.com/imagegem/imagegem-go/internal/shareddata"
)

var tinyModel = filepath.Join("..", "..", "embed", "testdata", "tinyclip")

// lastJSON splits the output into the lines before the last and the last line's JSON.
func lastJSON(t *testing.T, out string) ([]string, map[string]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &v), out)
	return lines[:len(lines)-1], v
}

func TestTokenizeMatchesReference(t *testing.T) {
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	raw, err := os.ReadFile(filepath.Join("..", "..", "embed", "testdata", "clip_edge_cases.json"))
	require.NoError(t, err)
	var cases []struct {
		Text string  `json:"text"`
		IDs  []int64 `json:"ids"`
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	var in strings.Builder
	var want []string
	for _, c := range cases {
		if strings.ContainsAny(c.Text, "\n\r") {
			continue
		}
		in.WriteString(c.Text + "\n")
		parts := make([]string, len(c.IDs))
		for i, id := range c.IDs {
			parts[i] = strconv.FormatInt(id, 10)
		}
		want = append(want, strings.Join(parts, " "))
	}
	p := filepath.Join(t.TempDir(), "prompts.txt")
	require.NoError(t, os.WriteFile(p, []byte(in.String()), 0o644))
	for _, src := range [][]string{{"-vocab", vocab}, {"-model", tinyModel}} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"tokenize", "-in", p}, src...), &out, &out))
		ids, sum := lastJSON(t, out.String())
		assert.Equal(t, want, ids)
		assert.Equal(t, "tokenize", sum["command"])
		assert.Equal(t, float64(len(want)), sum["lines"])
	}
	var out bytes.Buffer
	err = run(context.Background(), []string{"tokenize", "-in", p}, &out, &out)
	assert.ErrorIs(t, err, cli.ErrUsage)
}

func requireRuntime(t *testing.T) {
	if err := embed.InitRuntime(nil); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func TestTextsAndImagesWriteParquet(t *testing.T) {
	requireRuntime(t)
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.txt")
	require.NoError(t, os.WriteFile(prompts, []byte("a photo of a cat\nsecond line\n"), 0o644))
	out := filepath.Join(dir, "texts.parquet")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-out", out}, &stdout, &stderr))
	rows, err := parquet.ReadFile[textRow](out)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "second line", rows[1].Text)
	assert.Len(t, rows[0].Embedding, 12)
	_, sum := lastJSON(t, stdout.String())
	assert.Equal(t, map[string]any{"command": "texts", "items": 2.0, "failed": 0.0, "dim": 12.0, "out": out, "seconds": sum["seconds"]}, sum)
	assert.Empty(t, stderr.String(), "no bar when stderr is not a terminal")
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, atomicfile.Mode, st.Mode().Perm())

	imgs := filepath.Join(dir, "imgs")
	require.NoError(t, os.Mkdir(imgs, 0o755))
	src, err := os.ReadFile(shareddata.Path(t, "images", "photo_rgb_512x512.png"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "a.png"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "b.jpg"), []byte("broken"), 0o644))
	iout := filepath.Join(dir, "images.parquet")
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"images", "-model", tinyModel, "-images", imgs, "-out", iout, "-transform", "hpsv2"}, &stdout, &stderr))
	irows, err := parquet.ReadFile[imageRow](iout)
	require.NoError(t, err)
	require.Len(t, irows, 2)
	assert.Len(t, irows[0].Embedding, 12)
	assert.Empty(t, irows[0].Error)
	assert.Contains(t, irows[1].Error, "b.jpg")
	assert.Empty(t, irows[1].Embedding)
	_, sum = lastJSON(t, stdout.String())
	assert.Equal(t, 1.0, sum["failed"])

	err = run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-out", prompts}, &stdout, &stderr)
	assert.ErrorIs(t, err, atomicfile.ErrOverwritesInput)
	err = run(context.Background(), []string{"images", "-model", tinyModel, "-images", imgs, "-out", iout, "-transform", "nope"}, &stdout, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	err = run(context.Background(), []string{"frobnicate"}, &stdout, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	err = run(context.Background(), []string{"texts", "-in", prompts, "-out", out}, &stdout, &stderr)
	assert.ErrorContains(t, err, "-model is required")
	err = run(context.Background(), []string{"texts", "-model", tinyModel, "-in", prompts, "-out", out, "-batch", "-1"}, &stdout, &stderr)
	assert.ErrorIs(t, err, embed.ErrInvalidOptions)
}

func TestHelpPrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"images", "-h"}, {"texts", "-h"}, {"tokenize", "-h"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		assert.True(t, errors.Is(err, flag.ErrHelp), "%v: %v", args, err)
		assert.Contains(t, stderr.String(), "usage: embed", args)
		assert.Equal(t, 0, cli.Status("embed", err, context.Background(), &stderr))
		if args[0] != "-h" {
			assert.Contains(t, stderr.String(), "-model", args)
		}
	}
}

// TestInterruptLeavesNoOutput embeds a long prompt file and sends SIGINT mid-run: the
// program exits within 2 s, with a non-zero status, and writes no output file.
func TestInterruptLeavesNoOutput(t *testing.T) {
	requireRuntime(t)
	bin := clitest.Build(t)
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	model, err := filepath.Abs(tinyModel)
	require.NoError(t, err)
	dir := t.TempDir()
	in := filepath.Join(dir, "prompts.txt")
	var b strings.Builder
	for i := range 300000 {
		fmt.Fprintf(&b, "a photo of cat number %d\n", i)
	}
	require.NoError(t, os.WriteFile(in, []byte(b.String()), 0o644))
	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(outDir, 0o755))
	out := filepath.Join(outDir, "texts.parquet")
	r := clitest.Interrupt(t, bin, []string{"texts", "-model", model, "-vocab", vocab, "-in", in, "-out", out}, "", 1500*time.Millisecond)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Empty(t, clitest.Files(t, outDir))
	assert.NotContains(t, r.Stdout, "{", "no summary after an interrupt")
}

// TestStoreFillsAndResumes fills a store with texts and images, then runs again: every id
// is skipped, and the vectors equal the parquet output's within float16 precision.
func TestStoreFillsAndResumes(t *testing.T) {
	requireRuntime(t)
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.txt")
	require.NoError(t, os.WriteFile(prompts, []byte("a photo of a cat\nsecond line\na photo of a cat\n"), 0o644))
	store := filepath.Join(dir, "texts-store")
	for run1, wantSkipped := range []float64{1, 3} {
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-store", store}, &stdout, &stderr), stderr.String())
		_, sum := lastJSON(t, stdout.String())
		assert.Equal(t, wantSkipped, sum["skipped"], "run %d", run1)
		assert.Equal(t, store, sum["store"])
	}
	s, err := embed.OpenStore(store)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 2, s.Len())
	assert.Equal(t, "tinyclip", s.Model())
	out := filepath.Join(dir, "texts.parquet")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-out", out}, &stdout, &stderr))
	rows, err := parquet.ReadFile[textRow](out)
	require.NoError(t, err)
	got := make([]float32, s.Dim())
	_, err = s.Lookup([]uint64{embed.PromptKey(rows[1].Text)}, got)
	require.NoError(t, err)
	assert.InDeltaSlice(t, rows[1].Embedding, got, 1e-3)

	imgs := filepath.Join(dir, "imgs")
	require.NoError(t, os.Mkdir(imgs, 0o755))
	src, err := os.ReadFile(shareddata.Path(t, "images", "photo_rgb_512x512.png"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "38824499.png"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "7.jpg"), []byte("broken"), 0o644))
	istore := filepath.Join(dir, "images-store")
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"images", "-model", tinyModel, "-images", imgs, "-store", istore}, &stdout, &stderr))
	_, sum := lastJSON(t, stdout.String())
	assert.Equal(t, 1.0, sum["failed"])
	is, err := embed.OpenStore(istore)
	require.NoError(t, err)
	defer is.Close()
	assert.True(t, is.Has(38824499))
	assert.False(t, is.Has(7), "a broken image is not stored")

	require.NoError(t, os.WriteFile(filepath.Join(imgs, "cat.png"), src, 0o644))
	err = run(context.Background(), []string{"images", "-model", tinyModel, "-images", imgs, "-store", istore}, &stdout, &stderr)
	assert.ErrorContains(t, err, "cat.png")
	err = run(context.Background(), []string{"texts", "-model", tinyModel, "-in", prompts, "-out", out, "-store", store}, &stdout, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
}

// TestInterruptStoreKeepsCompleteShards sends SIGINT to a store run: the program exits
// within 2 s, and whatever it left in the store opens (complete shards only), so that the
// next run resumes.
func TestInterruptStoreKeepsCompleteShards(t *testing.T) {
	requireRuntime(t)
	bin := clitest.Build(t)
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	model, err := filepath.Abs(tinyModel)
	require.NoError(t, err)
	dir := t.TempDir()
	in := filepath.Join(dir, "prompts.txt")
	var b strings.Builder
	for i := range 300000 {
		fmt.Fprintf(&b, "a photo of cat number %d\n", i)
	}
	require.NoError(t, os.WriteFile(in, []byte(b.String()), 0o644))
	store := filepath.Join(dir, "store")
	r := clitest.Interrupt(t, bin, []string{"texts", "-model", model, "-vocab", vocab, "-in", in, "-store", store}, "", 1500*time.Millisecond)
	assert.Equal(t, 130, r.Status, r.Stderr)
	s, err := embed.OpenStore(store)
	require.NoError(t, err)
	assert.Less(t, s.Len(), 300000)
	require.NoError(t, s.Close())
}
