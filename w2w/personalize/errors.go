package personalize

import (
	"errors"
	"fmt"

	"github.com/imagegem/imagegem-go/w2w"
)

// Named errors: every error ForUser and the step functions return for bad input wraps one
// of these (or the w2w, embed or vlm error underneath), so callers can test with errors.Is.
var (
	// ErrInvalidOptions reports an option out of range: "personalize: invalid options:
	// Type.Field: reason".
	ErrInvalidOptions = errors.New("personalize: invalid options")
	// ErrNoImages reports a user history with no image.
	ErrNoImages = errors.New("personalize: the user has no images")
	// ErrTooFewImages reports a history with fewer images than the minimum cluster size, so
	// that no preference cluster can exist.
	ErrTooFewImages = errors.New("personalize: fewer images than the minimum cluster size")
	// ErrNoClearCluster reports a history whose images form no preference cluster: HDBSCAN
	// finds only noise, or the representative cluster holds too small a share of the images.
	// No direction is learned from such a user.
	ErrNoClearCluster = errors.New("personalize: no clear preference cluster")
	// ErrFamily reports a LoRA of another base-model family than the space.
	ErrFamily = errors.New("personalize: lora family differs from the space's")
	// ErrLayout reports a LoRA or population that does not fit the space's layout; it is
	// w2w.ErrLayout, so either name matches.
	ErrLayout = w2w.ErrLayout
	// ErrVLM reports a VLM that failed or whose description is unusable (empty, too short,
	// no words). VLM-free labelling replaces it only when Options.FallbackVLMFree is set.
	ErrVLM = errors.New("personalize: vlm description failed")
	// ErrLabels reports similarity scores that cannot give both a preferred and a
	// not-preferred group.
	ErrLabels = errors.New("personalize: no usable labels")
	// ErrMissingVector reports an image id the embedding store does not hold.
	ErrMissingVector = errors.New("personalize: image not in the embedding store")
)

func invalid(typ, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}
