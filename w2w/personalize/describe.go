package personalize

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/imagegem/imagegem-go/recsys/vlm"
)

// Describer writes a visual preference description of images: a *vlm.Client satisfies it
// with the caption-images prompt of Appendix B.
type Describer interface {
	DescribeUser(ctx context.Context, history []vlm.Image, prompts *vlm.Prompts) (vlm.Profile, error)
}

// TextEncoder embeds texts into the space of the image vectors: an *embed.Model (CLIP's
// text tower) satisfies it. It returns unit-length rows, one per text.
type TextEncoder interface {
	EncodeText(ctx context.Context, texts []string) ([]float32, error)
}

// MinDescriptionWords is the fewest words (runs of letters) a VLM description must hold to
// be used; a shorter reply ("", "N/A", "{}", "...") is garbage and an error.
const MinDescriptionWords = 3

// DescribePreference asks the VLM to describe the images closest to the cluster mean
// (§5.3.2, with the caption-images prompt of Appendix B, or prompts' replacement) and returns
// the description as text. A failed request or a reply with fewer than
// MinDescriptionWords words is an error wrapping ErrVLM.
func DescribePreference(ctx context.Context, d Describer, images []Image, prompts *vlm.Prompts) (string, error) {
	if len(images) == 0 {
		return "", fmt.Errorf("%w: no image to describe", ErrVLM)
	}
	ims := make([]vlm.Image, len(images))
	for i, im := range images {
		if im.Path == "" && im.URL == "" {
			return "", fmt.Errorf("%w: image %d has neither a path nor a URL for the VLM", ErrVLM, im.ID)
		}
		ims[i] = im.vlmImage()
	}
	p, err := d.DescribeUser(ctx, ims, prompts)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: %w", ErrVLM, err)
	}
	text := strings.TrimSpace(p.String())
	if n := countWords(text); n < MinDescriptionWords {
		return "", fmt.Errorf("%w: the reply %q has %d words, fewer than %d", ErrVLM, clip(text, 60), n, MinDescriptionWords)
	}
	return text, nil
}

// countWords counts the runs of letters in s.
func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		l := unicode.IsLetter(r)
		if l && !in {
			n++
		}
		in = l
	}
	return n
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// DescriptionEmbedding embeds the description with the text encoder: the query the LoRAs'
// example images are compared with. A zero or wrongly sized vector is an error wrapping
// ErrVLM (the description says nothing the encoder can place).
func DescriptionEmbedding(ctx context.Context, enc TextEncoder, description string, dim int) ([]float32, error) {
	v, err := enc.EncodeText(ctx, []string{description})
	if err != nil {
		return nil, fmt.Errorf("personalize: embed the description: %w", err)
	}
	if len(v) != dim {
		return nil, fmt.Errorf("personalize: embed the description: %w: %d values, the image vectors have %d", ErrLayout, len(v), dim)
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || s != s {
		return nil, fmt.Errorf("%w: the description %q embeds to a zero or non-finite vector", ErrVLM, clip(description, 60))
	}
	return v, nil
}
