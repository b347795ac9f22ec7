package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubcommands(t *testing.T) {
	data := shareddata.Path(t, "lora")
	tmp := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer

	reduced := filepath.Join(tmp, "pokemon_rank1.safetensors")
	require.NoError(t, run(ctx, []string{"reduce", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-out", reduced}, &out, io.Discard))
	assert.Contains(t, out.String(), "wrote "+reduced)
	l, err := w2w.LoadLoRA(reduced)
	require.NoError(t, err)
	assert.Len(t, l.Modules, 128)
	assert.Equal(t, w2w.SD1, l.Family)

	labels := filepath.Join(tmp, "labels.csv")
	require.NoError(t, os.WriteFile(labels, []byte("file,label\ndiffusers_sd15_rank4_catundchat.safetensors,1\ndiffusers_sd15_unetprefix_rank4_timohavdk.safetensors,1\ndiffusers_sd15_rank4_pokemon.safetensors,-1\n"), 0o600))
	dirFile := filepath.Join(tmp, "direction.safetensors")
	spaceFile := filepath.Join(tmp, "space.safetensors")
	out.Reset()
	require.NoError(t, run(ctx, []string{"direction", "-loras", data, "-labels", labels, "-components", "2", "-out", dirFile, "-space", spaceFile}, &out, io.Discard))
	assert.Contains(t, out.String(), "3 LoRAs (sd1), 128 modules")
	df, err := w2w.ReadDirection(dirFile)
	require.NoError(t, err)
	assert.Len(t, df.Vector, df.Layout.Dim)
	assert.Equal(t, "logistic", df.Metadata["w2w.classifier"])

	for _, extra := range [][]string{nil, {"-space", spaceFile}} {
		edited := filepath.Join(tmp, "edited.safetensors")
		out.Reset()
		args := append([]string{"edit", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-direction", dirFile, "-alpha", "0.5", "-out", edited}, extra...)
		require.NoError(t, run(ctx, args, &out, io.Discard))
		e, err := w2w.LoadLoRA(edited)
		require.NoError(t, err)
		assert.Len(t, e.Modules, 128)
		assert.Equal(t, "edit", e.Metadata[w2w.MetaMethod])
		assert.Equal(t, "0.5", e.Metadata[w2w.MetaEditAlpha])
		assert.Equal(t, "direction.safetensors", e.Metadata[w2w.MetaDirection])
		for _, m := range e.Modules {
			assert.Equal(t, 1, m.Rank)
		}
	}

	// -format peft writes diffusers' names with adapter_config.json beside.
	peftDir := filepath.Join(tmp, "peft")
	require.NoError(t, os.Mkdir(peftDir, 0o755))
	peftOut := filepath.Join(peftDir, "pytorch_lora_weights.safetensors")
	out.Reset()
	require.NoError(t, run(ctx, []string{"reduce", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-out", peftOut, "-format", "peft"}, &out, io.Discard))
	assert.FileExists(t, filepath.Join(peftDir, "adapter_config.json"))
	pl, err := w2w.LoadLoRA(peftOut)
	require.NoError(t, err)
	assert.Equal(t, w2w.PEFT, pl.Convention)
	assert.Len(t, pl.Modules, 128)
	assert.ErrorIs(t, run(ctx, []string{"reduce", "-in", in0(data), "-out", filepath.Join(tmp, "x.safetensors"), "-format", "diffusers"}, &out, io.Discard), w2w.ErrInvalidOptions)

	// Bad use is reported, never a panic; an input is never overwritten.
	in := filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors")
	assert.Error(t, run(ctx, nil, &out, io.Discard))
	assert.Error(t, run(ctx, []string{"bogus"}, &out, io.Discard))
	assert.Error(t, run(ctx, []string{"reduce", "-in", in}, &out, io.Discard))
	assert.ErrorIs(t, run(ctx, []string{"edit", "-in", reduced, "-direction", dirFile, "-alpha", "1", "-out", reduced}, &out, io.Discard), w2w.ErrOverwritesInput)
	bad := filepath.Join(tmp, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("file,label\nx.safetensors,2\n"), 0o600))
	assert.Error(t, run(ctx, []string{"direction", "-loras", data, "-labels", bad, "-out", filepath.Join(tmp, "d2")}, &out, io.Discard))
	assert.ErrorIs(t, run(ctx, []string{"reduce", "-in", filepath.Join(data, "truncated_flux_kohya_m000lie.safetensors"), "-out", filepath.Join(tmp, "t")}, &out, io.Discard), safetensors.ErrTruncated)
}

func in0(data string) string { return filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors") }

// lastJSON decodes the last line of a program's output.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &v), "last line is one JSON object: %q", lines[len(lines)-1])
	return v
}

func TestLastLineIsJSON(t *testing.T) {
	data := shareddata.Path(t, "lora")
	var out bytes.Buffer
	dst := filepath.Join(t.TempDir(), "r.safetensors")
	require.NoError(t, run(t.Context(), []string{"reduce", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-out", dst}, &out, io.Discard))
	v := lastJSON(t, out.String())
	assert.Equal(t, dst, v["out"])
	assert.Equal(t, 128.0, v["modules"])
	assert.Equal(t, "sd1", v["family"])
}

func TestHelpPrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"reduce", "-h"}, {"direction", "-h"}, {"edit", "-h"}} {
		var stderr bytes.Buffer
		err := run(t.Context(), args, io.Discard, &stderr)
		assert.Equal(t, 0, cli.Status("w2w", err, t.Context(), io.Discard), "%v exits 0", args)
		assert.Contains(t, stderr.String(), "usage:", "%v", args)
		assert.Contains(t, stderr.String(), "w2w "+map[bool]string{true: "reduce", false: args[0]}[args[0] == "-h"], "%v", args)
	}
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"reduce", "-in", "x"}, io.Discard, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.Equal(t, 2, cli.Status("w2w", err, t.Context(), io.Discard))
	assert.Contains(t, stderr.String(), "-out")
}

// The program's error carries its prefix once.
func TestErrorPrefixOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"reduce", "-in", filepath.Join(t.TempDir(), "missing.safetensors"), "-out", filepath.Join(t.TempDir(), "o")}, io.Discard, io.Discard)
	require.Error(t, err)
	cli.Status("w2w", err, t.Context(), &stderr)
	assert.Equal(t, 1, strings.Count(stderr.String(), "w2w:"), stderr.String())
}

// Ctrl-C during a long direction run exits within 2 s and leaves no output file.
func TestInterruptLeavesNothing(t *testing.T) {
	data := shareddata.Path(t, "lora")
	bin := clitest.Build(t)
	tmp := t.TempDir()
	// Many rows naming the same LoRAs make a run of many seconds.
	var csv strings.Builder
	csv.WriteString("file,label\n")
	for i := 0; i < 4000; i++ {
		fmt.Fprintf(&csv, "diffusers_sd15_rank4_catundchat.safetensors,1\ndiffusers_sd15_rank4_pokemon.safetensors,-1\n")
	}
	labels := filepath.Join(tmp, "labels.csv")
	require.NoError(t, os.WriteFile(labels, []byte(csv.String()), 0o644))
	outDir := filepath.Join(tmp, "out")
	require.NoError(t, os.Mkdir(outDir, 0o755))
	r := clitest.Interrupt(t, bin, []string{"direction", "-loras", data, "-labels", labels, "-components", "2",
		"-out", filepath.Join(outDir, "d.safetensors"), "-space", filepath.Join(outDir, "s.safetensors")}, "", 1500*time.Millisecond)
	assert.Less(t, r.Exit, clitest.ExitWithin)
	assert.Equal(t, 130, r.Status)
	assert.Empty(t, clitest.Files(t, outDir))
	assert.Equal(t, 1, strings.Count(r.Stderr, "w2w:"), r.Stderr)
}
