package imagegem

import (
	"math"
	"strings"
	"time"
)

// TimeLayout is the layout of the release's createdAt and publishedAt texts.
const TimeLayout = "2006-01-02 15:04:05"

// Reactions are an image's Civitai reaction counts.
type Reactions struct {
	Cry, Laugh, Like, Dislike, Heart, Comment int64
}

// Total is the sum of all reactions except dislikes and comments.
func (r Reactions) Total() int64 { return r.Cry + r.Laugh + r.Like + r.Heart }

// Generation holds an image's generation parameters. Missing numbers are 0, except
// DenoisingStrength, which is NaN when missing as in the release.
type Generation struct {
	Seed              int64
	Steps             int64
	Prompt            string
	NegativePrompt    string
	Sampler           string
	CFGScale          float64
	ClipSkip          int64
	HiresUpscale      float64
	HiresUpscaler     string
	DenoisingStrength float64
	// Comfy is the ComfyUI workflow JSON when the image was made with ComfyUI, else "".
	Comfy string
}

// Image is one generated image of the release. The images table is in long format (one row
// per image × LoRA version); an Image gathers its rows, so ModelVersionIDs lists every LoRA
// version the image was made with, in increasing order.
type Image struct {
	ID              int64
	ModelVersionIDs []int64
	PostID          int64
	URL             string
	// BlurHash is the release's "hash" column: the image's BlurHash placeholder.
	BlurHash      string
	NSFW          bool
	BrowsingLevel BrowsingLevel
	Type          string
	Width, Height int64
	Generation    Generation
	CreatedAt     time.Time
	Reactions     Reactions
	UserHash      string
}

// BrowsingLevel is Civitai's NSFW level bitmask.
type BrowsingLevel int64

// Civitai's browsing level bits.
const (
	LevelPG      BrowsingLevel = 1
	LevelPG13    BrowsingLevel = 2
	LevelR       BrowsingLevel = 4
	LevelX       BrowsingLevel = 8
	LevelXXX     BrowsingLevel = 16
	LevelBlocked BrowsingLevel = 32
)

// FileHashes are a model file's hashes as Civitai reports them.
type FileHashes struct {
	AutoV1, AutoV2, SHA256, CRC32, BLAKE3 string
}

// ModelFile is one file of a model version (one row of the models table).
type ModelFile struct {
	ID                int64
	Name              string
	SizeKB            float64
	Type              string // "Model", "Training Data", …
	FP                string // "fp16", "fp32", …
	Format            string // "SafeTensor", "PickleTensor", …
	PickleScanResult  string
	PickleScanMessage string
	VirusScanResult   string
	ScannedAt         string
	Hashes            FileHashes
	DownloadURL       string
	Primary           bool
}

// ModelVersion is one LoRA model version. The models table has one row per version × file;
// a ModelVersion gathers its rows, so Files lists the version's files in increasing ID order.
type ModelVersion struct {
	ModelID               int64
	ModelName             string
	ID                    int64
	Name                  string
	ModelDescription      string
	AllowNoCredit         bool
	AllowCommercialUse    string
	AllowDerivatives      bool
	AllowDifferentLicense bool
	ModelType             string
	Minor                 bool
	POI                   bool
	ModelNSFWLevel        int64
	Cosmetic              string
	Tags                  []string
	PublishedAt           time.Time
	BaseModel             string
	BaseModelType         string
	Availability          string
	NSFWLevel             int64
	Description           string
	TrainedWords          []string
	Files                 []ModelFile
	DownloadCount         int64
	RatingCount           int64
	Rating                float64
	ThumbsUpCount         int64
	ThumbsDownCount       int64
	UserHash              string
}

// PrimaryFile returns the version's primary file, or its first file when none is marked.
func (v ModelVersion) PrimaryFile() (ModelFile, bool) {
	for _, f := range v.Files {
		if f.Primary {
			return f, true
		}
	}
	if len(v.Files) > 0 {
		return v.Files[0], true
	}
	return ModelFile{}, false
}

// listSep separates the items of the tags and trainedWords columns.
const listSep = ", "

// SplitList splits a ", "-joined column such as tags or trainedWords, trimming each item and
// dropping empty ones.
func SplitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, listSep)
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// JoinList joins items the way the release stores tags and trainedWords.
func JoinList(items []string) string { return strings.Join(items, listSep) }

// nullable scanning helpers: the release has missing values in most columns.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func f64(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func f64NaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func boolean(p *bool) bool { return p != nil && *p }

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}
