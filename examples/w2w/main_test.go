package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

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
	require.NoError(t, run(ctx, []string{"reduce", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-out", reduced}, &out))
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
	require.NoError(t, run(ctx, []string{"direction", "-loras", data, "-labels", labels, "-components", "2", "-out", dirFile, "-space", spaceFile}, &out))
	assert.Contains(t, out.String(), "3 LoRAs (sd1), 128 modules")
	df, err := w2w.ReadDirection(dirFile)
	require.NoError(t, err)
	assert.Len(t, df.Vector, df.Layout.Dim)
	assert.Equal(t, "logistic", df.Metadata["w2w.classifier"])

	for _, extra := range [][]string{nil, {"-space", spaceFile}} {
		edited := filepath.Join(tmp, "edited.safetensors")
		out.Reset()
		args := append([]string{"edit", "-in", filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors"), "-direction", dirFile, "-alpha", "0.5", "-out", edited}, extra...)
		require.NoError(t, run(ctx, args, &out))
		e, err := w2w.LoadLoRA(edited)
		require.NoError(t, err)
		assert.Len(t, e.Modules, 128)
		for _, m := range e.Modules {
			assert.Equal(t, 1, m.Rank)
		}
	}

	// Bad use is reported, never a panic; an input is never overwritten.
	in := filepath.Join(data, "diffusers_sd15_rank4_pokemon.safetensors")
	assert.Error(t, run(ctx, nil, &out))
	assert.Error(t, run(ctx, []string{"bogus"}, &out))
	assert.Error(t, run(ctx, []string{"reduce", "-in", in}, &out))
	assert.ErrorIs(t, run(ctx, []string{"edit", "-in", reduced, "-direction", dirFile, "-alpha", "1", "-out", reduced}, &out), w2w.ErrOverwritesInput)
	bad := filepath.Join(tmp, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("file,label\nx.safetensors,2\n"), 0o600))
	assert.Error(t, run(ctx, []string{"direction", "-loras", data, "-labels", bad, "-out", filepath.Join(tmp, "d2")}, &out))
	assert.ErrorIs(t, run(ctx, []string{"reduce", "-in", filepath.Join(data, "truncated_flux_kohya_m000lie.safetensors"), "-out", filepath.Join(tmp, "t")}, &out), safetensors.ErrTruncated)
}
