package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/internal/shareddata"
)

var tinyModel = filepath.Join("..", "..", "embed", "testdata", "tinyclip")

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
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"tokenize", "-vocab", vocab, "-in", p}, &out, &out))
	assert.Equal(t, strings.Join(want, "\n")+"\n", out.String())

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"tokenize", "-model", tinyModel, "-in", p}, &out, &out))
	assert.Equal(t, strings.Join(want, "\n")+"\n", out.String())
	assert.Error(t, run(context.Background(), []string{"tokenize", "-in", p}, &out, &out))
}

func requireRuntime(t *testing.T) {
	if err := embed.InitRuntime(embed.RuntimeOptions{}); err != nil {
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
	var log bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-out", out}, &log, &log))
	rows, err := parquet.ReadFile[textRow](out)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "second line", rows[1].Text)
	assert.Len(t, rows[0].Embedding, 12)
	assert.Contains(t, log.String(), "2/2")

	imgs := filepath.Join(dir, "imgs")
	require.NoError(t, os.Mkdir(imgs, 0o755))
	src, err := os.ReadFile(shareddata.Path(t, "images", "photo_rgb_512x512.png"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "a.png"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(imgs, "b.jpg"), []byte("broken"), 0o644))
	iout := filepath.Join(dir, "images.parquet")
	require.NoError(t, run(context.Background(), []string{"images", "-model", tinyModel, "-in", imgs, "-out", iout, "-transform", "hpsv2"}, &log, &log))
	irows, err := parquet.ReadFile[imageRow](iout)
	require.NoError(t, err)
	require.Len(t, irows, 2)
	assert.Len(t, irows[0].Embedding, 12)
	assert.Empty(t, irows[0].Error)
	assert.Contains(t, irows[1].Error, "b.jpg")

	assert.Error(t, run(context.Background(), []string{"texts", "-model", tinyModel, "-vocab", vocab, "-in", prompts, "-out", prompts}, &log, &log))
	assert.Error(t, run(context.Background(), []string{"images", "-model", tinyModel, "-in", imgs, "-out", iout, "-transform", "nope"}, &log, &log))
	assert.Error(t, run(context.Background(), []string{"frobnicate", "-in", "x"}, &log, &log))
}
