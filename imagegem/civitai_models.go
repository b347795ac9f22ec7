// Pages of /api/v1/models, /api/v1/models/{id} and /api/v1/model-versions/{id}.

package imagegem

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

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
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return readModelsPage(path, &o)
}

func readModelsPage(path string, opts *IngestOptions) ([]ModelVersion, error) {
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
		return nil, fmt.Errorf("imagegem: civitai models page %s: neither \"items\", \"modelVersions\" nor a model version's \"files\": %w", path, ErrMalformed)
	}
	var out []ModelVersion
	for i, m := range models {
		for j, v := range m.ModelVersions {
			mv, err := m.version(v, opts)
			if err != nil {
				return nil, fmt.Errorf("imagegem: civitai models page %s: model %d (index %d) version index %d: %w: %w", path, m.ID, i, j, err, ErrMalformed)
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
