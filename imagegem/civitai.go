package imagegem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HashUsername is the release's user pseudonym: the lower-case hex SHA-256 of the Civitai
// username (64 characters, as the userHash column).
func HashUsername(username string) string {
	sum := sha256.Sum256([]byte(username))
	return hex.EncodeToString(sum[:])
}

// LoRAModelTypes are the Civitai model types that are LoRAs, the ones the release's models
// table holds.
var LoRAModelTypes = []string{"LORA", "LoCon", "DoRA", "LyCORIS"}

// loraResourceTypes are the meta.civitaiResources types that name a LoRA.
var loraResourceTypes = map[string]bool{"lora": true, "locon": true, "lycoris": true, "dora": true}

// IngestOptions configure Civitai ingestion. The zero value means the defaults.
type IngestOptions struct {
	// HashUser turns a username into a userHash; nil means HashUsername. Raw usernames are
	// never stored.
	HashUser func(username string) string
	// AllModelTypes keeps every model type; by default only LoRAModelTypes are kept.
	AllModelTypes bool
	// RowsPerFile is passed to the Writer.
	RowsPerFile int
}

func (o *IngestOptions) hash(u string) string {
	if u == "" {
		return ""
	}
	if o != nil && o.HashUser != nil {
		return o.HashUser(u)
	}
	return HashUsername(u)
}

// IngestReport counts what ingestion kept and skipped.
type IngestReport struct {
	Images, ImagesWithoutLoRA, DuplicateImages     int
	Versions, VersionsOtherType, DuplicateVersions int
}

// IngestCivitai turns saved Civitai API responses into a release in outDir: imagePages are
// /api/v1/images pages, modelPages are /api/v1/models pages, single /api/v1/models/{id}
// responses or /api/v1/model-versions/{id} responses. Images made with no LoRA are left
// out (the release relates images to LoRA versions); an image or version seen twice is kept
// once. The release is written atomically by a [Writer].
func IngestCivitai(ctx context.Context, outDir string, imagePages, modelPages []string, opts *IngestOptions) (IngestReport, error) {
	var rep IngestReport
	var wo WriterOptions
	if opts != nil {
		wo.RowsPerFile = opts.RowsPerFile
	}
	w, err := NewWriter(outDir, &wo)
	if err != nil {
		return rep, err
	}
	defer w.Abort()
	seenImg := map[int64]bool{}
	for _, p := range imagePages {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		imgs, noLoRA, err := ReadImagesPage(p, opts)
		if err != nil {
			return rep, err
		}
		rep.ImagesWithoutLoRA += noLoRA
		for _, im := range imgs {
			if seenImg[im.ID] {
				rep.DuplicateImages++
				continue
			}
			seenImg[im.ID] = true
			if err := w.WriteImage(im); err != nil {
				return rep, err
			}
			rep.Images++
		}
	}
	seenVer := map[int64]bool{}
	for _, p := range modelPages {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		vs, err := ReadModelsPage(p, opts)
		if err != nil {
			return rep, err
		}
		for _, v := range vs {
			if !(opts != nil && opts.AllModelTypes) && !isLoRAType(v.ModelType) {
				rep.VersionsOtherType++
				continue
			}
			if seenVer[v.ID] {
				rep.DuplicateVersions++
				continue
			}
			seenVer[v.ID] = true
			if err := w.WriteModelVersion(v); err != nil {
				return rep, err
			}
			rep.Versions++
		}
	}
	return rep, w.Close()
}

func isLoRAType(t string) bool {
	for _, l := range LoRAModelTypes {
		if strings.EqualFold(t, l) {
			return true
		}
	}
	return false
}

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
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := readJSON(path, &page); err != nil {
		return nil, 0, err
	}
	if page.Items == nil {
		return nil, 0, fmt.Errorf("imagegem: civitai images page %s: no \"items\" array", path)
	}
	var out []Image
	noLoRA := 0
	for i, raw := range page.Items {
		var it apiImage
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, 0, fmt.Errorf("imagegem: civitai images page %s: items[%d]: %w", path, i, err)
		}
		if it.ID == nil {
			return nil, 0, fmt.Errorf("imagegem: civitai images page %s: items[%d]: field \"id\" is missing", path, i)
		}
		img, err := it.image(opts)
		if err != nil {
			return nil, 0, fmt.Errorf("imagegem: civitai images page %s: items[%d] (image %d): %w", path, i, *it.ID, err)
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

// meta reads the free-form generation metadata, whose numbers are sometimes strings.
type meta map[string]json.RawMessage

func (m meta) get(keys ...string) (json.RawMessage, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok && string(v) != "null" {
			return v, true
		}
	}
	return nil, false
}

func (m meta) str(keys ...string) string {
	v, ok := m.get(keys...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return strings.Trim(string(v), `"`)
}

func (m meta) num(keys ...string) (float64, bool) {
	v, ok := m.get(keys...)
	if !ok {
		return 0, false
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

func (m meta) int(keys ...string) int64 {
	f, _ := m.num(keys...)
	return int64(f)
}

func (m meta) float(keys ...string) float64 {
	f, _ := m.num(keys...)
	return f
}

func (m meta) floatOrNaN(keys ...string) float64 {
	if f, ok := m.num(keys...); ok {
		return f
	}
	return math.NaN()
}

// raw returns a value as text: a string as is, anything else as compact JSON.
func (m meta) raw(keys ...string) string {
	v, ok := m.get(keys...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) == nil {
		return buf.String()
	}
	return string(v)
}

// flexInt reads a JSON number or a numeric string; null reads as 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*f = flexInt(v)
	return nil
}

// flexStrings reads a list of strings, a ", "-joined string, or a list of {"name": …}.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = SplitList(s)
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list: %s", b)
	}
	for _, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			*f = append(*f, s)
			continue
		}
		var named struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(item, &named) == nil && named.Name != "" {
			*f = append(*f, named.Name)
		}
	}
	return nil
}

// flexBool reads true/false or 0/1.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true", "1":
		*f = true
	case "false", "0", "null", "":
		*f = false
	default:
		return fmt.Errorf("not a boolean: %s", b)
	}
	return nil
}

type apiStats struct {
	DownloadCount   flexInt `json:"downloadCount"`
	RatingCount     flexInt `json:"ratingCount"`
	Rating          float64 `json:"rating"`
	ThumbsUpCount   flexInt `json:"thumbsUpCount"`
	ThumbsDownCount flexInt `json:"thumbsDownCount"`
}

type apiFile struct {
	ID                flexInt `json:"id"`
	Name              string  `json:"name"`
	SizeKB            float64 `json:"sizeKB"`
	Type              string  `json:"type"`
	PickleScanResult  string  `json:"pickleScanResult"`
	PickleScanMessage string  `json:"pickleScanMessage"`
	VirusScanResult   string  `json:"virusScanResult"`
	ScannedAt         string  `json:"scannedAt"`
	Metadata          struct {
		Format string `json:"format"`
		FP     string `json:"fp"`
	} `json:"metadata"`
	Hashes      map[string]string `json:"hashes"`
	DownloadURL string            `json:"downloadUrl"`
	Primary     flexBool          `json:"primary"`
}

type apiVersion struct {
	ID            *int64          `json:"id"`
	ModelID       flexInt         `json:"modelId"`
	Name          string          `json:"name"`
	BaseModel     string          `json:"baseModel"`
	BaseModelType string          `json:"baseModelType"`
	CreatedAt     string          `json:"createdAt"`
	PublishedAt   string          `json:"publishedAt"`
	Availability  string          `json:"availability"`
	NSFWLevel     json.RawMessage `json:"nsfwLevel"`
	Description   *string         `json:"description"`
	TrainedWords  flexStrings     `json:"trainedWords"`
	Stats         *apiStats       `json:"stats"`
	Files         []apiFile       `json:"files"`
	Model         *apiModel       `json:"model"`
}

type apiModel struct {
	ID                    flexInt         `json:"id"`
	Name                  string          `json:"name"`
	Description           *string         `json:"description"`
	Type                  string          `json:"type"`
	NSFW                  flexBool        `json:"nsfw"`
	NSFWLevel             json.RawMessage `json:"nsfwLevel"`
	AllowNoCredit         flexBool        `json:"allowNoCredit"`
	AllowCommercialUse    flexStrings     `json:"allowCommercialUse"`
	AllowDerivatives      flexBool        `json:"allowDerivatives"`
	AllowDifferentLicense flexBool        `json:"allowDifferentLicense"`
	Minor                 flexBool        `json:"minor"`
	POI                   flexBool        `json:"poi"`
	Availability          string          `json:"availability"`
	Cosmetic              json.RawMessage `json:"cosmetic"`
	Tags                  flexStrings     `json:"tags"`
	Creator               *struct {
		Username string `json:"username"`
	} `json:"creator"`
	Stats         *apiStats    `json:"stats"`
	ModelVersions []apiVersion `json:"modelVersions"`
}

// ReadModelsPage reads one saved /api/v1/models page, /api/v1/models/{id} response or
// /api/v1/model-versions/{id} response and returns its versions, one per version with its
// files. Usernames are hashed. Every model type is returned; IngestCivitai filters them.
func ReadModelsPage(path string, opts *IngestOptions) ([]ModelVersion, error) {
	var probe map[string]json.RawMessage
	if err := readJSON(path, &probe); err != nil {
		return nil, err
	}
	var models []apiModel
	switch {
	case probe["items"] != nil:
		var page struct {
			Items []apiModel `json:"items"`
		}
		if err := readJSON(path, &page); err != nil {
			return nil, err
		}
		models = page.Items
	case probe["modelVersions"] != nil:
		var m apiModel
		if err := readJSON(path, &m); err != nil {
			return nil, err
		}
		models = []apiModel{m}
	case probe["files"] != nil && probe["modelId"] != nil:
		var v apiVersion
		if err := readJSON(path, &v); err != nil {
			return nil, err
		}
		m := apiModel{ID: v.ModelID}
		if v.Model != nil {
			m = *v.Model
			m.ID = v.ModelID
		}
		m.ModelVersions = []apiVersion{v}
		models = []apiModel{m}
	default:
		return nil, fmt.Errorf("imagegem: civitai models page %s: neither \"items\", \"modelVersions\" nor a model version's \"files\"", path)
	}
	var out []ModelVersion
	for i, m := range models {
		for j, v := range m.ModelVersions {
			mv, err := m.version(v, opts)
			if err != nil {
				return nil, fmt.Errorf("imagegem: civitai models page %s: model %d (index %d) version index %d: %w", path, m.ID, i, j, err)
			}
			out = append(out, mv)
		}
	}
	return out, nil
}

func (m apiModel) version(v apiVersion, opts *IngestOptions) (ModelVersion, error) {
	if v.ID == nil {
		return ModelVersion{}, errors.New(`field "id" is missing`)
	}
	mv := ModelVersion{
		ModelID: int64(m.ID), ModelName: m.Name, ID: *v.ID, Name: v.Name,
		ModelDescription: deref(m.Description), AllowNoCredit: bool(m.AllowNoCredit),
		AllowCommercialUse: JoinList(m.AllowCommercialUse), AllowDerivatives: bool(m.AllowDerivatives),
		AllowDifferentLicense: bool(m.AllowDifferentLicense), ModelType: m.Type, Minor: bool(m.Minor),
		POI: bool(m.POI), ModelNSFWLevel: nsfwLevel(m.NSFWLevel, bool(m.NSFW)), Tags: m.Tags,
		BaseModel: v.BaseModel, BaseModelType: v.BaseModelType, Availability: v.Availability,
		NSFWLevel: nsfwLevel(v.NSFWLevel, false), Description: deref(v.Description),
		TrainedWords: v.TrainedWords,
	}
	if mv.ModelID == 0 {
		mv.ModelID = int64(v.ModelID)
	}
	if mv.Availability == "" {
		mv.Availability = m.Availability
	}
	if len(m.Cosmetic) > 0 && string(m.Cosmetic) != "null" {
		mv.Cosmetic = meta{"c": m.Cosmetic}.raw("c")
	}
	if m.Creator != nil {
		mv.UserHash = opts.hash(m.Creator.Username)
	}
	stats := v.Stats
	if stats == nil {
		stats = m.Stats
	}
	if stats != nil {
		mv.DownloadCount, mv.RatingCount, mv.Rating = int64(stats.DownloadCount), int64(stats.RatingCount), stats.Rating
		mv.ThumbsUpCount, mv.ThumbsDownCount = int64(stats.ThumbsUpCount), int64(stats.ThumbsDownCount)
	}
	when := v.PublishedAt
	if when == "" {
		when = v.CreatedAt
	}
	if when != "" {
		t, err := parseAPITime(when)
		if err != nil {
			return ModelVersion{}, fmt.Errorf("field \"publishedAt\": %w", err)
		}
		mv.PublishedAt = t
	}
	for _, f := range v.Files {
		mv.Files = append(mv.Files, ModelFile{
			ID: int64(f.ID), Name: f.Name, SizeKB: f.SizeKB, Type: f.Type, FP: f.Metadata.FP,
			Format: f.Metadata.Format, PickleScanResult: f.PickleScanResult,
			PickleScanMessage: f.PickleScanMessage, VirusScanResult: f.VirusScanResult,
			ScannedAt: f.ScannedAt, DownloadURL: f.DownloadURL, Primary: bool(f.Primary),
			Hashes: FileHashes{AutoV1: f.Hashes["AutoV1"], AutoV2: f.Hashes["AutoV2"],
				SHA256: f.Hashes["SHA256"], CRC32: f.Hashes["CRC32"], BLAKE3: f.Hashes["BLAKE3"]},
		})
	}
	sort.SliceStable(mv.Files, func(a, b int) bool { return mv.Files[a].ID < mv.Files[b].ID })
	return mv, nil
}

// nsfwLevel reads an integer level; older responses carry only the nsfw flag (true → R).
func nsfwLevel(raw json.RawMessage, nsfw bool) int64 {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	if nsfw {
		return int64(LevelR)
	}
	return 0
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// parseAPITime parses Civitai's ISO times ("2024-04-04T21:24:07.499Z") and the release's
// own layout.
func parseAPITime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, TimeLayout} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// readJSON decodes a file, naming the file and the byte offset of a syntax error.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("imagegem: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("imagegem: %s: invalid JSON at offset %d: %w", path, se.Offset, err)
		case errors.As(err, &te):
			return fmt.Errorf("imagegem: %s: field %q at offset %d: %w", path, te.Field, te.Offset, err)
		}
		return fmt.Errorf("imagegem: %s: %w", path, err)
	}
	return nil
}
