package synth

import (
	"fmt"

	"github.com/imagegem/imagegem-go/imagegem"
)

// Defaults of [Options]: a release small enough for unit tests (about 4,000 image rows).
const (
	DefaultImages   = 3000
	DefaultDim      = 64
	DefaultLoRARank = 4
	// Ratios of the real release (paper Table 1): about 99 images per user, one uploader
	// for three users, 23 images per LoRA version.
	imagesPerUser    = 100
	usersPerUploader = 3
	imagesPerVersion = 20
	// Floors of the derived counts, so that small releases still have several users,
	// uploaders and versions.
	minUsers, minUploaders, minVersions = 8, 3, 12
)

// ErrInvalidOptions reports an option value out of its range or options that contradict
// each other. It is imagegem.ErrInvalidOptions, so either name matches with errors.Is.
var ErrInvalidOptions = imagegem.ErrInvalidOptions

// Progress is one report of [Generate] (imagegem.Progress): stage "images" counts the
// distinct images written out of Options.Images, stage "companions" the companion files.
type Progress = imagegem.Progress

// Options configure [Generate]. Nil and the zero value mean the defaults; counts left at
// zero are derived from Images. Negative values, and counts that contradict each other, are
// errors wrapping ErrInvalidOptions.
type Options struct {
	// Seed makes the release reproducible: the same Seed and Options give the same bytes.
	Seed uint64
	// Images is the number of distinct images; each has one to three LoRA versions, so the
	// images table has about 1.5 rows per image. 0 means DefaultImages.
	Images int
	// Users is the number of image makers, at most Images; 0 means Images/100 (at least 8,
	// at most Images).
	Users int
	// Uploaders is the number of LoRA uploaders (a subset of the users), at most Users and
	// at most Versions; 0 means Users/3 (at least 3, within those bounds).
	Uploaders int
	// Versions is the number of LoRA versions; 0 means Images/20 (at least 12).
	Versions int
	// Dim is the length of the companion embedding vectors; 0 means DefaultDim.
	Dim int
	// Companions writes the companion files (vectors and LoRA files) into synth/ beside the
	// tables. Off by default so that releases for benchmarks stay lean.
	Companions bool
	// LoRARank is the rank of the companion LoRA files, at most the smallest module
	// dimension (32); 0 means DefaultLoRARank.
	LoRARank int
	// RowsPerFile is the release writer's rows per parquet file; 0 means
	// imagegem.DefaultRowsPerFile.
	RowsPerFile int
	// Progress, when set, receives reports as the release is written (see [Progress]).
	Progress func(Progress)
}

// resolve returns the options with defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Images", r.Images}, {"Users", r.Users}, {"Uploaders", r.Uploaders}, {"Versions", r.Versions},
		{"Dim", r.Dim}, {"LoRARank", r.LoRARank}, {"RowsPerFile", r.RowsPerFile}} {
		if f.v < 0 {
			return r, invalid("Options."+f.name, "%d is negative", f.v)
		}
	}
	if r.Images == 0 {
		r.Images = DefaultImages
	}
	if r.Users == 0 {
		r.Users = min(max(r.Images/imagesPerUser, minUsers), r.Images)
	}
	if r.Versions == 0 {
		r.Versions = max(r.Images/imagesPerVersion, minVersions)
	}
	if r.Uploaders == 0 {
		r.Uploaders = min(max(r.Users/usersPerUploader, minUploaders), r.Users, r.Versions)
	}
	if r.Users > r.Images {
		return r, invalid("Options.Users", "%d users for %d images: every user makes an image", r.Users, r.Images)
	}
	if r.Uploaders > r.Users {
		return r, invalid("Options.Uploaders", "%d uploaders but only %d users: uploaders are users", r.Uploaders, r.Users)
	}
	if r.Uploaders > r.Versions {
		return r, invalid("Options.Uploaders", "%d uploaders for %d versions: every uploader has a version", r.Uploaders, r.Versions)
	}
	if r.Dim == 0 {
		r.Dim = DefaultDim
	}
	if r.LoRARank == 0 {
		r.LoRARank = DefaultLoRARank
	}
	if m := maxLoRARank(); r.LoRARank > m {
		return r, invalid("Options.LoRARank", "%d is above the smallest module dimension %d", r.LoRARank, m)
	}
	if r.RowsPerFile == 0 {
		r.RowsPerFile = imagegem.DefaultRowsPerFile
	}
	return r, nil
}

// maxLoRARank is the smallest dimension of the companion LoRA modules.
func maxLoRARank() int {
	m := loraModules[0].Out
	for _, mod := range loraModules {
		m = min(m, mod.Out, mod.In)
	}
	return m
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("synth: %w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...))
}
