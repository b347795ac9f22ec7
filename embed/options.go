package embed

import (
	"errors"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/internal/progress"
)

// ErrInvalidOptions marks an options field outside its range. Errors read
// "embed: invalid options: Field: reason".
var ErrInvalidOptions = errors.New("embed: invalid options")

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...))
}

// Progress is one report of a long call, shared by the module's packages. The encoders
// report the stage "embed" after each batch: Done items of Total. Loss is always 0.
type Progress = progress.Progress

// ProgressStage is the stage name of the encoders' progress reports.
const ProgressStage = "embed"

// DefaultBatchSize is how many texts or images go through a tower per run.
const DefaultBatchSize = 32

// Options configures [Open]. Nil and the zero value read everything from the folder and
// run on the CPU.
type Options struct {
	Session SessionOptions
	// Vocabulary overrides the folder's tokenizer files with a CLIP BPE merges file
	// (bpe_simple_vocab_16e6.txt.gz or merges.txt).
	Vocabulary string
	// TextFamily chooses the text pipeline of the tokenizer ("" = the folder's, see
	// [LoadCLIPTokenizerFromFolder]; TextHF needs the folder's tokenizer.json).
	TextFamily TextFamily
	// Preprocessor overrides the image transform; fields left zero are read from
	// preprocessor_config.json, then fall back to OpenAI CLIP's.
	Preprocessor Preprocessor
	// BatchSize is the number of items per run (0 = DefaultBatchSize; negative is an
	// error).
	BatchSize int
	// LogitScale is the (already exponentiated) PickScore temperature; 0 means
	// exp(config.json logit_scale), else exp(logit_scale_init_value), else exp(2.6592).
	// Negative or non-finite is an error.
	LogitScale float64
	// Progress, when set, is called after each batch (stage ProgressStage). Returning from
	// it never stops the work: cancel the context instead.
	Progress func(Progress)
	// TextOnly and ImageOnly skip loading the other tower; setting both is an error.
	TextOnly, ImageOnly bool
}

// resolve validates o and returns a copy with the defaults filled in. The preprocessor is
// validated but left unresolved: its zero fields are read from the model folder first.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	switch {
	case r.TextOnly && r.ImageOnly:
		return r, invalid("TextOnly", "TextOnly and ImageOnly are both set")
	case r.BatchSize < 0:
		return r, invalid("BatchSize", "%d is negative", r.BatchSize)
	case r.LogitScale < 0 || math.IsNaN(r.LogitScale) || math.IsInf(r.LogitScale, 0):
		return r, invalid("LogitScale", "%v is not a positive finite number", r.LogitScale)
	}
	if err := r.TextFamily.check("TextFamily"); err != nil {
		return r, err
	}
	if r.BatchSize == 0 {
		r.BatchSize = DefaultBatchSize
	}
	s, err := r.Session.resolve()
	if err != nil {
		return r, err
	}
	r.Session = s
	if _, err := r.Preprocessor.resolve(); err != nil {
		return r, err
	}
	return r, nil
}

// maxLength resolves a MaxLength field: 0 means DefaultMaxLength; a length must leave room
// for the two special tokens.
func maxLength(field string, n int) (int, error) {
	switch {
	case n == 0:
		return DefaultMaxLength, nil
	case n < 2:
		return 0, invalid(field, "%d is below 2 (the two special tokens)", n)
	}
	return n, nil
}
