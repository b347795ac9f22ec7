// Pages of /api/v1/images.

package imagegem

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// loraResourceTypes are the meta.civitaiResources types that name a LoRA.
var loraResourceTypes = map[string]bool{"lora": true, "locon": true, "lycoris": true, "dora": true}

// apiImage is an /api/v1/images item.
type apiImage struct {
	ID              *int64          `json:"id"`
	URL             string          `json:"url"`
	Hash            string          `json:"hash"`
	Width           flexInt         `json:"width"`
	Height          flexInt         `json:"height"`
	Type            string          `json:"type"`
	NSFW            json.RawMessage `json:"nsfw"`
	NSFWLevel       json.RawMessage `json:"nsfwLevel"`
	BrowsingLevel   *int64          `json:"browsingLevel"`
	CreatedAt       string          `json:"createdAt"`
	PostID          flexInt         `json:"postId"`
	Username        string          `json:"username"`
	ModelVersionIDs []int64         `json:"modelVersionIds"`
	Stats           struct {
		Cry     flexInt `json:"cryCount"`
		Laugh   flexInt `json:"laughCount"`
		Like    flexInt `json:"likeCount"`
		Dislike flexInt `json:"dislikeCount"`
		Heart   flexInt `json:"heartCount"`
		Comment flexInt `json:"commentCount"`
	} `json:"stats"`
	Meta map[string]json.RawMessage `json:"meta"`
}

// ReadImagesPage reads one saved /api/v1/images response and returns its images made with at
// least one LoRA, and how many items had none. Usernames are hashed.
func ReadImagesPage(path string, opts *IngestOptions) ([]Image, int, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, 0, err
	}
	return readImagesPage(path, &o)
}

func readImagesPage(path string, opts *IngestOptions) ([]Image, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("imagegem: %w", err)
	}
	items, offsets, err := pageItems(b)
	if err != nil {
		return nil, 0, jsonErr(path, "", 0, err)
	}
	if items == nil {
		return nil, 0, fmt.Errorf("imagegem: civitai images page %s: no \"items\" array: %w", path, ErrMalformed)
	}
	var out []Image
	noLoRA := 0
	for i, raw := range items {
		var it apiImage
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, 0, jsonErr(path, fmt.Sprintf("items[%d]", i), offsets[i], err)
		}
		if it.ID == nil {
			return nil, 0, fmt.Errorf("imagegem: civitai images page %s: items[%d]: field \"id\" is missing: %w", path, i, ErrMalformed)
		}
		img, err := it.image(opts)
		if err != nil {
			return nil, 0, fmt.Errorf("imagegem: civitai images page %s: items[%d] (image %d): %w: %w", path, i, *it.ID, err, ErrMalformed)
		}
		if len(img.ModelVersionIDs) == 0 {
			noLoRA++
			continue
		}
		out = append(out, img)
	}
	return out, noLoRA, nil
}

func (it apiImage) image(opts *IngestOptions) (Image, error) {
	img := Image{
		ID: *it.ID, URL: it.URL, BlurHash: it.Hash, Width: int64(it.Width), Height: int64(it.Height),
		Type: it.Type, PostID: int64(it.PostID), UserHash: opts.hash(it.Username),
		Reactions: Reactions{Cry: int64(it.Stats.Cry), Laugh: int64(it.Stats.Laugh), Like: int64(it.Stats.Like),
			Dislike: int64(it.Stats.Dislike), Heart: int64(it.Stats.Heart), Comment: int64(it.Stats.Comment)},
	}
	if img.Type == "" {
		img.Type = "image"
	}
	var b bool
	if json.Unmarshal(it.NSFW, &b) == nil {
		img.NSFW = b
	}
	img.BrowsingLevel = browsingLevel(it.BrowsingLevel, it.NSFWLevel)
	if !img.NSFW && img.BrowsingLevel > LevelPG13 {
		img.NSFW = true
	}
	if it.CreatedAt != "" {
		t, err := parseAPITime(it.CreatedAt)
		if err != nil {
			return Image{}, fmt.Errorf("field \"createdAt\": %w", err)
		}
		img.CreatedAt = t
	}
	m := meta(it.Meta)
	img.Generation = Generation{
		Seed: m.int("seed"), Steps: m.int("steps"), Prompt: m.str("prompt"),
		NegativePrompt: m.str("negativePrompt"), Sampler: m.str("sampler"),
		CFGScale: m.float("cfgScale"), ClipSkip: m.int("clipSkip", "Clip skip"),
		HiresUpscale: m.float("Hires upscale", "hiresUpscale"), HiresUpscaler: m.str("Hires upscaler", "hiresUpscaler"),
		DenoisingStrength: m.floatOrNaN("Denoising strength", "denoisingStrength"), Comfy: m.raw("comfy"),
	}
	versions := map[int64]bool{}
	for _, v := range it.ModelVersionIDs {
		versions[v] = true
	}
	if res, ok := it.Meta["civitaiResources"]; ok {
		var rs []struct {
			Type           string `json:"type"`
			ModelVersionID *int64 `json:"modelVersionId"`
		}
		if err := json.Unmarshal(res, &rs); err == nil {
			for _, r := range rs {
				if r.ModelVersionID != nil && loraResourceTypes[strings.ToLower(r.Type)] {
					versions[*r.ModelVersionID] = true
				}
			}
		}
	}
	for v := range versions {
		img.ModelVersionIDs = append(img.ModelVersionIDs, v)
	}
	sort.Slice(img.ModelVersionIDs, func(a, b int) bool { return img.ModelVersionIDs[a] < img.ModelVersionIDs[b] })
	return img, nil
}

// browsingLevel returns the Civitai bitmask: browsingLevel when given, else the integer
// nsfwLevel of newer responses, else the level names of 2023 responses (None, Soft, Mature,
// X map to PG, PG-13, R, X).
func browsingLevel(b *int64, nsfwLevel json.RawMessage) BrowsingLevel {
	if b != nil {
		return BrowsingLevel(*b)
	}
	var n int64
	if json.Unmarshal(nsfwLevel, &n) == nil {
		return BrowsingLevel(n)
	}
	var s string
	if json.Unmarshal(nsfwLevel, &s) == nil {
		switch strings.ToLower(s) {
		case "none":
			return LevelPG
		case "soft":
			return LevelPG13
		case "mature":
			return LevelR
		case "x":
			return LevelX
		}
	}
	return 0
}
