package synth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/internal/progress"
)

// Planted rates (see Truth).
const (
	preferredVersionP = 0.8
	unsafePromptP     = 0.05
	likeQualitySlope  = 0.8
	driftingUsersP    = 0.3
	reusePromptP      = 0.25
)

// reportEvery is how many images the generator writes between two looks at its context and
// two progress reports.
const reportEvery = 1024

var epoch = time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)

// Generate writes a synthetic release into dir (ImageGem-images/, ImageGem-models/, and with
// Options.Companions the synth/ folder) and returns what it planted. dir is created if
// needed and must not hold those folders. The release appears whole or not at all: on error
// or when ctx is cancelled nothing is left in dir.
func Generate(ctx context.Context, dir string, opts *Options) (*Truth, error) {
	c, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	w, err := imagegem.NewWriter(ctx, dir, &imagegem.WriterOptions{RowsPerFile: c.RowsPerFile})
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	defer w.Abort()
	var compDir string
	if c.Companions {
		if compDir, err = w.AddFolder(CompanionDir); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	g, err := generate(ctx, c, w)
	if err != nil {
		return nil, err
	}
	if g.comp != nil {
		if err := g.comp.write(ctx, compDir, g); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return g.truth, nil
}

// sink receives the generated records: an [imagegem.Writer], or a recorder in tests.
type sink interface {
	WriteImage(imagegem.Image) error
	WriteModelVersion(imagegem.ModelVersion) error
}

// generate plans the release and sends every record to out.
func generate(ctx context.Context, c Options, out sink) (*generator, error) {
	g := &generator{cfg: c, rng: rand.New(rand.NewPCG(c.Seed, 0x1a6e9e3)), truth: &Truth{
		Seed: c.Seed, Styles: styleNames, Topics: topicNames, UnsafeWords: unsafeWords,
		PreferredVersionP: preferredVersionP, UnsafePromptP: unsafePromptP, LikeQualitySlope: likeQualitySlope,
	}}
	g.planUsers()
	if err := g.planVersions(ctx); err != nil {
		return nil, err
	}
	if c.Companions {
		g.comp = newCompanions(g)
		g.truth.Companions = g.comp.truth
	}
	for _, v := range g.versions {
		if err := out.WriteModelVersion(v); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	if err := g.writeImages(ctx, out, g.comp); err != nil {
		return nil, err
	}
	return g, nil
}

type generator struct {
	cfg      Options
	rng      *rand.Rand
	truth    *Truth
	versions []imagegem.ModelVersion
	// byStyle[s] and byStyleTopic[s][t] index versions; each list is ordered by popularity.
	byStyle      [][]int
	byStyleTopic [][][]int
	popularity   []float64 // per version, for downloads
	comp         *companions
}

func userHash(seed uint64, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "synth-%d-user-%d", seed, i))
	return hex.EncodeToString(sum[:])
}

// longTail splits total into n parts of at least one each, with Zipf-like weights over a
// random order, so a few parts are large and most are small.
func (g *generator) longTail(total, n int, exponent float64) []int {
	parts := make([]int, n)
	for i := range parts {
		parts[i] = 1
	}
	rest := total - n
	weights := make([]float64, n)
	perm := g.rng.Perm(n)
	sum := 0.0
	for i := range weights {
		weights[perm[i]] = 1 / math.Pow(float64(i+1), exponent)
		sum += weights[perm[i]]
	}
	given := 0
	for i := range parts {
		k := int(float64(rest) * weights[i] / sum)
		parts[i] += k
		given += k
	}
	// Hand out the rounding remainder to random parts.
	for ; given < rest; given++ {
		parts[g.rng.IntN(n)]++
	}
	return parts
}

func (g *generator) planUsers() {
	c := g.cfg
	counts := g.longTail(c.Images, c.Users, 0.9)
	users := make([]UserTruth, c.Users)
	for i := range users {
		u := UserTruth{Hash: userHash(c.Seed, i), Style: g.rng.IntN(len(styleNames)),
			Topic: g.rng.IntN(len(topicNames)), DriftStyle: -1, Images: counts[i]}
		if u.Images >= 4 && g.rng.Float64() < driftingUsersP {
			u.DriftStyle = (u.Style + 1 + g.rng.IntN(len(styleNames)-1)) % len(styleNames)
			u.DriftAt = u.Images / 2
		}
		users[i] = u
	}
	for _, i := range g.rng.Perm(c.Users)[:c.Uploaders] {
		users[i].Uploader = true
	}
	g.truth.Users = users
}

func (g *generator) planVersions(ctx context.Context) error {
	c := g.cfg
	var uploaders []string
	for _, u := range g.truth.Users {
		if u.Uploader {
			uploaders = append(uploaders, u.Hash)
		}
	}
	perUploader := g.longTail(c.Versions, len(uploaders), 1.1)
	g.byStyle = make([][]int, len(styleNames))
	g.byStyleTopic = make([][][]int, len(styleNames))
	for s := range g.byStyleTopic {
		g.byStyleTopic[s] = make([][]int, len(topicNames))
	}
	best, bestN := "", -1
	modelID, versionID := int64(5000), int64(100000)
	for ui, up := range uploaders {
		if ui%reportEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("synth: %w", err)
			}
		}
		n := perUploader[ui]
		if n > bestN || n == bestN && up < best {
			best, bestN = up, n
		}
		for n > 0 {
			// A model has one to three versions sharing its style, topic and base model.
			k := min(n, 1+g.rng.IntN(3))
			n -= k
			modelID += 1 + int64(g.rng.IntN(5))
			style, topic := g.rng.IntN(len(styleNames)), g.rng.IntN(len(topicNames))
			base := g.baseModel()
			tags := []string{styleNames[style], topicNames[topic]}
			for t := g.rng.IntN(4); t > 0; t-- {
				// Long-tailed free tags: a few common, many rare.
				tags = append(tags, fmt.Sprintf("tag%d", int(math.Exp(g.rng.ExpFloat64()*2.5))))
			}
			tags = dedupe(tags)
			published := epoch.Add(time.Duration(g.rng.Int64N(int64(400 * 24 * time.Hour)))).Truncate(time.Second)
			typ := "LORA"
			if g.rng.Float64() < 0.1 {
				typ = "LoCon"
			}
			name := fmt.Sprintf("%s %s %d", titleCase(styleNames[style]), titleCase(topicNames[topic]), modelID)
			for j := 0; j < k; j++ {
				versionID += 1 + int64(g.rng.IntN(7))
				idx := len(g.versions)
				v := imagegem.ModelVersion{
					ModelID: modelID, ModelName: name, ID: versionID, Name: fmt.Sprintf("v%d.0", j+1),
					ModelDescription: "<p>A " + styleNames[style] + " LoRA for " + topicNames[topic] + ".</p>",
					AllowNoCredit:    g.rng.Float64() < 0.7, AllowCommercialUse: "Image, RentCivit, Rent, Sell",
					AllowDerivatives: g.rng.Float64() < 0.8, AllowDifferentLicense: g.rng.Float64() < 0.6,
					ModelType: typ, ModelNSFWLevel: 1, Tags: tags, PublishedAt: published.Add(time.Duration(j) * 72 * time.Hour),
					BaseModel: base.name, BaseModelType: "Standard", Availability: "Public", NSFWLevel: 1,
					Description:  "<p>Version " + fmt.Sprint(j+1) + "</p>",
					TrainedWords: []string{strings.ReplaceAll(styleNames[style], " ", "_") + "_style"},
					UserHash:     up,
				}
				sum := sha256.Sum256(fmt.Appendf(nil, "synth-lora-%d", versionID))
				h := strings.ToUpper(hex.EncodeToString(sum[:]))
				v.Files = []imagegem.ModelFile{{
					ID: versionID*3 + 1, Name: strings.ReplaceAll(strings.ToLower(name), " ", "_") + fmt.Sprintf("_v%d.safetensors", j+1),
					SizeKB: float64(18000 + g.rng.IntN(200000)), Type: "Model", FP: "fp16", Format: "SafeTensor",
					PickleScanResult: "Success", PickleScanMessage: "No Pickle imports", VirusScanResult: "Success",
					ScannedAt: published.Format(time.RFC3339), DownloadURL: fmt.Sprintf("https://civitai.com/api/download/models/%d", versionID),
					Primary: true, Hashes: imagegem.FileHashes{AutoV1: h[:8], AutoV2: h[:10], SHA256: h, CRC32: h[10:18], BLAKE3: h},
				}}
				if g.rng.Float64() < 0.1 {
					v.Files = append(v.Files, imagegem.ModelFile{ID: versionID*3 + 2, Name: "training_data.zip",
						SizeKB: 5000, Type: "Training Data", Format: "Other", Primary: false})
				}
				g.versions = append(g.versions, v)
				g.byStyle[style] = append(g.byStyle[style], idx)
				g.byStyleTopic[style][topic] = append(g.byStyleTopic[style][topic], idx)
				g.truth.Versions = append(g.truth.Versions, VersionTruth{ID: versionID, ModelID: modelID,
					Uploader: up, Style: style, Topic: topic, BaseModel: base.name})
			}
		}
	}
	g.truth.TopUploader = best
	g.popularity = make([]float64, len(g.versions))
	for i := range g.popularity {
		g.popularity[i] = math.Exp(g.rng.NormFloat64())
		v := &g.versions[i]
		v.DownloadCount = int64(50 * g.popularity[i] * (1 + g.rng.Float64()))
		v.ThumbsUpCount = v.DownloadCount / 10
		v.RatingCount = v.DownloadCount / 40
		if v.RatingCount > 0 {
			v.Rating = 4 + g.rng.Float64()
		}
	}
	return nil
}

func (g *generator) baseModel() struct {
	name          string
	share         float64
	width, height int64
} {
	x := g.rng.Float64()
	for _, b := range baseModels {
		if x < b.share {
			return b
		}
		x -= b.share
	}
	return baseModels[0]
}

// pick draws from a popularity-ordered list with a long tail: early entries are favoured.
func (g *generator) pick(list []int) int {
	i := int(float64(len(list)) * math.Pow(g.rng.Float64(), 2))
	return list[min(i, len(list)-1)]
}

func (g *generator) imageVersions(style, topic int) []int64 {
	k := 1
	switch x := g.rng.Float64(); {
	case x < 0.1:
		k = 3
	case x < 0.4:
		k = 2
	}
	set := map[int64]bool{}
	out := make([]int64, 0, k)
	for tries := 0; len(out) < k && tries < 10; tries++ {
		var idx int
		switch {
		case g.rng.Float64() < preferredVersionP && len(g.byStyle[style]) > 0:
			if g.rng.Float64() < 0.5 && len(g.byStyleTopic[style][topic]) > 0 {
				idx = g.pick(g.byStyleTopic[style][topic])
			} else {
				idx = g.pick(g.byStyle[style])
			}
		default:
			idx = g.rng.IntN(len(g.versions))
		}
		id := g.versions[idx].ID
		if !set[id] {
			set[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func (g *generator) prompt(style, topic int) string {
	var b strings.Builder
	b.WriteString(qualityWords[g.rng.IntN(len(qualityWords))])
	b.WriteString(", ")
	b.WriteString(adjectives[g.rng.IntN(len(adjectives))])
	b.WriteByte(' ')
	ph := topicPhrases[topic]
	b.WriteString(ph[g.rng.IntN(len(ph))])
	b.WriteString(", ")
	sp := stylePhrases[style]
	b.WriteString(sp[g.rng.IntN(len(sp))])
	b.WriteString(", ")
	b.WriteString(details[g.rng.IntN(len(details))])
	if g.rng.Float64() < 0.5 {
		b.WriteString(", ")
		b.WriteString(details[g.rng.IntN(len(details))])
	}
	if g.rng.Float64() < unsafePromptP {
		b.WriteString(", ")
		b.WriteString(unsafeWords[g.rng.IntN(len(unsafeWords))])
	}
	return b.String()
}

func (g *generator) writeImages(ctx context.Context, w sink, comp *companions) error {
	imageID := int64(1_000_000)
	written := 0
	report := progress.Func(g.cfg.Progress)
	for _, u := range g.truth.Users {
		t := epoch.Add(time.Duration(g.rng.Int64N(int64(365 * 24 * time.Hour))))
		var recent []string
		for k := 0; k < u.Images; k++ {
			if written%reportEvery == 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("synth: %w", err)
				}
				report.Report(Progress{Stage: "images", Done: written, Total: g.cfg.Images})
			}
			style := u.Style
			if u.DriftStyle >= 0 && k >= u.DriftAt {
				style = u.DriftStyle
			}
			topic := u.Topic
			if g.rng.Float64() < 0.2 {
				topic = g.rng.IntN(len(topicNames))
			}
			var prompt string
			if len(recent) > 0 && g.rng.Float64() < reusePromptP {
				prompt = recent[g.rng.IntN(len(recent))]
			} else {
				prompt = g.prompt(style, topic)
				recent = append(recent, prompt)
				if len(recent) > 5 {
					recent = recent[1:]
				}
			}
			t = t.Add(time.Duration(g.rng.ExpFloat64() * float64(36*time.Hour))).Truncate(time.Second)
			imageID += 1 + int64(g.rng.IntN(3))
			versions := g.imageVersions(style, topic)
			quality := g.rng.NormFloat64()
			img := g.image(imageID, u.Hash, prompt, t, versions, quality)
			if err := w.WriteImage(img); err != nil {
				return fmt.Errorf("synth: %w", err)
			}
			if comp != nil {
				comp.addImage(g, imageID, prompt, style, topic, quality)
			}
			written++
		}
	}
	report.Report(Progress{Stage: "images", Done: written, Total: g.cfg.Images})
	return nil
}

func (g *generator) image(id int64, user, prompt string, t time.Time, versions []int64, quality float64) imagegem.Image {
	base := baseModels[0]
	for _, b := range baseModels {
		if b.name == g.versionByID(versions[0]).BaseModel {
			base = b
		}
	}
	level := imagegem.LevelPG
	switch x := g.rng.Float64(); {
	case x < 0.01:
		level = imagegem.LevelX
	case x < 0.04:
		level = imagegem.LevelR
	case x < 0.10:
		level = imagegem.LevelPG13
	}
	likes := int64(math.Exp(1.5+likeQualitySlope*quality) * (0.75 + 0.5*g.rng.Float64()))
	gen := imagegem.Generation{
		Seed: int64(g.rng.Uint32()), Steps: int64(20 + g.rng.IntN(21)), Prompt: prompt,
		NegativePrompt: negatives[g.rng.IntN(len(negatives))], Sampler: samplers[g.rng.IntN(len(samplers))],
		CFGScale: float64(10+g.rng.IntN(9)) / 2, ClipSkip: int64(1 + g.rng.IntN(2)), DenoisingStrength: math.NaN(),
	}
	if g.rng.Float64() < 0.3 {
		gen.HiresUpscale, gen.HiresUpscaler = 1.5+0.5*float64(g.rng.IntN(2)), "4x-UltraSharp"
		gen.DenoisingStrength = float64(30+g.rng.IntN(31)) / 100
	}
	if g.rng.Float64() < 0.1 {
		gen.Comfy = `{"prompt":{"3":{"class_type":"KSampler","inputs":{"seed":` + fmt.Sprint(gen.Seed) + `}}}}`
	}
	return imagegem.Image{
		ID: id, ModelVersionIDs: versions, PostID: id/4 + 17, Type: "image",
		URL:      fmt.Sprintf("https://image.civitai.com/synth/%d.jpeg", id),
		BlurHash: "U" + strings.Repeat("8N5", 11),
		NSFW:     level >= imagegem.LevelR, BrowsingLevel: level, Width: base.width, Height: base.height,
		Generation: gen, CreatedAt: t,
		Reactions: imagegem.Reactions{Like: likes, Heart: likes * 2 / 5, Laugh: likes / 10, Cry: likes / 20,
			Comment: int64(g.rng.IntN(3)) * likes / 30},
		UserHash: user,
	}
}

func (g *generator) versionByID(id int64) *imagegem.ModelVersion {
	i := sort.Search(len(g.versions), func(i int) bool { return g.versions[i].ID >= id })
	return &g.versions[i]
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
