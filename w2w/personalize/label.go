package personalize

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/w2w"
)

func sqrt(x float64) float64 { return math.Sqrt(x) }

// LoRASimilarity returns, for each LoRA of the population, the mean cosine similarity of
// its example images to the query (a unit vector: the embedding of the VLM's description,
// or the cluster mean in VLM-free mode), the score §5.3.2 labels LoRAs by. A LoRA without
// example images scores NaN and is never labelled.
func (p *Population) LoRASimilarity(query []float32) ([]float64, error) {
	dim := p.Vectors.Dim()
	if len(query) != dim {
		return nil, fmt.Errorf("personalize: lora similarity: %w: query has %d values, the vectors %d", ErrLayout, len(query), dim)
	}
	q := make([]float64, dim)
	s := 0.0
	for j, x := range query {
		q[j] = float64(x)
		s += q[j] * q[j]
	}
	if s == 0 {
		return nil, fmt.Errorf("personalize: lora similarity: %w: zero query", ErrLabels)
	}
	inv := 1 / math.Sqrt(s)
	out := make([]float64, p.N())
	for i := range out {
		if len(p.Examples[i]) == 0 {
			out[i] = math.NaN()
			continue
		}
		row := p.ExampleMean[i*dim : (i+1)*dim]
		dot := 0.0
		for j, x := range row {
			dot += float64(x) * q[j]
		}
		out[i] = dot * inv
	}
	return out, nil
}

// Defaults of [LabelOptions]: which quantiles of the similarity scores are labelled.
const (
	// DefaultPreferredShare labels the top 10% of the LoRAs by similarity +1 (preferred).
	DefaultPreferredShare = 0.1
	// DefaultNotPreferredShare labels the bottom 50% −1 (not preferred); the 40% between
	// stay unlabelled. A small preferred group keeps only LoRAs that clearly match the taste;
	// a wide not-preferred group averages over many other tastes, so the direction points
	// at the preference rather than away from one other style. (Our choice; the paper gives
	// no numbers. See the package documentation for the measured effect.)
	DefaultNotPreferredShare = 0.5
)

// LabelOptions sets the quantile thresholds of [QuantileLabels]. Zero fields mean the
// defaults; Preferred + NotPreferred must not exceed 1.
type LabelOptions struct {
	// Preferred is the share of the scored LoRAs at the top labelled +1.
	Preferred float64
	// NotPreferred is the share at the bottom labelled −1.
	NotPreferred float64
}

func (o *LabelOptions) resolve() (LabelOptions, error) {
	var r LabelOptions
	if o != nil {
		r = *o
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Preferred", r.Preferred}, {"NotPreferred", r.NotPreferred}} {
		if f.v < 0 || f.v >= 1 || math.IsNaN(f.v) {
			return r, invalid("LabelOptions", f.name, "%v is outside (0, 1)", f.v)
		}
	}
	if r.Preferred == 0 {
		r.Preferred = DefaultPreferredShare
	}
	if r.NotPreferred == 0 {
		r.NotPreferred = DefaultNotPreferredShare
	}
	if r.Preferred+r.NotPreferred > 1 {
		return r, invalid("LabelOptions", "NotPreferred", "%v + Preferred %v exceed 1", r.NotPreferred, r.Preferred)
	}
	return r, nil
}

// Thresholds are the score quantiles that decided the labels.
type Thresholds struct {
	// Preferred: a score at or above it is +1; NotPreferred: at or below it is −1.
	Preferred, NotPreferred float64
}

// QuantileLabels labels scores by quantile thresholds: +1 for the top Preferred share, −1
// for the bottom NotPreferred share, 0 between and for NaN scores. The thresholds are the
// (1 − Preferred) and NotPreferred quantiles of the finite scores, linearly interpolated
// (numpy's default). Scores that give no LoRA on one side (all equal, too few finite
// scores) are ErrLabels.
func QuantileLabels(scores []float64, opts *LabelOptions) ([]int, Thresholds, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, Thresholds{}, err
	}
	var finite []float64
	for _, s := range scores {
		if !math.IsNaN(s) && !math.IsInf(s, 0) {
			finite = append(finite, s)
		}
	}
	if len(finite) < 2 {
		return nil, Thresholds{}, fmt.Errorf("%w: %d LoRAs with example images, at least 2 are needed", ErrLabels, len(finite))
	}
	sort.Float64s(finite)
	th := Thresholds{Preferred: quantile(finite, 1-o.Preferred), NotPreferred: quantile(finite, o.NotPreferred)}
	if th.Preferred <= th.NotPreferred {
		return nil, th, fmt.Errorf("%w: the preferred threshold %.4g is not above the not-preferred one %.4g (the scores do not spread)", ErrLabels, th.Preferred, th.NotPreferred)
	}
	labels := make([]int, len(scores))
	pos, neg := 0, 0
	for i, s := range scores {
		switch {
		case math.IsNaN(s) || math.IsInf(s, 0):
		case s >= th.Preferred:
			labels[i] = 1
			pos++
		case s <= th.NotPreferred:
			labels[i] = -1
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return nil, th, fmt.Errorf("%w: %d preferred and %d not preferred", ErrLabels, pos, neg)
	}
	return labels, th, nil
}

// quantile is numpy.quantile's linear method on sorted x.
func quantile(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	lo := int(math.Floor(h))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[lo] + (h-float64(lo))*(x[lo+1]-x[lo])
}

// Fixed texts of the §5.3.1 anime→realistic labelling: an example image is compared with a
// person text, a realistic-style text and an anime-style text. The wording is ours; the
// thresholds are the paper's (w2w.PersonMinScore, RealisticMinScore, AnimeMinScore).
const (
	PersonText    = "a photo of a person"
	RealisticText = "a realistic photo of a person"
	AnimeText     = "an anime illustration of a person"
)

// AnimeRealisticLabels labels every LoRA of the population by §5.3.1's rule (see
// w2w.AnimeRealisticLabel): the CLIP similarity of each example image with PersonText,
// RealisticText and AnimeText, then +1 realistic, −1 anime, 0 dropped. It is the same
// machinery as the preference labels with fixed texts instead of a description; reasons
// say which rule decided each LoRA.
func (p *Population) AnimeRealisticLabels(ctx context.Context, enc TextEncoder, opts *w2w.LabelOptions) (labels []int, reasons []string, err error) {
	dim := p.Vectors.Dim()
	t, err := enc.EncodeText(ctx, []string{PersonText, RealisticText, AnimeText})
	if err != nil {
		return nil, nil, fmt.Errorf("personalize: anime/realistic texts: %w", err)
	}
	if len(t) != 3*dim {
		return nil, nil, fmt.Errorf("personalize: anime/realistic texts: %w: %d values for 3 texts of %d", ErrLayout, len(t), dim)
	}
	labels = make([]int, p.N())
	reasons = make([]string, p.N())
	for i, ex := range p.Examples {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if len(ex) == 0 {
			reasons[i] = "no example images"
			continue
		}
		v, err := lookup(p.Vectors, ex, "lora "+p.IDs[i])
		if err != nil {
			return nil, nil, err
		}
		scores := make([]w2w.ImageScores, len(ex))
		for k := range ex {
			row := v[k*dim : (k+1)*dim]
			scores[k] = w2w.ImageScores{Person: embed.Cosine(row, t[:dim]), Realistic: embed.Cosine(row, t[dim:2*dim]), Anime: embed.Cosine(row, t[2*dim:])}
		}
		if labels[i], reasons[i], err = w2w.AnimeRealisticLabel(scores, opts); err != nil {
			return nil, nil, fmt.Errorf("personalize: %w", err)
		}
	}
	return labels, reasons, nil
}
