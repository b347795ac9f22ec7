package personalize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/imagegem/imagegem-go/recsys/vlm"
	"github.com/imagegem/imagegem-go/w2w"
)

// DefaultAlpha is the edit strength when Options.Alpha is 0: two spreads of the population
// along the direction, which takes a typical LoRA past the preferred group's mean.
const DefaultAlpha = 2.0

// Options configures [ForUser]. The zero value is the VLM-free chain with the defaults of
// every step and α = DefaultAlpha.
type Options struct {
	Cluster   *ClusterOptions
	Labels    *LabelOptions
	Direction *DirectionOptions
	Edit      *EditOptions
	// Alpha is the edit strength in spreads of the population along the direction (0 means
	// DefaultAlpha; negative moves away from the preference).
	Alpha float64
	// Describer and TextEncoder turn on the VLM mode: the images closest to the cluster mean
	// are described by the VLM and the description, embedded by the text encoder, is what
	// the LoRAs' example images are compared with. Without a Describer the cluster mean is
	// compared directly (VLM-free mode).
	Describer   Describer
	TextEncoder TextEncoder
	// Prompts replaces the VLM prompts (nil: Appendix B's caption-images).
	Prompts *vlm.Prompts
	// FallbackVLMFree labels in VLM-free mode when the VLM fails or returns garbage; without
	// it such a failure is an error wrapping ErrVLM.
	FallbackVLMFree bool
	// Out, when set, is where the edited LoRA is written (rank-1 kohya, atomically; never
	// over the base LoRA or any of Inputs).
	Out    string
	Write  *w2w.WriteOptions
	Inputs []string
}

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if math.IsNaN(r.Alpha) || math.IsInf(r.Alpha, 0) {
		return r, invalid("Options", "Alpha", "%v is not finite", r.Alpha)
	}
	if r.Alpha == 0 {
		r.Alpha = DefaultAlpha
	}
	if r.Describer != nil && r.TextEncoder == nil {
		return r, invalid("Options", "TextEncoder", "the VLM mode needs a text encoder for the description")
	}
	if _, err := r.Cluster.resolve(); err != nil {
		return r, err
	}
	if _, err := r.Labels.resolve(); err != nil {
		return r, err
	}
	if _, err := r.Direction.resolve(); err != nil {
		return r, err
	}
	return r, nil
}

// Modes of a report.
const (
	ModeVLM     = "vlm"
	ModeVLMFree = "vlm-free"
)

// Report is what [ForUser] did, step by step.
type Report struct {
	User string `json:"user"`
	// Images is the history's length; ClusterSize, Clusters and Noise describe HDBSCAN's
	// result and ClusterShare the representative cluster's share of the images.
	Images       int     `json:"images"`
	Clusters     int     `json:"clusters"`
	Noise        int     `json:"noise"`
	ClusterLabel int     `json:"cluster_label"`
	ClusterSize  int     `json:"cluster_size"`
	ClusterShare float64 `json:"cluster_share"`
	// Top are the ids of the images closest to the cluster mean, nearest first.
	Top []uint64 `json:"top"`
	// Mode is ModeVLM or ModeVLMFree; Description is the VLM's text (VLM mode) and
	// VLMError the VLM failure that a fallback replaced.
	Mode        string `json:"mode"`
	Description string `json:"description,omitempty"`
	VLMError    string `json:"vlm_error,omitempty"`
	// Thresholds, Preferred, NotPreferred and Unlabelled describe the labels.
	Thresholds   Thresholds `json:"thresholds"`
	Preferred    int        `json:"preferred"`
	NotPreferred int        `json:"not_preferred"`
	Unlabelled   int        `json:"unlabelled"`
	// Accuracy is the held-out accuracy (NaN-free: -1 when there was no held-out set) and
	// TrainAccuracy the final direction's accuracy on all labels.
	Accuracy      float64 `json:"accuracy"`
	TrainAccuracy float64 `json:"train_accuracy"`
	// Alpha is the strength in spreads, Spread the spread in raw units, AlphaRaw = α·spread.
	Alpha    float64 `json:"alpha"`
	Spread   float64 `json:"spread"`
	AlphaRaw float64 `json:"alpha_raw"`
	// ProjectionBefore and ProjectionAfter place the base and edited LoRA along the
	// direction, in spreads from the population mean; PreferredMean and NotPreferredMean
	// place the groups; Side names where the edit landed.
	ProjectionBefore float64 `json:"projection_before"`
	ProjectionAfter  float64 `json:"projection_after"`
	PreferredMean    float64 `json:"preferred_mean"`
	NotPreferredMean float64 `json:"not_preferred_mean"`
	Side             string  `json:"side"`
	// Out is the written file, when asked.
	Out     string  `json:"out,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Result is the outcome of [ForUser].
type Result struct {
	Edited    *w2w.Reduced
	Direction *Direction
	Cluster   *Cluster
	Labels    []int
	Scores    []float64
	Report    Report
}

// ForUser personalizes a LoRA for one user (§5.3.2 end to end): the user's image
// embeddings → HDBSCAN → the representative cluster → the images closest to its mean → (VLM
// mode) a description and its text embedding, or (VLM-free) the cluster mean → the
// similarity of every population LoRA's example images to it → +1/−1 labels by quantile →
// the direction in the population's space → θ_edit = θ + α·spread·v on base → written to
// Options.Out when set. Errors: ErrNoImages, ErrTooFewImages, ErrNoClearCluster, ErrFamily,
// ErrLayout, ErrVLM, ErrLabels, ErrMissingVector, ErrInvalidOptions.
func ForUser(ctx context.Context, h History, pop *Population, base *w2w.Reduced, opts *Options) (*Result, error) {
	start := time.Now()
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if pop == nil || pop.Space == nil {
		return nil, fmt.Errorf("personalize: %w: no population", ErrInvalidOptions)
	}
	if base == nil {
		return nil, fmt.Errorf("personalize: %w: no base LoRA", ErrInvalidOptions)
	}
	if base.Family != pop.Space.Layout.Family {
		return nil, fmt.Errorf("%w: base lora %s is %s, the space is %s", ErrFamily, base.Path, base.Family, pop.Space.Layout.Family)
	}
	dir, res, err := userDirection(ctx, h, pop, &o)
	if err != nil {
		return nil, err
	}
	ed, pls, err := pop.Edit(ctx, base, []*Direction{dir}, []float64{o.Alpha}, o.Edit)
	if err != nil {
		return nil, err
	}
	res.Edited = ed
	rep := &res.Report
	rep.Alpha, rep.Spread, rep.AlphaRaw = o.Alpha, dir.Spread, o.Alpha*dir.Spread
	pl := pls[0]
	rep.ProjectionBefore, rep.ProjectionAfter, rep.PreferredMean, rep.NotPreferredMean, rep.Side = pl.Before, pl.After, pl.Preferred, pl.NotPreferred, pl.Side
	if o.Out != "" {
		var wo w2w.WriteOptions
		if o.Write != nil {
			wo = *o.Write
		}
		wo.Inputs = append(append([]string(nil), wo.Inputs...), o.Inputs...)
		if wo.Method == "" {
			wo.Method = "personalize"
		}
		meta := map[string]string{"w2w.personalize.user": h.User, "w2w.personalize.alpha_spreads": strconv.FormatFloat(o.Alpha, 'g', -1, 64),
			w2w.MetaEditAlpha: strconv.FormatFloat(rep.AlphaRaw, 'g', -1, 64), "w2w.personalize.mode": rep.Mode}
		for k, v := range wo.Metadata {
			meta[k] = v
		}
		wo.Metadata = meta
		if err := w2w.WriteRank1LoRA(o.Out, ed, &wo); err != nil {
			return nil, fmt.Errorf("personalize: %w", err)
		}
		rep.Out = o.Out
	}
	rep.Seconds = time.Since(start).Seconds()
	return res, nil
}

// UserDirection runs ForUser's chain up to the direction, without editing: the user's
// cluster, labels and direction in the population's space, with the report filled up to the
// accuracy.
func UserDirection(ctx context.Context, h History, pop *Population, opts *Options) (*Direction, *Result, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, nil, err
	}
	if pop == nil || pop.Space == nil {
		return nil, nil, fmt.Errorf("personalize: %w: no population", ErrInvalidOptions)
	}
	return userDirection(ctx, h, pop, &o)
}

func userDirection(ctx context.Context, h History, pop *Population, o *Options) (*Direction, *Result, error) {
	res := &Result{}
	rep := &res.Report
	rep.User, rep.Images = h.User, len(h.Images)
	emb, err := UserImageEmbeddings(h, pop.Vectors)
	if err != nil {
		return nil, nil, err
	}
	dim := pop.Vectors.Dim()
	c, err := PreferenceCluster(ctx, emb, dim, o.Cluster)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %w", h.User, err)
	}
	res.Cluster = c
	rep.Clusters, rep.Noise, rep.ClusterLabel, rep.ClusterSize, rep.ClusterShare = c.Clusters, c.Noise, c.Label, len(c.Members), c.Share
	top := make([]Image, len(c.Top))
	for i, k := range c.Top {
		top[i] = h.Images[k]
		rep.Top = append(rep.Top, h.Images[k].ID)
	}
	query := c.Mean
	rep.Mode = ModeVLMFree
	if o.Describer != nil {
		q, desc, err := vlmQuery(ctx, o, top, dim)
		switch {
		case err == nil:
			query, rep.Mode, rep.Description = q, ModeVLM, desc
		case ctx.Err() != nil:
			return nil, nil, err
		case o.FallbackVLMFree && errors.Is(err, ErrVLM):
			rep.VLMError = err.Error()
		default:
			return nil, nil, fmt.Errorf("user %q: %w", h.User, err)
		}
	}
	scores, err := pop.LoRASimilarity(query)
	if err != nil {
		return nil, nil, err
	}
	labels, th, err := QuantileLabels(scores, o.Labels)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %w", h.User, err)
	}
	res.Scores, res.Labels, rep.Thresholds = scores, labels, th
	for _, y := range labels {
		switch y {
		case 1:
			rep.Preferred++
		case -1:
			rep.NotPreferred++
		default:
			rep.Unlabelled++
		}
	}
	dir, err := pop.LearnDirection(ctx, labels, o.Direction)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %w", h.User, err)
	}
	res.Direction = dir
	rep.Accuracy, rep.TrainAccuracy = dir.HeldOutAccuracy, dir.Accuracy
	if math.IsNaN(rep.Accuracy) {
		rep.Accuracy = -1
	}
	return dir, res, nil
}

// vlmQuery describes the top images with the VLM and embeds the description.
func vlmQuery(ctx context.Context, o *Options, top []Image, dim int) ([]float32, string, error) {
	desc, err := DescribePreference(ctx, o.Describer, top, o.Prompts)
	if err != nil {
		return nil, "", err
	}
	q, err := DescriptionEmbedding(ctx, o.TextEncoder, desc, dim)
	if err != nil {
		return nil, desc, err
	}
	return q, desc, nil
}
