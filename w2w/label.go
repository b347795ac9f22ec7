package w2w

import "fmt"

// Thresholds of the anime→realistic labelling of paper §5.3.1, applied to CLIP similarity
// scores between a model's example images and a person prompt, a realistic-style prompt and
// an anime-style prompt.
const (
	// PersonMinScore keeps an image when its person score is at least 0.20 (the image shows
	// a person, so the style comparison is about people).
	PersonMinScore = 0.20
	// RealisticMinScore labels a model +1 (realistic, preferred) when its realistic score is
	// at least 0.26.
	RealisticMinScore = 0.26
	// AnimeMinScore labels a model −1 (anime, not preferred) when its anime score is at least
	// 0.24.
	AnimeMinScore = 0.24
)

// ImageScores are the CLIP scores of one example image; they are plain numbers so no model is
// needed here (the embed package computes them).
type ImageScores struct {
	Person, Realistic, Anime float64
}

// LabelOptions overrides the §5.3.1 thresholds; zero fields take the paper's values.
type LabelOptions struct {
	PersonMin, RealisticMin, AnimeMin float64
}

// Label outcomes of [AnimeRealisticLabel].
const (
	LabelRealistic = 1  // preferred
	LabelAnime     = -1 // not preferred
	LabelNone      = 0  // dropped
)

// AnimeRealisticLabel labels a model from its example images (paper §5.3.1): images whose
// person score is below the person threshold are set aside; the model's realistic and anime
// scores are the means over the images kept; a model at or above the realistic threshold is
// +1, at or above the anime threshold −1, and a model high on both, on neither, or with no
// image kept is dropped (0). The reason says which rule decided. Only out-of-range options
// return an error.
func AnimeRealisticLabel(images []ImageScores, opts *LabelOptions) (label int, reason string, err error) {
	o, err := opts.resolve()
	if err != nil {
		return LabelNone, "", err
	}
	kept := 0
	var real, anime float64
	for _, s := range images {
		if s.Person < o.PersonMin {
			continue
		}
		kept++
		real += s.Realistic
		anime += s.Anime
	}
	if kept == 0 {
		return LabelNone, fmt.Sprintf("no image with person score ≥ %.2f", o.PersonMin), nil
	}
	real /= float64(kept)
	anime /= float64(kept)
	isReal, isAnime := real >= o.RealisticMin, anime >= o.AnimeMin
	switch {
	case isReal && isAnime:
		return LabelNone, fmt.Sprintf("high on both: realistic %.3f, anime %.3f over %d images", real, anime, kept), nil
	case isReal:
		return LabelRealistic, fmt.Sprintf("realistic %.3f ≥ %.2f over %d images", real, o.RealisticMin, kept), nil
	case isAnime:
		return LabelAnime, fmt.Sprintf("anime %.3f ≥ %.2f over %d images", anime, o.AnimeMin, kept), nil
	}
	return LabelNone, fmt.Sprintf("neither: realistic %.3f, anime %.3f over %d images", real, anime, kept), nil
}
