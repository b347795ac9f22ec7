package synth

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"

	"github.com/imagegem/imagegem-go/imagegem"
)

type recorder struct {
	images   []imagegem.Image
	versions []imagegem.ModelVersion
}

func (r *recorder) WriteImage(im imagegem.Image) error {
	r.images = append(r.images, im)
	return nil
}

func (r *recorder) WriteModelVersion(v imagegem.ModelVersion) error {
	r.versions = append(r.versions, v)
	return nil
}

func record(t *testing.T, opts Options) (*recorder, *Truth) {
	t.Helper()
	c, err := opts.resolve()
	require.NoError(t, err)
	rec := &recorder{}
	g, err := generate(context.Background(), c, rec)
	require.NoError(t, err)
	return rec, g.truth
}

// tableOne computes paper Table 1 in plain Go over the generator's records, independently of
// the DuckDB queries, with the definitions documented on imagegem.Stats.
func tableOne(images []imagegem.Image, versions []imagegem.ModelVersion) imagegem.Stats {
	var s imagegem.Stats
	imgIDs, prompts, users := map[int64]bool{}, map[string]bool{}, map[string]bool{}
	for _, im := range images {
		imgIDs[im.ID] = true
		if im.Generation.Prompt != "" {
			prompts[im.Generation.Prompt] = true
		}
		users[im.UserHash] = true
	}
	verIDs, tags := map[int64]bool{}, map[string]bool{}
	perUploader := map[string]map[int64]bool{}
	for _, v := range versions {
		verIDs[v.ID] = true
		for _, t := range v.Tags {
			if t = strings.TrimSpace(t); t != "" {
				tags[t] = true
			}
		}
		if perUploader[v.UserHash] == nil {
			perUploader[v.UserHash] = map[int64]bool{}
		}
		perUploader[v.UserHash][v.ID] = true
	}
	links := 0
	imagesBy := map[string]int{}
	for _, im := range images {
		imagesBy[im.UserHash]++
		for _, v := range im.ModelVersionIDs {
			if verIDs[v] {
				links++
			}
		}
	}
	s.Images, s.UniquePrompts, s.Users = int64(len(imgIDs)), int64(len(prompts)), int64(len(users))
	s.LoRAs, s.ModelTags, s.Uploaders = int64(len(verIDs)), int64(len(tags)), int64(len(perUploader))
	s.AvgImagesPerModel = float64(links) / float64(len(verIDs))
	var hashes []string
	for h := range perUploader {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	top := ""
	for _, h := range hashes {
		if top == "" || len(perUploader[h]) > len(perUploader[top]) {
			top = h
		}
	}
	s.TopUploader = top
	sumV, sumI := 0, 0
	for _, h := range hashes {
		if h != top {
			sumV += len(perUploader[h])
			sumI += imagesBy[h]
		}
	}
	s.AvgModelsPerUploader = float64(sumV) / float64(len(hashes)-1)
	s.AvgImagesPerUploader = float64(sumI) / float64(len(hashes)-1)
	return s
}

// filter applies the safety filter's definition in plain Go.
func filter(images []imagegem.Image, versions []imagegem.ModelVersion, unsafe map[string]bool) ([]imagegem.Image, []imagegem.ModelVersion) {
	var kept []imagegem.Image
	had, has := map[int64]bool{}, map[int64]bool{}
	for _, im := range images {
		for _, v := range im.ModelVersionIDs {
			had[v] = true
		}
		if unsafe[im.Generation.Prompt] {
			continue
		}
		kept = append(kept, im)
		for _, v := range im.ModelVersionIDs {
			has[v] = true
		}
	}
	var vs []imagegem.ModelVersion
	for _, v := range versions {
		if !had[v.ID] || has[v.ID] {
			vs = append(vs, v)
		}
	}
	return kept, vs
}

func assertStats(t *testing.T, want, got imagegem.Stats) {
	t.Helper()
	assert.Equal(t, want.Images, got.Images, "images")
	assert.Equal(t, want.UniquePrompts, got.UniquePrompts, "unique prompts")
	assert.Equal(t, want.LoRAs, got.LoRAs, "loras")
	assert.Equal(t, want.ModelTags, got.ModelTags, "model tags")
	assert.Equal(t, want.Users, got.Users, "users")
	assert.Equal(t, want.Uploaders, got.Uploaders, "uploaders")
	assert.Equal(t, want.TopUploader, got.TopUploader, "top uploader")
	assert.InDelta(t, want.AvgImagesPerUploader, got.AvgImagesPerUploader, 1e-9, "avg images per uploader")
	assert.InDelta(t, want.AvgModelsPerUploader, got.AvgModelsPerUploader, 1e-9, "avg models per uploader")
	assert.InDelta(t, want.AvgImagesPerModel, got.AvgImagesPerModel, 1e-9, "avg images per model")
}

func TestStatsMatchPlainGoOverGeneratedRecords(t *testing.T) {
	cfg := Options{Seed: 7, Images: 4000, RowsPerFile: 1500}
	rec, truth := record(t, cfg)
	want := tableOne(rec.images, rec.versions)

	// Long format really double counts: more links than images.
	rows := 0
	for _, im := range rec.images {
		rows += len(im.ModelVersionIDs)
	}
	require.Greater(t, rows, len(rec.images)+len(rec.images)/5)
	assert.Equal(t, truth.TopUploader, want.TopUploader)
	// The top uploader is far above the rest, so excluding it matters.
	topN := 0
	for _, v := range rec.versions {
		if v.UserHash == want.TopUploader {
			topN++
		}
	}
	require.Greater(t, float64(topN), 3*want.AvgModelsPerUploader)

	dir := t.TempDir()
	_, err := Generate(context.Background(), dir, &cfg)
	require.NoError(t, err)
	r, err := imagegem.Open(context.Background(), dir, nil)
	require.NoError(t, err)
	defer r.Close()
	got, err := r.Stats(context.Background())
	require.NoError(t, err)
	assertStats(t, want, got)

	// The filtered row, with the planted unsafe prompts standing in for Detoxify's verdicts.
	unsafe := map[string]bool{}
	var list []string
	for _, im := range rec.images {
		for _, w := range truth.UnsafeWords {
			if strings.Contains(im.Generation.Prompt, w) && !unsafe[im.Generation.Prompt] {
				unsafe[im.Generation.Prompt] = true
				list = append(list, im.Generation.Prompt)
			}
		}
	}
	require.NotEmpty(t, list)
	fi, fv := filter(rec.images, rec.versions, unsafe)
	wantF := tableOne(fi, fv)
	gotF, err := r.FilteredStats(context.Background(), imagegem.SafetyFilter{Prompts: list})
	require.NoError(t, err)
	assertStats(t, wantF, gotF)
	assert.Less(t, gotF.Images, got.Images)
}

func TestDeterministic(t *testing.T) {
	a, ta := record(t, Options{Seed: 3, Images: 500})
	b, tb := record(t, Options{Seed: 3, Images: 500})
	c, _ := record(t, Options{Seed: 4, Images: 500})
	assert.Equal(t, fmt.Sprintf("%v", a.images), fmt.Sprintf("%v", b.images))
	assert.Equal(t, fmt.Sprintf("%v", a.versions), fmt.Sprintf("%v", b.versions))
	assert.Equal(t, ta, tb)
	assert.NotEqual(t, fmt.Sprintf("%v", a.images), fmt.Sprintf("%v", c.images))
	assert.Len(t, a.images, 500)
}

func TestPlantedTastesAreRecoverable(t *testing.T) {
	rec, truth := record(t, Options{Seed: 11, Images: 6000})
	style := map[int64]int{}
	for _, v := range truth.Versions {
		style[v.ID] = v.Style
	}
	users := map[string]UserTruth{}
	for _, u := range truth.Users {
		users[u.Hash] = u
	}
	seen := map[string]int{}
	match, total, driftMatch, driftTotal := 0, 0, 0, 0
	for _, im := range rec.images {
		u := users[im.UserHash]
		k := seen[im.UserHash]
		seen[im.UserHash]++
		want := u.Style
		drifted := u.DriftStyle >= 0 && k >= u.DriftAt
		if drifted {
			want = u.DriftStyle
		}
		for _, v := range im.ModelVersionIDs {
			if drifted {
				driftTotal++
				if style[v] == want {
					driftMatch++
				}
			} else {
				total++
				if style[v] == want {
					match++
				}
			}
		}
	}
	// Chance is 1/8; the planted preference is 0.8 plus chance on the rest.
	assert.Greater(t, float64(match)/float64(total), 0.7)
	assert.Greater(t, float64(driftMatch)/float64(driftTotal), 0.7, "drifting users follow their new style")
	require.Greater(t, driftTotal, 100)

	// Activity is long-tailed: the busiest user makes many times the mean.
	maxN := 0
	for _, n := range seen {
		maxN = max(maxN, n)
	}
	assert.Greater(t, maxN, 5*len(rec.images)/len(seen))

	// Each user's images are in time order.
	last := map[string]int64{}
	for _, im := range rec.images {
		ts := im.CreatedAt.Unix()
		assert.GreaterOrEqual(t, ts, last[im.UserHash])
		last[im.UserHash] = ts
	}
}

func TestCompanionFiles(t *testing.T) {
	dir := t.TempDir()
	truth, err := Generate(context.Background(), dir, &Options{Seed: 5, Images: 800, Companions: true})
	require.NoError(t, err)
	comp := filepath.Join(dir, CompanionDir)

	ids := readNpy(t, filepath.Join(comp, ImageIDsFile))
	emb := readNpy(t, filepath.Join(comp, ImageEmbeddingsFile))
	q := readNpy(t, filepath.Join(comp, ImageQualityFile))
	assert.Equal(t, "<i8", ids.descr)
	assert.Equal(t, []int{800}, ids.shape)
	assert.Equal(t, []int{800, DefaultDim}, emb.shape)
	assert.Equal(t, []int{800}, q.shape)
	vecs := emb.f32()
	for i := 0; i < 800; i++ {
		var n float64
		for _, x := range vecs[i*DefaultDim : (i+1)*DefaultDim] {
			n += float64(x) * float64(x)
		}
		require.InDelta(t, 1, n, 1e-5, "image vector %d is unit length", i)
	}
	prompts, err := os.ReadFile(filepath.Join(comp, PromptsFile))
	require.NoError(t, err)
	pe := readNpy(t, filepath.Join(comp, PromptEmbeddingsFile))
	assert.Equal(t, strings.Count(string(prompts), "\n"), pe.shape[0])

	// Each LoRA file carries its style's planted direction: <ΔW, u·vᵀ> = ±σ up to noise,
	// while another style's direction is nearly orthogonal.
	ct := truth.Companions
	for _, v := range truth.Versions[:10] {
		ts := readSafetensors(t, filepath.Join(comp, LoRADir, fmt.Sprint(v.ID)+".safetensors"))
		for m, mod := range ct.LoRAModules {
			up, down, alpha := ts[mod.Name+".lora_up.weight"], ts[mod.Name+".lora_down.weight"], ts[mod.Name+".alpha"]
			rank := len(down.data) / mod.In
			scale := float64(alpha.data[0]) / float64(rank)
			proj := func(d Rank1) float64 {
				// uᵀ·ΔW·v with ΔW = scale·up·down.
				s := 0.0
				for r := 0; r < rank; r++ {
					a, b := 0.0, 0.0
					for o := 0; o < mod.Out; o++ {
						a += float64(d.Up[o]) * float64(up.data[o*rank+r])
					}
					for i := 0; i < mod.In; i++ {
						b += float64(down.data[r*mod.In+i]) * float64(d.Down[i])
					}
					s += a * b
				}
				return scale * s
			}
			own := math.Abs(proj(ct.StyleDirections[v.Style][m]))
			other := math.Abs(proj(ct.StyleDirections[(v.Style+1)%len(truth.Styles)][m]))
			assert.InDelta(t, ct.Sigma, own, 0.05*ct.Sigma, "version %d module %s", v.ID, mod.Name)
			assert.Less(t, other, 0.5*ct.Sigma)
		}
	}
	var onDisk Truth
	b, err := os.ReadFile(filepath.Join(comp, TruthFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &onDisk))
	assert.Equal(t, truth.TopUploader, onDisk.TopUploader)
}

func TestOptionsResolve(t *testing.T) {
	def, err := (*Options)(nil).resolve()
	require.NoError(t, err)
	zero, err := (&Options{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, def, zero, "nil and the zero value are the defaults")
	assert.Equal(t, DefaultImages, def.Images)
	assert.Equal(t, DefaultImages/imagesPerUser, def.Users)
	assert.Equal(t, DefaultImages/imagesPerVersion, def.Versions)
	assert.Equal(t, DefaultImages/imagesPerUser/usersPerUploader, def.Uploaders)
	assert.Equal(t, DefaultDim, def.Dim)
	assert.Equal(t, DefaultLoRARank, def.LoRARank)
	assert.Equal(t, imagegem.DefaultRowsPerFile, def.RowsPerFile)

	tiny, err := (&Options{Images: 2}).resolve()
	require.NoError(t, err, "derived counts fit a tiny release")
	assert.Equal(t, 2, tiny.Users)
	assert.Equal(t, 2, tiny.Uploaders)

	for _, c := range []struct {
		field string
		opts  Options
	}{
		{"Images", Options{Images: -1}},
		{"Users", Options{Users: -1}},
		{"Users", Options{Images: 10, Users: 20}},
		{"Uploaders", Options{Uploaders: -1}},
		{"Uploaders", Options{Users: 10, Uploaders: 11}},
		{"Uploaders", Options{Versions: 2, Uploaders: 3}},
		{"Versions", Options{Versions: -1}},
		{"Dim", Options{Dim: -1}},
		{"LoRARank", Options{LoRARank: -1}},
		{"LoRARank", Options{LoRARank: 33}},
		{"RowsPerFile", Options{RowsPerFile: -1}},
	} {
		_, err := Generate(context.Background(), t.TempDir(), &c.opts)
		assert.ErrorIs(t, err, ErrInvalidOptions, "%+v", c.opts)
		assert.ErrorIs(t, err, imagegem.ErrInvalidOptions)
		assert.ErrorContains(t, err, "synth: invalid options: Options."+c.field+":")
	}
}

func TestProgressCountsImages(t *testing.T) {
	var reports []Progress
	_, err := Generate(context.Background(), filepath.Join(t.TempDir(), "r"), &Options{Seed: 2, Images: 2500, Companions: true,
		Progress: func(p Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	var images, comps []Progress
	for _, p := range reports {
		switch p.Stage {
		case "images":
			images = append(images, p)
		case "companions":
			comps = append(comps, p)
		default:
			t.Errorf("unknown stage %q", p.Stage)
		}
	}
	require.NotEmpty(t, images)
	require.NotEmpty(t, comps)
	assert.Equal(t, Progress{Stage: "images", Done: 2500, Total: 2500}, images[len(images)-1])
	last := comps[len(comps)-1]
	assert.Equal(t, last.Total, last.Done)
	for i := 1; i < len(images); i++ {
		assert.GreaterOrEqual(t, images[i].Done, images[i-1].Done)
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "release")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Generate(ctx, dir, &Options{Seed: 1, Images: 50_000, Companions: true, RowsPerFile: 4000,
		Progress: func(p Progress) {
			if p.Done >= 20_000 {
				cancel()
			}
		}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "synth: ")
	es, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Empty(t, es, "no release folder, no temporary folder")

	// After the generation, while the companions are written.
	ctx, cancel = context.WithCancel(context.Background())
	_, err = Generate(ctx, dir, &Options{Seed: 1, Images: 1000, Companions: true,
		Progress: func(p Progress) {
			if p.Stage == "companions" && p.Done == 3 {
				cancel()
			}
		}})
	assert.ErrorIs(t, err, context.Canceled)
	es, err = os.ReadDir(parent)
	require.NoError(t, err)
	assert.Empty(t, es)
}

func TestRefusesToWriteOverARelease(t *testing.T) {
	dir := t.TempDir()
	_, err := Generate(context.Background(), dir, &Options{Images: 300, Companions: true})
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(dir, CompanionDir, TruthFile))
	require.NoError(t, err)
	_, err = Generate(context.Background(), dir, &Options{Images: 300, Seed: 9, Companions: true})
	assert.ErrorIs(t, err, imagegem.ErrExists)
	after, err := os.ReadFile(filepath.Join(dir, CompanionDir, TruthFile))
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

type npy struct {
	descr string
	shape []int
	data  []byte
}

func (n npy) f32() []float32 {
	out := make([]float32, len(n.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(n.data[i*4:]))
	}
	return out
}

// readNpy parses a .npy file by the NumPy format description (version 1.0 header).
func readNpy(t *testing.T, path string) npy {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "\x93NUMPY\x01\x00", string(b[:8]))
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	require.Zero(t, (10+hl)%64, "header padded to 64 bytes")
	h := string(b[10 : 10+hl])
	var n npy
	n.descr = h[strings.Index(h, "'descr': '")+10:]
	n.descr = n.descr[:strings.Index(n.descr, "'")]
	sh := h[strings.Index(h, "(")+1 : strings.Index(h, ")")]
	for _, d := range strings.Split(sh, ",") {
		if d = strings.TrimSpace(d); d != "" {
			var x int
			fmt.Sscan(d, &x)
			n.shape = append(n.shape, x)
		}
	}
	n.data = b[10+hl:]
	return n
}

type stTensor struct {
	shape []int
	data  []float32
}

// readSafetensors parses a safetensors file by the format's description.
func readSafetensors(t *testing.T, path string) map[string]stTensor {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(b[:8])
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b[8:8+n], &header))
	body := b[8+n:]
	out := map[string]stTensor{}
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			Dtype   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		require.NoError(t, json.Unmarshal(raw, &info))
		chunk := body[info.Offsets[0]:info.Offsets[1]]
		var data []float32
		switch info.Dtype {
		case "F32":
			for i := 0; i < len(chunk); i += 4 {
				data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(chunk[i:])))
			}
		case "F16":
			for i := 0; i < len(chunk); i += 2 {
				data = append(data, float16.Frombits(binary.LittleEndian.Uint16(chunk[i:])).Float32())
			}
		default:
			t.Fatalf("dtype %s", info.Dtype)
		}
		out[name] = stTensor{info.Shape, data}
	}
	return out
}
