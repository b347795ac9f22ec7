package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Constants of the preference scorers.
const (
	// CLIPScoreWeight is w in CLIPScore = w·max(cos, 0) (Hessel et al. 2021, §3: w = 2.5).
	CLIPScoreWeight = 2.5
	// CLIPScorePrefix is the prompt prefix of the CLIPScore paper ("A photo depicts").
	CLIPScorePrefix = "A photo depicts "
)

// ScoreOptions configures [CLIPScore]. Nil and the zero value score the captions as given.
type ScoreOptions struct {
	// Prefix prepends CLIPScorePrefix to each caption.
	Prefix bool
}

// resolve returns a copy of o; nil means the zero value, and every value is valid.
func (o *ScoreOptions) resolve() ScoreOptions {
	if o == nil {
		return ScoreOptions{}
	}
	return *o
}

// CLIPScore returns 2.5·max(cos(image, caption), 0) for each pair images[i], captions[i]
// (CLIPScore, Hessel et al. 2021). Unreadable images get NaN and an error at their index.
func CLIPScore(ctx context.Context, m *Model, images, captions []string, opts *ScoreOptions) ([]float64, []error, error) {
	if opts.resolve().Prefix {
		pre := make([]string, len(captions))
		for i, c := range captions {
			pre[i] = CLIPScorePrefix + c
		}
		captions = pre
	}
	return pairScores(ctx, m, images, captions, func(cos float64) float64 {
		return CLIPScoreWeight * math.Max(cos, 0)
	})
}

// PickScore returns logit_scale·cos(image, prompt) for each pair (Kirstain et al. 2023);
// open the PickScore_v1 export with its trained Options.LogitScale (about 100) when its
// config.json does not carry logit_scale.
func PickScore(ctx context.Context, m *Model, images, prompts []string) ([]float64, []error, error) {
	s := m.LogitScale()
	return pairScores(ctx, m, images, prompts, func(cos float64) float64 { return s * cos })
}

// HPSv2 returns cos(image, prompt) for each pair (Wu et al. 2023, Human Preference Score
// v2); the model must be opened with Preprocessor.Transform = TransformHPSv2.
func HPSv2(ctx context.Context, m *Model, images, prompts []string) ([]float64, []error, error) {
	if m.Preprocessor().Transform != TransformHPSv2 {
		return nil, nil, errors.New("embed: HPSv2 needs a model opened with TransformHPSv2")
	}
	return pairScores(ctx, m, images, prompts, func(cos float64) float64 { return cos })
}

func pairScores(ctx context.Context, m *Model, images, texts []string, f func(float64) float64) ([]float64, []error, error) {
	if len(images) != len(texts) {
		return nil, nil, fmt.Errorf("embed: %d images and %d texts", len(images), len(texts))
	}
	ie, errs, err := m.EncodeImages(ctx, images)
	if err != nil {
		return nil, nil, err
	}
	te, err := m.EncodeText(ctx, texts)
	if err != nil {
		return nil, nil, err
	}
	d := m.Dim()
	out := make([]float64, len(images))
	for i := range out {
		if errs[i] != nil {
			out[i] = math.NaN()
			continue
		}
		out[i] = f(Cosine(ie[i*d:(i+1)*d], te[i*d:(i+1)*d]))
	}
	return out, errs, nil
}
