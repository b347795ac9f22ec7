// Civitai ingestion: saved API pages in, a release out.

package imagegem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/imagegem/imagegem-go/internal/progress"
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

// IngestOptions configure Civitai ingestion. Nil and the zero value mean the defaults.
type IngestOptions struct {
	// HashUser turns a username into a userHash; nil means HashUsername. Raw usernames are
	// never stored.
	HashUser func(username string) string
	// AllModelTypes keeps every model type; by default only LoRAModelTypes are kept.
	AllModelTypes bool
	// RowsPerFile is passed to the Writer (see [WriterOptions]); 0 means
	// DefaultRowsPerFile. Negative values are invalid.
	RowsPerFile int
	// Progress, when set, receives a report after each page: stage "images" with Done and
	// Total counting the image pages, then stage "models" counting the model pages.
	Progress func(Progress)
}

// resolve returns the options with defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *IngestOptions) resolve() (IngestOptions, error) {
	var r IngestOptions
	if o != nil {
		r = *o
	}
	if r.HashUser == nil {
		r.HashUser = HashUsername
	}
	if r.RowsPerFile < 0 {
		return r, invalid("IngestOptions", "RowsPerFile", "%d is negative", r.RowsPerFile)
	}
	if r.RowsPerFile == 0 {
		r.RowsPerFile = DefaultRowsPerFile
	}
	return r, nil
}

// hash returns the userHash of a username; an empty username stays empty.
func (o *IngestOptions) hash(u string) string {
	switch {
	case u == "":
		return ""
	case o == nil || o.HashUser == nil:
		return HashUsername(u)
	}
	return o.HashUser(u)
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
// once. The release is written by a [Writer]: on error or cancellation nothing is left in
// outDir, and no output replaces one of the pages (an error wrapping [ErrOverwritesInput]).
func IngestCivitai(ctx context.Context, outDir string, imagePages, modelPages []string, opts *IngestOptions) (IngestReport, error) {
	var rep IngestReport
	o, err := opts.resolve()
	if err != nil {
		return rep, err
	}
	report := progress.Func(o.Progress)
	wo := WriterOptions{RowsPerFile: o.RowsPerFile, inputs: append(append([]string(nil), imagePages...), modelPages...)}
	w, err := NewWriter(ctx, outDir, &wo)
	if err != nil {
		return rep, err
	}
	defer w.Abort()
	seenImg := map[int64]bool{}
	for i, p := range imagePages {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("imagegem: ingest: %w", err)
		}
		imgs, noLoRA, err := readImagesPage(p, &o)
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
		report.Report(Progress{Stage: "images", Done: i + 1, Total: len(imagePages)})
	}
	seenVer := map[int64]bool{}
	for i, p := range modelPages {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("imagegem: ingest: %w", err)
		}
		vs, err := readModelsPage(p, &o)
		if err != nil {
			return rep, err
		}
		for _, v := range vs {
			if !o.AllModelTypes && !isLoRAType(v.ModelType) {
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
		report.Report(Progress{Stage: "models", Done: i + 1, Total: len(modelPages)})
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
