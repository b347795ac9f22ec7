package imagegem

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Hand-made fixture: 3 uploaders (u1 with 3 versions, u2 with 1, u3 with 1), 4 image makers.
//
//	image 10 by u1, prompt "a red car", versions 100, 101        (2 links)
//	image 11 by u4, prompt "a red car", version 100              (1 link)
//	image 12 by u4, prompt "",          versions 100, 101, 102   (3 links)
//	image 13 by u5, prompt "a dog",     version 103              (1 link)
//	image 14 by u2, prompt "bad words", version 104              (1 link)
//	image 15 by u5, prompt "bad words", versions 103, 999        (999 is not in the models table)
//
// models: 100 (u1, tags "car, vehicle", two files), 101 (u1, "car"), 102 (u1, "dog, , cute"),
// 103 (u2, "dog"), 104 (u3, "nsfw, dog"), 105 (u3, no images, tags "").
func fixtureRelease(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	w, err := NewWriter(context.Background(), dir, &WriterOptions{RowsPerFile: 4})
	require.NoError(t, err)
	t0 := time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	img := func(id int64, user, prompt string, minutes int, versions ...int64) Image {
		return Image{ID: id, ModelVersionIDs: versions, UserHash: user, Type: "image",
			CreatedAt: t0.Add(time.Duration(minutes) * time.Minute), Width: 512, Height: 768,
			Generation: Generation{Prompt: prompt, Steps: 20, CFGScale: 7, DenoisingStrength: math.NaN()},
			Reactions:  Reactions{Like: id}}
	}
	for _, im := range []Image{
		img(10, "u1", "a red car", 5, 100, 101),
		img(11, "u4", "a red car", 1, 100),
		img(12, "u4", "", 3, 100, 101, 102),
		img(13, "u5", "a dog", 2, 103),
		img(14, "u2", "bad words", 4, 104),
		img(15, "u5", "bad words", 6, 103, 999),
	} {
		require.NoError(t, w.WriteImage(im))
	}
	ver := func(id, model int64, user, tags, base string, files int) ModelVersion {
		v := ModelVersion{ID: id, ModelID: model, UserHash: user, Tags: SplitList(tags), BaseModel: base,
			ModelType: "LORA", PublishedAt: t0.Add(time.Duration(id) * time.Hour)}
		for f := 0; f < files; f++ {
			v.Files = append(v.Files, ModelFile{ID: id*10 + int64(f), Name: "f.safetensors", Primary: f == 0})
		}
		return v
	}
	for _, v := range []ModelVersion{
		ver(100, 1, "u1", "car, vehicle", "SD 1.5", 2),
		ver(101, 1, "u1", "car", "SD 1.5", 1),
		ver(102, 2, "u1", "dog, , cute", "Pony", 1),
		ver(103, 3, "u2", "dog", "SDXL 1.0", 1),
		ver(104, 4, "u3", "nsfw, dog", "SD 1.5", 1),
		ver(105, 5, "u3", "", "Flux.1 D", 1),
	} {
		require.NoError(t, w.WriteModelVersion(v))
	}
	require.NoError(t, w.Close())
	return dir
}

func openFixture(t *testing.T) *Release {
	t.Helper()
	r, err := Open(context.Background(), fixtureRelease(t), nil)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func TestFixtureFiles(t *testing.T) {
	r := openFixture(t)
	imgs, mods := r.Files()
	// 11 image rows at 4 per file: 3 files; 7 model rows: 2 files.
	require.Len(t, imgs, 3)
	require.Len(t, mods, 2)
	require.Equal(t, "train-00002-of-00003.parquet", filepath.Base(imgs[2]))
}
