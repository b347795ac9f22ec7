package synthdemo

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/w2w"
	"github.com/imagegem/imagegem-go/w2w/personalize"
)

// DefaultExamples is how many example images of a LoRA are kept: the first images made
// with it (Civitai shows a LoRA's first images on its page).
const DefaultExamples = 20

// Demo is a synthetic release loaded for personalization.
type Demo struct {
	Dir   string
	Truth *synth.Truth
	Store *embed.Store
	// LoRAs are the release's companion LoRAs, reduced, with their example image ids, in
	// the order of Truth.Versions; Style is each one's planted style.
	LoRAs []personalize.LoRA
	Style []int
	// Histories maps a user hash to the user's images, oldest first.
	Histories map[string]personalize.History
}

// Load opens the store at storeDir (written by [WriteStore]), reads the truth, reduces
// every companion LoRA and collects each user's images and each LoRA's first examples
// images from the release tables.
func Load(ctx context.Context, release, storeDir string, examples int) (*Demo, error) {
	if examples <= 0 {
		examples = DefaultExamples
	}
	t, err := ReadTruth(release)
	if err != nil {
		return nil, err
	}
	st, err := embed.OpenStore(storeDir)
	if err != nil {
		return nil, fmt.Errorf("synthdemo: %w (write it with examples/synth -store)", err)
	}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	if st.Len() == 0 {
		return nil, fmt.Errorf("synthdemo: store %s is empty", storeDir)
	}
	d := &Demo{Dir: release, Truth: t, Store: st, Histories: map[string]personalize.History{}}
	rel, err := imagegem.Open(ctx, release, nil)
	if err != nil {
		return nil, err
	}
	defer rel.Close()
	rows, err := rel.Query(ctx, `SELECT "imageId", "modelVersionId", "userHash", "url" FROM images ORDER BY "createdAt", "imageId", "modelVersionId"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byVersion := map[int64][]uint64{}
	last := int64(-1)
	for rows.Next() {
		var id, version int64
		var user, url string
		if err := rows.Scan(&id, &version, &user, &url); err != nil {
			return nil, fmt.Errorf("synthdemo: images: %w", err)
		}
		if len(byVersion[version]) < examples {
			byVersion[version] = append(byVersion[version], uint64(id))
		}
		if id == last {
			continue
		}
		last = id
		h := d.Histories[user]
		h.User = user
		h.Images = append(h.Images, personalize.Image{ID: uint64(id), URL: url})
		d.Histories[user] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("synthdemo: images: %w", err)
	}
	for _, v := range t.Versions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := w2w.ReduceFile(ctx, LoRAPath(release, v.ID), nil)
		if err != nil {
			return nil, err
		}
		d.LoRAs = append(d.LoRAs, personalize.LoRA{ID: strconv.FormatInt(v.ID, 10), Reduced: r, Examples: byVersion[v.ID]})
		d.Style = append(d.Style, v.Style)
	}
	ok = true
	return d, nil
}

// LoRAPath is the companion LoRA file of a version.
func LoRAPath(release string, version int64) string {
	return filepath.Join(release, synth.CompanionDir, synth.LoRADir, strconv.FormatInt(version, 10)+".safetensors")
}

// Close closes the store.
func (d *Demo) Close() error { return d.Store.Close() }

// Reduced returns the reduced LoRAs in order.
func (d *Demo) Reduced() []*w2w.Reduced {
	out := make([]*w2w.Reduced, len(d.LoRAs))
	for i := range d.LoRAs {
		out[i] = d.LoRAs[i].Reduced
	}
	return out
}

// BuildSpace builds the weights2weights space over the demo's LoRAs (every module, m
// components, mean-centred).
func (d *Demo) BuildSpace(ctx context.Context, m int) (*w2w.Space, error) {
	reds := d.Reduced()
	lay, err := w2w.NewLayout(ctx, reds, nil)
	if err != nil {
		return nil, err
	}
	x, _, err := w2w.FlattenAll(ctx, lay, reds, nil)
	if err != nil {
		return nil, err
	}
	return w2w.BuildSpace(ctx, lay, x, len(reds), &w2w.SpaceOptions{Components: min(m, len(reds)-1), Overwrite: true})
}

// Users returns the user hashes, those with the most images first (ties by hash).
func (d *Demo) Users() []string {
	out := make([]string, 0, len(d.Histories))
	for u := range d.Histories {
		out = append(out, u)
	}
	sort.Slice(out, func(a, b int) bool {
		na, nb := len(d.Histories[out[a]].Images), len(d.Histories[out[b]].Images)
		if na != nb {
			return na > nb
		}
		return out[a] < out[b]
	})
	return out
}

// UserTruth returns the planted taste of a user.
func (d *Demo) UserTruth(hash string) (synth.UserTruth, bool) {
	for _, u := range d.Truth.Users {
		if u.Hash == hash {
			return u, true
		}
	}
	return synth.UserTruth{}, false
}

// PlantedDirection returns the planted direction of a style in the layout's flattened,
// sign-aligned coordinates: for each module √σ·u then √σ·v of the truth's rank-1 style
// direction, oriented by the module's sign reference, unit length overall.
func (d *Demo) PlantedDirection(lay *w2w.Layout, style int) ([]float32, error) {
	c := d.Truth.Companions
	x := make([]float64, lay.Dim)
	for m, mod := range c.LoRAModules {
		i := lay.Find(mod.Name)
		if i < 0 {
			continue
		}
		lm := lay.Modules[i]
		r := c.StyleDirections[style][m]
		if len(r.Up) != lm.Out || len(r.Down) != lm.In {
			return nil, fmt.Errorf("synthdemo: module %s: truth is %dx%d, layout %dx%d", mod.Name, len(r.Up), len(r.Down), lm.Out, lm.In)
		}
		sign := 1.0
		if lm.Ref != nil {
			dot := 0.0
			for j, u := range r.Up {
				dot += float64(u) * float64(lm.Ref[j])
			}
			if dot < 0 {
				sign = -1
			}
		}
		for j, u := range r.Up {
			x[lm.Offset+j] = sign * float64(u)
		}
		for j, v := range r.Down {
			x[lm.Offset+lm.Out+j] = sign * float64(v)
		}
	}
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	out := make([]float32, len(x))
	if s == 0 {
		return nil, fmt.Errorf("synthdemo: style %d has no module in the layout", style)
	}
	inv := 1 / sqrt(s)
	for j, v := range x {
		out[j] = float32(v * inv)
	}
	return out, nil
}
