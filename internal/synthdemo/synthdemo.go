// Package synthdemo wires the synthetic release of package imagegem/synth to
// personalization: it writes the release's companion vectors as an embedding store in
// embed's format, stands in for a CLIP text encoder over the release's planted vocabulary,
// and loads the release's users, LoRAs and example images as w2w/personalize values.
//
// It lives here, not in imagegem/synth, because imagegem/synth may import only imagegem
// (internal/house), while this wiring needs imagegem, embed, w2w and w2w/personalize; as an
// internal package it is shared by examples/personalize, examples/quickstart,
// examples/synth -store and the personalize tests without becoming public API.
package synthdemo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/imagegem/synth"
)

// StoreModel is the model name of a companion store: its vectors are the release's planted
// embeddings, not a real CLIP model's.
const StoreModel = "imagegem-synth-companions"

// StoreDir is the default store folder inside a release: synth/store.
func StoreDir(release string) string {
	return filepath.Join(release, synth.CompanionDir, "store")
}

// WriteStore writes the companion image vectors of a synthetic release (synth/image_ids.npy
// and synth/image_embeddings.npy) into an embedding store at dir, keyed by image id: the
// vectors of every image, so also of every LoRA's example images (the images made with
// it). An existing store is resumed (ids already there are skipped). It returns the number
// of vectors the store holds.
func WriteStore(ctx context.Context, release, dir string) (int, error) {
	comp := filepath.Join(release, synth.CompanionDir)
	ids, err := readNpy(filepath.Join(comp, synth.ImageIDsFile), "<i8", 1)
	if err != nil {
		return 0, err
	}
	vecs, err := readNpy(filepath.Join(comp, synth.ImageEmbeddingsFile), "<f4", 2)
	if err != nil {
		return 0, err
	}
	n, dim := vecs.shape[0], vecs.shape[1]
	if ids.shape[0] != n || dim == 0 {
		return 0, fmt.Errorf("synthdemo: %s: %w: %d ids for %d vectors of width %d", comp, ErrNpy, ids.shape[0], n, dim)
	}
	w, err := embed.CreateStore(dir, &embed.StoreOptions{Model: StoreModel, Dim: dim})
	if err != nil {
		return 0, fmt.Errorf("synthdemo: %w", err)
	}
	raw := ids.int64s()
	keys := make([]uint64, n)
	for i, id := range raw {
		if id < 0 {
			return 0, fmt.Errorf("synthdemo: %s: %w: image id %d at row %d is negative", synth.ImageIDsFile, ErrNpy, id, i)
		}
		keys[i] = uint64(id)
	}
	if err := w.Add(ctx, keys, vecs.float32s()); err != nil {
		return 0, fmt.Errorf("synthdemo: %w", err)
	}
	if err := w.Close(ctx); err != nil {
		return 0, fmt.Errorf("synthdemo: %w", err)
	}
	return w.Written() + w.Skipped(), nil
}

// ReadTruth reads synth/truth.json of a release written with companions.
func ReadTruth(release string) (*synth.Truth, error) {
	p := filepath.Join(release, synth.CompanionDir, synth.TruthFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("synthdemo: %w (a synthetic release with companions is needed)", err)
	}
	var t synth.Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("synthdemo: %s: %w", p, err)
	}
	if t.Companions == nil {
		return nil, fmt.Errorf("synthdemo: %s: no companions", p)
	}
	return &t, nil
}

// TextEncoder stands in for CLIP's text tower on a synthetic release: a text's vector is
// normalise(0.8·Σ style centres + 0.5·Σ topic centres) over the style and topic names it
// mentions, the same mixture the release's prompt vectors are drawn around. A text that
// names neither gets a zero vector, which personalization refuses as an unusable
// description.
type TextEncoder struct {
	Truth *synth.Truth
}

// EncodeText embeds each text, one row of the companions' width each.
func (e TextEncoder) EncodeText(ctx context.Context, texts []string) ([]float32, error) {
	c := e.Truth.Companions
	out := make([]float32, 0, len(texts)*c.Dim)
	for _, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		low := strings.ToLower(t)
		acc := make([]float64, c.Dim)
		for s, name := range e.Truth.Styles {
			if strings.Contains(low, name) {
				for j, x := range c.StyleCenters[s] {
					acc[j] += 0.8 * float64(x)
				}
			}
		}
		for k, name := range e.Truth.Topics {
			if strings.Contains(low, name) {
				for j, x := range c.TopicCenters[k] {
					acc[j] += 0.5 * float64(x)
				}
			}
		}
		ss := 0.0
		for _, x := range acc {
			ss += x * x
		}
		inv := 0.0
		if ss > 0 {
			inv = 1 / math.Sqrt(ss)
		}
		for _, x := range acc {
			out = append(out, float32(x*inv))
		}
	}
	return out, nil
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
