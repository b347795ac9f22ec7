// Civitai ingestion: saved API pages in, a release out.

package imagegem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
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
