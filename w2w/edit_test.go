package w2w

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRank1WriteReadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ctx := context.Background()
	l := &LoRA{Family: SDXL, Convention: Kohya, Path: "in.safetensors", Modules: []Module{
		{Name: "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_v", Component: UNet, Kind: AttnV, Attn: 2, Out: 20, In: 32, Rank: 3, Alpha: 1, Up: randFloats(rng, 60, 1), Down: randFloats(rng, 96, 1)},
		{Name: "lora_unet_input_blocks_4_0_in_layers_2", Component: UNet, Kind: Conv, Out: 8, In: 6 * 9, Kernel: []int{3, 3}, Rank: 2, Alpha: 2, Up: randFloats(rng, 16, 1), Down: randFloats(rng, 108, 1)},
	}}
	red, err := Reduce(ctx, l, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	for _, dt := range []safetensors.DType{safetensors.F32, safetensors.F16} {
		path := filepath.Join(dir, "rank1_"+string(dt)+".safetensors")
		require.NoError(t, WriteRank1LoRA(path, red, &WriteOptions{DType: dt, Metadata: map[string]string{"note": "x"}}))
		f, err := safetensors.Open(path)
		require.NoError(t, err)
		want, err := Rank1Tensors(red, dt)
		require.NoError(t, err)
		require.Len(t, f.Tensors, len(want))
		for _, w := range want {
			raw, err := f.Raw(w.Name)
			require.NoError(t, err)
			assert.Equal(t, w.Data, raw, "identical bytes for %s", w.Name)
			info, _ := f.Info(w.Name)
			assert.Equal(t, w.Shape, info.Shape)
		}
		meta := Rank1Metadata(SDXL)
		meta["note"] = "x"
		meta["w2w.modules"] = "2"
		meta[MetaMethod], meta[MetaRank], meta[MetaSource], meta[MetaSourceConvention] = "reduce", "1", "in.safetensors", "kohya"
		// AUTOMATIC1111's hash of a safetensors LoRA (modules/hashes.py
		// addnet_hash_safetensors): SHA-256 of the bytes after the 8-byte length and the header.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		n := binary.LittleEndian.Uint64(b[:8])
		sum := sha256.Sum256(b[8+n:])
		meta[MetaModelHash] = hex.EncodeToString(sum[:])
		assert.Equal(t, meta, f.Metadata)
		require.NoError(t, f.Close())

		back, err := LoadLoRA(path)
		require.NoError(t, err)
		assert.Equal(t, SDXL, back.Family)
		conv, ok := back.Module("lora_unet_input_blocks_4_0_in_layers_2")
		require.True(t, ok)
		assert.Equal(t, []int{3, 3}, conv.Kernel)
		assert.Equal(t, 54, conv.In)
		if dt == safetensors.F32 {
			red2, err := Reduce(ctx, back, nil)
			require.NoError(t, err)
			for _, m := range red.Modules {
				m2, ok := red2.Module(m.Name)
				require.True(t, ok)
				assert.InDelta(t, 1, m2.Sigma/m.Sigma, 1e-6)
				assert.Less(t, relVecErr(m2.U, f64(m.U)), 1e-5)
			}
		}
	}
	// The source file is never overwritten.
	err = WriteRank1LoRA("in.safetensors", red, nil)
	assert.ErrorIs(t, err, ErrOverwritesInput)
	p := filepath.Join(dir, "rank1_F32.safetensors")
	err = WriteRank1LoRA(p, red, &WriteOptions{Inputs: []string{p}})
	assert.ErrorIs(t, err, ErrOverwritesInput)
}

func TestRealLoRAsReduceAndWrite(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	out := t.TempDir()
	ctx := context.Background()
	for _, name := range []string{"diffusers_sd15_rank4_pokemon.safetensors", "cloneofsimo_lora_disney.safetensors", "lycoris_lokr_smart_falcon_4.safetensors", "flux_peft_aitoolkit_leighwoods.safetensors"} {
		l, err := LoadLoRA(filepath.Join(dir, name))
		require.NoError(t, err)
		red, err := Reduce(ctx, l, nil)
		require.NoError(t, err, name)
		p := filepath.Join(out, name)
		require.NoError(t, WriteRank1LoRA(p, red, nil))
		back, err := LoadLoRA(p)
		require.NoError(t, err, name)
		assert.Equal(t, l.Family, back.Family, name)
		require.Len(t, back.Modules, len(l.Modules), name)
		for i, m := range back.Modules {
			assert.Equal(t, l.Modules[i].Name, m.Name)
			assert.Equal(t, 1, m.Rank)
			// Rank 1 keeps σ₁ of each module, and a rank-1 input loses nothing.
			assert.GreaterOrEqual(t, red.Modules[i].Discarded(), 0.0)
			if l.Modules[i].Rank == 1 && l.Modules[i].Kron == nil {
				assert.InDelta(t, 0, red.Modules[i].Discarded(), 1e-5, m.Name)
			}
		}
	}
}

func TestDirectionFileRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	lay := &Layout{Family: SD1, Selection: SelectAll, Modules: []LayoutModule{
		{Name: "lora_unet_a_attn1_to_v", Kind: AttnV, Out: 4, In: 3, Rank: 1, Ref: randFloats(rng, 4, 1)},
		{Name: "lora_unet_b_ff_net_2", Kind: FF, Out: 2, In: 5, Rank: 1},
	}}
	lay.finish()
	v := randFloats(rng, lay.Dim, 1)
	p := filepath.Join(t.TempDir(), "dir.safetensors")
	require.NoError(t, WriteDirection(p, &DirectionFile{Layout: lay, Vector: v, Metadata: map[string]string{"w2w.classifier": "svm"}}))
	df, err := ReadDirection(p)
	require.NoError(t, err)
	got := df.Layout
	assert.Equal(t, v, df.Vector)
	assert.Equal(t, "svm", df.Metadata["w2w.classifier"])
	assert.Equal(t, lay.Modules[0].Ref, got.Modules[0].Ref)
	assert.Nil(t, got.Modules[1].Ref)
	assert.Equal(t, lay.Dim, got.Dim)
	// The direction file also reads as a rank-1 LoRA with the layout's module names.
	asLoRA, err := LoadLoRA(p)
	require.NoError(t, err)
	require.Len(t, asLoRA.Modules, 2)
	assert.Equal(t, "lora_unet_a_attn1_to_v", asLoRA.Modules[0].Name)
	assert.Equal(t, 3, asLoRA.Modules[0].In)

	// EditVector with α = 0 keeps the LoRA; a LoRA module outside the layout is kept.
	lo := rank1LoRA(SD1, map[string][2][]float32{
		"lora_unet_a_attn1_to_v": {randFloats(rng, 4, 1), randFloats(rng, 3, 1)},
		"lora_unet_c_attn1_to_q": {randFloats(rng, 2, 1), randFloats(rng, 2, 1)},
	})
	red, err := Reduce(context.Background(), lo, nil)
	require.NoError(t, err)
	ed, err := EditVector(red, got, df.Vector, 0)
	require.NoError(t, err)
	require.Len(t, ed.Modules, 2)
	for i := range ed.Modules {
		assert.Equal(t, red.Modules[i].Name, ed.Modules[i].Name)
		assert.InDelta(t, red.Modules[i].Sigma, ed.Modules[i].Sigma, 1e-5)
	}
	_, err = ReadDirection(filepath.Join(shareddata.Path(t, "lora"), "diffusers_sd15_rank4_pokemon.safetensors"))
	assert.ErrorIs(t, err, ErrLayout)
}
