package synth

import "fmt"

// Defaults of [Config]: a release small enough for unit tests (about 4,000 image rows).
const (
	DefaultImages   = 3000
	DefaultDim      = 64
	DefaultLoRARank = 4
	// Ratios of the real release (paper Table 1): about 99 images per user, one uploader
	// for three users, 23 images per LoRA version.
	imagesPerUser    = 100
	usersPerUploader = 3
	imagesPerVersion = 20
)

// Config configures [Generate]. The zero value means the defaults; counts left at zero are
// derived from Images.
type Config struct {
	// Seed makes the release reproducible: the same Seed and Config give the same bytes.
	Seed uint64
	// Images is the number of distinct images; each has one to three LoRA versions, so the
	// images table has about 1.5 rows per image.
	Images int
	// Users is the number of image makers; 0 means Images/100.
	Users int
	// Uploaders is the number of LoRA uploaders (a subset of the users); 0 means Users/3.
	Uploaders int
	// Versions is the number of LoRA versions; 0 means Images/20.
	Versions int
	// Dim is the length of the companion embedding vectors; 0 means DefaultDim.
	Dim int
	// Companions writes the companion files (vectors and LoRA files) into synth/ beside the
	// tables. Off by default so that releases for benchmarks stay lean.
	Companions bool
	// LoRARank is the rank of the companion LoRA files; 0 means DefaultLoRARank.
	LoRARank int
	// RowsPerFile is passed to the release writer (0: its default).
	RowsPerFile int
	// Progress, when set, is called with the number of images written so far.
	Progress func(images int)
}

func (c *Config) withDefaults() (Config, error) {
	var o Config
	if c != nil {
		o = *c
	}
	if o.Images == 0 {
		o.Images = DefaultImages
	}
	if o.Images < 0 || o.Users < 0 || o.Uploaders < 0 || o.Versions < 0 || o.Dim < 0 || o.LoRARank < 0 {
		return o, fmt.Errorf("synth: negative count in config")
	}
	if o.Users == 0 {
		o.Users = max(o.Images/imagesPerUser, 8)
	}
	if o.Versions == 0 {
		o.Versions = max(o.Images/imagesPerVersion, 12)
	}
	if o.Uploaders == 0 {
		o.Uploaders = max(o.Users/usersPerUploader, 3)
	}
	if o.Uploaders > o.Users {
		return o, fmt.Errorf("synth: %d uploaders but only %d users: uploaders are users", o.Uploaders, o.Users)
	}
	if o.Uploaders > o.Versions {
		return o, fmt.Errorf("synth: %d uploaders for %d versions: every uploader needs a version", o.Uploaders, o.Versions)
	}
	if o.Users > o.Images {
		return o, fmt.Errorf("synth: %d users for %d images: every user makes an image", o.Users, o.Images)
	}
	if o.Dim == 0 {
		o.Dim = DefaultDim
	}
	if o.LoRARank == 0 {
		o.LoRARank = DefaultLoRARank
	}
	return o, nil
}
