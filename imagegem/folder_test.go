package imagegem

import (
	"bytes"
	"context"
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

	genmeta "github.com/imagegem/imagegem-go/imagegem/meta"
	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// loraGolden are the shared LoRA files' hashes from scripts/lora_hashes.py (Python's
// hashlib and zlib).
func loraGolden(t *testing.T) map[string]LoRAFileHashes {
	b, err := os.ReadFile("testdata/lora_hashes.json")
	require.NoError(t, err)
	var g struct {
		Files map[string]LoRAFileHashes `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Files)
	return g.Files
}

func TestHashLoRAFileMatchesTheReference(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	for name, want := range loraGolden(t) {
		got, _, err := HashLoRAFile(t.Context(), filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}

// generatedPNG writes a small PNG carrying A1111 parameters, as the web UI saves them.
func generatedPNG(t *testing.T, path, params string, seed int) {
	img := image.NewNRGBA(image.Rect(0, 0, 8+seed, 8))
	img.Pix[0] = byte(seed)
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	out, err := genmeta.AddPNGText(b.Bytes(), genmeta.ChunkIText, "parameters", params)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// userFolder is a user's folder: three generations naming shared LoRA files by AutoV3 (the
// "Lora hashes" field), by AutoV2 (the "Hashes" field, under another name) and by name only.
func userFolder(t *testing.T) string {
	g := loraGolden(t)
	dir := t.TempDir()
	generatedPNG(t, filepath.Join(dir, "00001-11.png"),
		"a falcon, <lora:falcon4:0.8>\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 11, Size: 512x512, Model: anything, "+
			`Lora hashes: "falcon4: `+g["lycoris_lokr_smart_falcon_4.safetensors"].AutoV3+`", Version: v1.10.1`, 1)
	generatedPNG(t, filepath.Join(dir, "00002-12.png"),
		"a pokemon, <lora:pkmn:1>\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 12, Size: 512x768, "+
			`Hashes: {"model": "abcdef0123", "lora:pkmn": "`+g["diffusers_sd15_rank4_pokemon.safetensors"].AutoV2+`"}`, 2)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	generatedPNG(t, filepath.Join(dir, "sub", "00003-13.png"),
		"a cat, <lora:cloneofsimo_lora_disney:0.6>\nSteps: 30, Sampler: Euler, CFG scale: 5, Seed: 13, Size: 640x640", 3)
	generatedPNG(t, filepath.Join(dir, "00004-14.png"),
		"no lora here\nSteps: 30, Sampler: Euler, CFG scale: 5, Seed: 14, Size: 640x640, Model: plain", 4)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644))
	return dir
}

func TestIngestFolderResolvesLoRAsAndIsIncremental(t *testing.T) {
	ctx := t.Context()
	loras := shareddata.Path(t, "lora")
	g := loraGolden(t)
	dir := userFolder(t)
	out := filepath.Join(t.TempDir(), "release")
	var stages []string
	rep, err := IngestFolder(ctx, dir, out, &FolderOptions{LoRAs: loras, User: "alice",
		Progress: func(p Progress) { stages = append(stages, p.Stage) }})
	require.NoError(t, err)
	assert.Contains(t, stages, "loras")
	assert.Contains(t, stages, "images")
	assert.Equal(t, 4, rep.Files)
	assert.Equal(t, 4, rep.Added)
	assert.Equal(t, 3, rep.Images)
	assert.Equal(t, 1, rep.WithoutLoRA)
	assert.Equal(t, 3, rep.LoRARefs)
	assert.Equal(t, 2, rep.ByHash)
	assert.Equal(t, 1, rep.ByName)
	assert.Zero(t, rep.Unresolved)
	assert.Equal(t, 14, rep.LoRAFiles, "13 files and the PEFT adapter below; the textual inversion is not a LoRA")
	assert.True(t, rep.Written)

	rel, err := Open(ctx, out, nil)
	require.NoError(t, err)
	st, err := rel.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), st.Images)
	assert.Equal(t, int64(1), st.Users)
	imgs, err := rel.UserImages(ctx, HashUsername("alice"))
	require.NoError(t, err)
	require.Len(t, imgs, 3)
	byPrompt := map[string]Image{}
	for _, im := range imgs {
		byPrompt[im.Generation.Prompt] = im
	}
	for prompt, file := range map[string]string{
		"a falcon, <lora:falcon4:0.8>":              "lycoris_lokr_smart_falcon_4.safetensors",
		"a pokemon, <lora:pkmn:1>":                  "diffusers_sd15_rank4_pokemon.safetensors",
		"a cat, <lora:cloneofsimo_lora_disney:0.6>": "cloneofsimo_lora_disney.safetensors",
	} {
		im, ok := byPrompt[prompt]
		require.True(t, ok, prompt)
		require.Len(t, im.ModelVersionIDs, 1)
		v, err := rel.ModelVersion(ctx, im.ModelVersionIDs[0])
		require.NoError(t, err)
		f, ok := v.PrimaryFile()
		require.True(t, ok)
		assert.Equal(t, file, f.Name, prompt)
		assert.Equal(t, g[file].SHA256, f.Hashes.SHA256, "resolved to the file the hash names")
		assert.Equal(t, g[file].AutoV2, f.Hashes.AutoV2)
	}
	pk := byPrompt["a pokemon, <lora:pkmn:1>"]
	assert.Equal(t, "DPM++ 2M Karras", pk.Generation.Sampler)
	assert.Equal(t, int64(10), pk.Width, "the size of the file, not the text")
	assert.Equal(t, int64(12), pk.Generation.Seed)
	require.NoError(t, rel.Close())

	// A second run reads nothing and writes nothing.
	rep, err = IngestFolder(ctx, dir, out, &FolderOptions{LoRAs: loras, User: "alice"})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Added)
	assert.Equal(t, 4, rep.Unchanged)
	assert.False(t, rep.Written)

	// A new file is the only one read; a renamed one is recognised by content.
	generatedPNG(t, filepath.Join(dir, "00005-15.png"),
		"a dog, <lora:unknown_style:0.5>\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 15, Size: 512x512, Lora hashes: \"unknown_style: 000000000000\"", 5)
	require.NoError(t, os.Rename(filepath.Join(dir, "00004-14.png"), filepath.Join(dir, "renamed.png")))
	rep, err = IngestFolder(ctx, dir, out, &FolderOptions{LoRAs: loras, User: "alice"})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Added)
	assert.Equal(t, 4, rep.Unchanged)
	assert.Equal(t, 1, rep.Removed, "the old name")
	assert.Equal(t, 4, rep.Images)
	assert.Equal(t, 1, rep.Unresolved)
	assert.Equal(t, []string{"unknown_style"}, rep.UnresolvedNames)
	assert.True(t, rep.Written)
	rel, err = Open(ctx, out, nil)
	require.NoError(t, err)
	st, err = rel.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), st.Images)
	require.NoError(t, rel.Close())
	ents, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{ImagesDir, ModelsDir, FolderDir}, names, "no scratch folder left")
}

func TestIngestFolderSharedImages(t *testing.T) {
	ctx := t.Context()
	out := filepath.Join(t.TempDir(), "release")
	rep, err := IngestFolder(ctx, shareddata.Path(t, "images"), out, &FolderOptions{LoRAs: shareddata.Path(t, "lora")})
	require.NoError(t, err)
	assert.Equal(t, 36, rep.Files, "PNG, JPEG and WebP files; the GIF is not read")
	assert.Equal(t, 17, rep.NoGeneration)
	assert.Equal(t, 2, rep.Images, "the two generations with a LoRA")
	assert.Equal(t, []string{"NoobV065sHyperDmd", "Pecha_Swords_LORA_V1.2"}, rep.UnresolvedNames,
		"their LoRA files are not among the shared ones")
	assert.Zero(t, rep.Unreadable, "%v", rep.Problems)

	out2 := filepath.Join(t.TempDir(), "release")
	rep, err = IngestFolder(ctx, shareddata.Path(t, "images"), out2, &FolderOptions{Checkpoints: true})
	require.NoError(t, err)
	assert.Greater(t, rep.Images, 12, "generations with a checkpoint name")
	rel, err := Open(ctx, out2, nil)
	require.NoError(t, err)
	defer rel.Close()
	_, err = rel.Stats(ctx)
	require.NoError(t, err)
}

func TestIngestFolderCancelKeepsTheOldRelease(t *testing.T) {
	dir := userFolder(t)
	out := filepath.Join(t.TempDir(), "release")
	loras := shareddata.Path(t, "lora")
	_, err := IngestFolder(t.Context(), dir, out, &FolderOptions{LoRAs: loras})
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(out, FolderDir, "manifest.json"))
	require.NoError(t, err)
	generatedPNG(t, filepath.Join(dir, "new.png"), "x, <lora:a:1>\nSteps: 1, Sampler: a, Seed: 1, Size: 8x8", 6)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = IngestFolder(ctx, dir, out, &FolderOptions{LoRAs: loras})
	require.ErrorIs(t, err, context.Canceled)
	after, err := os.ReadFile(filepath.Join(out, FolderDir, "manifest.json"))
	require.NoError(t, err)
	assert.Equal(t, before, after)

	_, err = IngestFolder(t.Context(), dir, out, &FolderOptions{RowsPerFile: -1})
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = IngestFolder(t.Context(), dir, out, &FolderOptions{LoRAs: filepath.Join(dir, "missing")})
	require.ErrorIs(t, err, ErrInvalidOptions)
	// A release not made from a folder is never written over.
	other := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(other, ImagesDir), 0o755))
	_, err = IngestFolder(t.Context(), dir, other, nil)
	require.ErrorIs(t, err, ErrExists)
	_ = time.Now
}

// TestIngestFolderResolvesAgainstARelease: references that no LoRA file answers resolve
// against another release's models table by file hash (AutoV2 in A1111's "Hashes", a
// SHA-256 prefix, AutoV1) and by Civitai version id, taking that release's rows and ids.
func TestIngestFolderResolvesAgainstARelease(t *testing.T) {
	ctx := t.Context()
	const sha = "0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0"
	pub := filepath.Join(t.TempDir(), "public")
	w, err := NewWriter(ctx, pub, nil)
	require.NoError(t, err)
	versions := []ModelVersion{
		{ModelID: 10, ModelName: "Ink Style", ID: 111, Name: "v1", ModelType: "LORA", BaseModel: "SD 1.5", UserHash: "uploader-a",
			Files: []ModelFile{{ID: 1, Name: "ink.safetensors", Primary: true, Hashes: FileHashes{AutoV1: "ABCD1234", AutoV2: sha[:10], SHA256: sha}}}},
		{ModelID: 20, ModelName: "Neon", ID: 222, Name: "v2", ModelType: "LORA", BaseModel: "SDXL 1.0", UserHash: "uploader-b",
			Files: []ModelFile{{ID: 2, Name: "neon.safetensors", Primary: true, Hashes: FileHashes{AutoV1: "FEDC4321", AutoV2: "1111111111", SHA256: "1111111111" + sha[10:]}}}},
		{ModelID: 30, ModelName: "Clay", ID: 333, Name: "v3", ModelType: "LORA", BaseModel: "SD 1.5", UserHash: "uploader-c"},
	}
	for _, v := range versions {
		require.NoError(t, w.WriteModelVersion(v))
	}
	require.NoError(t, w.WriteImage(Image{ID: 1, ModelVersionIDs: []int64{111}, UserHash: "someone"}))
	require.NoError(t, w.Close())

	dir := t.TempDir()
	generatedPNG(t, filepath.Join(dir, "a.png"), "ink cat, <lora:ink:0.8>\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, "+
		`Hashes: {"lora:ink": "`+strings.ToLower(sha[:10])+`"}`, 1)
	generatedPNG(t, filepath.Join(dir, "b.png"), "neon city, <lora:neon:1>\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 2, Size: 512x512, "+
		`Hashes: {"lora:neon": "1111111111`+sha[10:16]+`"}`, 2)
	generatedPNG(t, filepath.Join(dir, "c.png"), "clay dog\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 3, Size: 512x512, "+
		`Civitai resources: [{"type":"lora","weight":0.7,"modelVersionId":333,"modelName":"Clay","modelVersionName":"v3"},{"type":"lora","weight":1,"modelVersionId":999,"modelName":"Gone"}]`, 3)
	generatedPNG(t, filepath.Join(dir, "d.png"), "odd\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 4, Size: 512x512, "+
		`Hashes: {"lora:odd": "2222222222"}`, 4)

	out := filepath.Join(t.TempDir(), "mine")
	rep, err := IngestFolder(ctx, dir, out, &FolderOptions{Release: pub, User: "me"})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.LoRARefs)
	assert.Equal(t, 2, rep.ByReleaseHash, "AutoV2 and a 16-digit SHA-256 prefix")
	assert.Equal(t, 2, rep.ByVersionID)
	assert.Equal(t, 1, rep.InRelease, "version 999 is not in the release")
	assert.Equal(t, 1, rep.Unresolved)
	assert.Equal(t, []string{"odd"}, rep.UnresolvedNames)

	rel, err := Open(ctx, out, nil)
	require.NoError(t, err)
	defer rel.Close()
	imgs, err := rel.UserImages(ctx, HashUsername("me"))
	require.NoError(t, err)
	byPrompt := map[string]Image{}
	for _, im := range imgs {
		byPrompt[im.Generation.Prompt] = im
	}
	assert.Equal(t, []int64{111}, byPrompt["ink cat, <lora:ink:0.8>"].ModelVersionIDs)
	assert.Equal(t, []int64{222}, byPrompt["neon city, <lora:neon:1>"].ModelVersionIDs)
	assert.ElementsMatch(t, []int64{333, 999}, byPrompt["clay dog"].ModelVersionIDs)
	v, err := rel.ModelVersion(ctx, 111)
	require.NoError(t, err)
	assert.Equal(t, "Ink Style", v.ModelName, "the release's row")
	assert.Equal(t, "uploader-a", v.UserHash, "the public uploader is kept")
	f, ok := v.PrimaryFile()
	require.True(t, ok)
	assert.Equal(t, sha, f.Hashes.SHA256)
	v, err = rel.ModelVersion(ctx, 333)
	require.NoError(t, err)
	assert.Equal(t, "SD 1.5", v.BaseModel)

	// A second run against the same release changes nothing; without the release it resolves again.
	rep, err = IngestFolder(ctx, dir, out, &FolderOptions{Release: pub, User: "me"})
	require.NoError(t, err)
	assert.False(t, rep.Written)
	rep, err = IngestFolder(ctx, dir, out, &FolderOptions{User: "me"})
	require.NoError(t, err)
	assert.True(t, rep.Written)
	assert.Zero(t, rep.ByReleaseHash)
	assert.Equal(t, 3, rep.Unresolved)

	_, err = IngestFolder(ctx, dir, out, &FolderOptions{Release: filepath.Join(dir, "a.png")})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}
