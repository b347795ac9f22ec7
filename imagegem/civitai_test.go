package imagegem

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// SHA-256 of the usernames, computed with coreutils' sha256sum (printf NAME | sha256sum).
const (
	hashAjuro       = "3909e5e785fe21afb564f42561e69083d64d6c6e5b60c0211839a94ce31e1f0b"
	hashAlericiviai = "045c7fd2a15a77234341063ddd4026f4bb0aabad6472580869a732222b07a387"
)

func TestHashUsername(t *testing.T) {
	assert.Equal(t, hashAjuro, HashUsername("Ajuro"))
}

func TestReadImagesPage2024(t *testing.T) {
	p := shareddata.Path(t, "civitai", "images_limit1_2024-04.json")
	imgs, noLoRA, err := ReadImagesPage(p, nil)
	require.NoError(t, err)
	require.Len(t, imgs, 1)
	assert.Equal(t, 0, noLoRA)
	im := imgs[0]
	assert.Equal(t, int64(9173928), im.ID)
	// The six LoRAs of meta.civitaiResources; the checkpoint (345685) and the embedding
	// (9208) are not LoRAs.
	assert.Equal(t, []int64{249861, 258687, 332071, 413566, 421757, 426333}, im.ModelVersionIDs)
	assert.Equal(t, hashAjuro, im.UserHash)
	assert.Equal(t, time.Date(2024, 4, 4, 21, 24, 7, 499e6, time.UTC), im.CreatedAt)
	assert.Equal(t, int64(1938345220), im.Generation.Seed)
	assert.Equal(t, int64(45), im.Generation.Steps)
	assert.Equal(t, 5.0, im.Generation.CFGScale)
	assert.Equal(t, int64(2), im.Generation.ClipSkip)
	assert.Equal(t, "DPM++ 2M", im.Generation.Sampler)
	assert.True(t, strings.HasPrefix(im.Generation.Prompt, "AtomicHeartTwinsCosplay in absolute darkness"))
	assert.True(t, math.IsNaN(im.Generation.DenoisingStrength))
	assert.Equal(t, LevelPG, im.BrowsingLevel)
	assert.False(t, im.NSFW)
	assert.Equal(t, Reactions{Cry: 528, Laugh: 1051, Like: 8122, Dislike: 0, Heart: 3313, Comment: 29}, im.Reactions)
	assert.Equal(t, int64(832), im.Width)
	assert.Equal(t, int64(1216), im.Height)
	assert.Equal(t, int64(1981754), im.PostID)
}

func TestReadImagesPage2023StringNumbers(t *testing.T) {
	p := shareddata.Path(t, "civitai", "wiki_example_images_limit1.json")
	imgs, noLoRA, err := ReadImagesPage(p, nil)
	require.NoError(t, err)
	assert.Empty(t, imgs, "a <lora:…> tag in the prompt names no model version")
	assert.Equal(t, 1, noLoRA)

	var page struct{ Items []apiImage }
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &page))
	im, err := page.Items[0].image(nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), im.Generation.ClipSkip, `"Clip skip": "2"`)
	assert.Equal(t, 2.0, im.Generation.HiresUpscale)
	assert.Equal(t, "4x-AnimeSharp", im.Generation.HiresUpscaler)
	assert.Equal(t, 0.4, im.Generation.DenoisingStrength)
	assert.Equal(t, LevelPG, im.BrowsingLevel, `nsfwLevel "None"`)
}

func TestReadModelsPages(t *testing.T) {
	vs, err := ReadModelsPage(shareddata.Path(t, "civitai", "models_1580878_lora_raw.json"), nil)
	require.NoError(t, err)
	require.Len(t, vs, 2)
	v := vs[0]
	assert.Equal(t, int64(1967584), v.ID)
	assert.Equal(t, int64(1580878), v.ModelID)
	assert.Equal(t, "LORA", v.ModelType)
	assert.Equal(t, "Illustrious", v.BaseModel)
	assert.Equal(t, hashAlericiviai, v.UserHash)
	assert.Equal(t, "Sell, Image, RentCivit, Rent", v.AllowCommercialUse)
	assert.Equal(t, []string{"assets"}, v.Tags)
	assert.Equal(t, []string{"Srealist"}, v.TrainedWords)
	assert.Equal(t, time.Date(2025, 7, 2, 19, 13, 58, 758e6, time.UTC), v.PublishedAt)
	assert.Equal(t, int64(197), v.DownloadCount, "version stats, not the model's 506")
	assert.Equal(t, int64(32), v.ThumbsUpCount)
	require.Len(t, v.Files, 1)
	f := v.Files[0]
	assert.Equal(t, int64(1865079), f.ID)
	assert.Equal(t, "SafeTensor", f.Format)
	assert.True(t, f.Primary)
	assert.Equal(t, "7C0B4B21DAD60CE4E5A3F78D33261F4E556F94042E7FD19FBC8C734A80EC5A81", f.Hashes.SHA256)
	assert.InDelta(t, 223107.16015625, f.SizeKB, 1e-9)

	vs, err = ReadModelsPage(shareddata.Path(t, "civitai", "wiki_example_models_1102.json"), nil)
	require.NoError(t, err)
	require.Len(t, vs, 3)
	assert.Equal(t, []string{"punk", "synthwave", "style"}, vs[0].Tags, "tags given as {name} objects")
	assert.Equal(t, "Checkpoint", vs[0].ModelType)
	assert.Len(t, vs[1].Files, 2)

	vs, err = ReadModelsPage(shareddata.Path(t, "civitai", "wiki_example_models_limit1_textualinversion.json"), nil)
	require.NoError(t, err)
	assert.Len(t, vs, 6, "3 models with 3, 1 and 2 versions")

	vs, err = ReadModelsPage(shareddata.Path(t, "civitai", "wiki_example_model-versions_1318.json"), nil)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, int64(1318), vs[0].ID)
	assert.Equal(t, int64(1244), vs[0].ModelID)
	assert.Equal(t, "froggy style", vs[0].ModelName)
	assert.Equal(t, "", vs[0].UserHash, "a model-version response names no creator")
}

func TestIngestCivitaiWritesARelease(t *testing.T) {
	out := t.TempDir()
	imgs := []string{
		shareddata.Path(t, "civitai", "images_limit1_2024-04.json"),
		shareddata.Path(t, "civitai", "wiki_example_images_limit1.json"),
		shareddata.Path(t, "civitai", "images_limit1_2024-04.json"), // a page saved twice
	}
	mods := []string{
		shareddata.Path(t, "civitai", "models_1580878_lora_raw.json"),
		shareddata.Path(t, "civitai", "wiki_example_models_1102.json"),
	}
	var reports []Progress
	rep, err := IngestCivitai(context.Background(), out, imgs, mods, &IngestOptions{Progress: func(p Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	assert.Equal(t, IngestReport{Images: 1, ImagesWithoutLoRA: 1, DuplicateImages: 1, Versions: 2, VersionsOtherType: 3}, rep)
	assert.Equal(t, []Progress{{Stage: "images", Done: 1, Total: 3}, {Stage: "images", Done: 2, Total: 3},
		{Stage: "images", Done: 3, Total: 3}, {Stage: "models", Done: 1, Total: 2}, {Stage: "models", Done: 2, Total: 2}}, reports)

	r, err := Open(context.Background(), out, nil)
	require.NoError(t, err)
	defer r.Close()
	s, err := r.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Images)
	assert.Equal(t, int64(2), s.LoRAs)
	assert.Equal(t, int64(1), s.Users)
	assert.Equal(t, int64(1), s.Uploaders)

	img, err := r.Image(context.Background(), 9173928)
	require.NoError(t, err)
	assert.Len(t, img.ModelVersionIDs, 6)
	assert.Equal(t, hashAjuro, img.UserHash)

	// No raw username anywhere in either table.
	for _, view := range []string{ImagesView, ModelsView} {
		rows, err := r.Query(context.Background(), "SELECT * FROM "+view)
		require.NoError(t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			line := fmt.Sprint(vals...)
			assert.NotContains(t, line, "Ajuro")
			assert.NotContains(t, line, "alericiviai")
		}
		rows.Close()
	}
}

func TestIngestAllModelTypes(t *testing.T) {
	out := t.TempDir()
	rep, err := IngestCivitai(context.Background(), out,
		[]string{shareddata.Path(t, "civitai", "images_limit1_2024-04.json")},
		[]string{shareddata.Path(t, "civitai", "wiki_example_models_1102.json")},
		&IngestOptions{AllModelTypes: true, HashUser: func(u string) string { return "h-" + u }})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Versions)
	r, err := Open(context.Background(), out, nil)
	require.NoError(t, err)
	defer r.Close()
	img, err := r.Image(context.Background(), 9173928)
	require.NoError(t, err)
	assert.Equal(t, "h-Ajuro", img.UserHash)
}

func TestCivitaiBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "trunc.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"items": [{"id": 1, "url": "x"`), 0o644))
	_, _, err := ReadImagesPage(bad, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)

	wrong := filepath.Join(dir, "wrong.json")
	require.NoError(t, os.WriteFile(wrong, []byte(`{"items": [{"id": 1, "width": "wide"}]}`), 0o644))
	_, _, err = ReadImagesPage(wrong, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "items[0]")

	noID := filepath.Join(dir, "noid.json")
	require.NoError(t, os.WriteFile(noID, []byte(`{"items": [{"url": "x"}]}`), 0o644))
	_, _, err = ReadImagesPage(noID, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"id" is missing`)

	odd := filepath.Join(dir, "odd.json")
	require.NoError(t, os.WriteFile(odd, []byte(`{"hello": 1}`), 0o644))
	_, err = ReadModelsPage(odd, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), odd)

	badTime := filepath.Join(dir, "time.json")
	require.NoError(t, os.WriteFile(badTime, []byte(`{"items": [{"id": 1, "createdAt": "yesterday"}]}`), 0o644))
	_, _, err = ReadImagesPage(badTime, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "createdAt")
}

func FuzzReadImagesPage(f *testing.F) {
	f.Add([]byte(`{"items":[{"id":1,"modelVersionIds":[2],"meta":{"seed":"3","civitaiResources":[{"type":"lora","modelVersionId":4}]}}]}`))
	f.Add([]byte(`{"items":[{"id":1,"nsfwLevel":"X","stats":{"likeCount":"7"}}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "page.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Skip()
		}
		imgs, _, err := ReadImagesPage(p, nil)
		if err == nil {
			for _, im := range imgs {
				if len(im.ModelVersionIDs) == 0 {
					t.Fatalf("image %d kept without a LoRA", im.ID)
				}
			}
		}
		_, _ = ReadModelsPage(p, nil)
	})
}

func TestIngestCivitaiCancelLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "release")
	imgs := []string{
		shareddata.Path(t, "civitai", "images_limit1_2024-04.json"),
		shareddata.Path(t, "civitai", "wiki_example_images_limit1.json"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := IngestCivitai(ctx, out, imgs, nil, &IngestOptions{Progress: func(Progress) { cancel() }})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, entries(t, parent))
}
