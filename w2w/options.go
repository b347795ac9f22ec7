package w2w

import (
	"errors"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// ErrInvalidOptions reports an option value out of its range. Zero values mean the
// defaults; anything else out of range is refused, never replaced.
var ErrInvalidOptions = errors.New("invalid options")

// Progress is one progress report of a long operation (stage, done, total). Returning from
// a Progress callback never stops the work; cancel the context instead.
type Progress = progress.Progress

func invalid(typ, field, format string, args ...any) error {
	return fmt.Errorf("w2w: %w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}

func badFloat(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// resolve fills the defaults of [ReduceOptions] and picks the backend.
func (o *ReduceOptions) resolve() ReduceOptions {
	var r ReduceOptions
	if o != nil {
		r = *o
	}
	r.Backend = pickBackend(r.Backend)
	return r
}

// resolve validates [DirectionOptions] and fills their defaults.
func (o *DirectionOptions) resolve() (DirectionOptions, error) {
	var r DirectionOptions
	if o != nil {
		r = *o
	}
	switch r.Classifier {
	case "":
		r.Classifier = Logistic
	case Logistic, SVM, PseudoInverse:
	default:
		return r, invalid("DirectionOptions", "Classifier", "unknown classifier %q (want %q, %q or %q)", r.Classifier, Logistic, SVM, PseudoInverse)
	}
	switch {
	case badFloat(r.Lambda) || r.Lambda < 0:
		return r, invalid("DirectionOptions", "Lambda", "%v is not a non-negative number", r.Lambda)
	case r.Lambda == 0:
		r.Lambda = defaultLambda
	}
	switch {
	case r.MaxIter < 0:
		return r, invalid("DirectionOptions", "MaxIter", "%d < 0", r.MaxIter)
	case r.MaxIter == 0:
		r.MaxIter = defaultMaxIter
	}
	r.Backend = pickBackend(r.Backend)
	return r, nil
}

// resolve fills the defaults of [EditOptions].
func (o *EditOptions) resolve() EditOptions {
	var r EditOptions
	if o != nil {
		r = *o
	}
	r.Backend = pickBackend(r.Backend)
	return r
}

// resolve fills the defaults of [FlattenOptions].
func (o *FlattenOptions) resolve() FlattenOptions {
	var r FlattenOptions
	if o != nil {
		r = *o
	}
	r.Backend = pickBackend(r.Backend)
	return r
}

// resolve validates [WriteOptions] and fills their defaults.
func (o *WriteOptions) resolve() (WriteOptions, error) {
	var r WriteOptions
	if o != nil {
		r = *o
	}
	switch r.DType {
	case "":
		r.DType = safetensors.F32
	case safetensors.F16, safetensors.BF16, safetensors.F32, safetensors.F64:
	default:
		return r, invalid("WriteOptions", "DType", "%q is not F16, BF16, F32 or F64", r.DType)
	}
	switch r.Format {
	case "":
		r.Format = Kohya
	case Kohya, PEFT:
	default:
		return r, invalid("WriteOptions", "Format", "%q is not %q or %q", r.Format, Kohya, PEFT)
	}
	if badFloat(r.Alpha) {
		return r, invalid("WriteOptions", "Alpha", "%v is not finite", r.Alpha)
	}
	if r.Method == "" {
		r.Method = "reduce"
		if r.Direction != "" {
			r.Method = "edit"
		}
	}
	return r, nil
}

// resolve validates [LayoutOptions] and fills their defaults.
func (o *LayoutOptions) resolve() (LayoutOptions, error) {
	var r LayoutOptions
	if o != nil {
		r = *o
	}
	switch r.Selection {
	case "":
		r.Selection = SelectAll
	case SelectAll, SelectFF, SelectAttnV, SelectFFAttnV:
	default:
		return r, invalid("LayoutOptions", "Selection", "unknown selection %q (want %q, %q, %q or %q)", r.Selection, SelectAll, SelectFF, SelectAttnV, SelectFFAttnV)
	}
	for _, c := range r.Components {
		switch c {
		case UNet, TextEncoder, TextEncoder1, TextEncoder2, Transformer, OtherNet:
		default:
			return r, invalid("LayoutOptions", "Components", "unknown component %q", c)
		}
	}
	switch {
	case r.RefIterations < 0:
		return r, invalid("LayoutOptions", "RefIterations", "%d < 0", r.RefIterations)
	case r.RefIterations == 0:
		r.RefIterations = defaultRefIterations
	}
	return r, nil
}

// resolve validates [LabelOptions] and fills their defaults.
func (o *LabelOptions) resolve() (LabelOptions, error) {
	var r LabelOptions
	if o != nil {
		r = *o
	}
	for _, f := range []struct {
		name string
		v    *float64
		def  float64
	}{{"PersonMin", &r.PersonMin, PersonMinScore}, {"RealisticMin", &r.RealisticMin, RealisticMinScore}, {"AnimeMin", &r.AnimeMin, AnimeMinScore}} {
		switch {
		case badFloat(*f.v) || *f.v < 0 || *f.v > 1:
			return r, invalid("LabelOptions", f.name, "%v is not a score in [0, 1]", *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return r, nil
}

// resolve validates [SpaceOptions] for a population of n vectors and fills their defaults.
func (o *SpaceOptions) resolve(n, d int) (SpaceOptions, error) {
	var r SpaceOptions
	if o != nil {
		r = *o
	}
	switch {
	case r.Components < 0:
		return r, invalid("SpaceOptions", "Components", "%d < 0", r.Components)
	case r.Components == 0:
		r.Components = min(DefaultComponents, n-1)
	case r.Components > n-1:
		return r, invalid("SpaceOptions", "Components", "%d components of %d vectors (at most n−1 = %d)", r.Components, n, n-1)
	}
	switch r.Method {
	case PCAAuto:
		r.Method = PCARandomized
		if n <= gramAutoMaxN || n*gramAutoRatio <= d {
			r.Method = PCAGram
		}
	case PCAGram, PCARandomized:
	default:
		return r, invalid("SpaceOptions", "Method", "unknown method %q (want %q or %q)", r.Method, PCAGram, PCARandomized)
	}
	switch {
	case r.Oversample < 0:
		return r, invalid("SpaceOptions", "Oversample", "%d < 0", r.Oversample)
	case r.Oversample == 0:
		r.Oversample = defaultOversample
	}
	switch {
	case r.PowerIterations < 0:
		return r, invalid("SpaceOptions", "PowerIterations", "%d < 0", r.PowerIterations)
	case r.PowerIterations == 0:
		r.PowerIterations = defaultPowerIterations
	}
	r.Backend = pickBackend(r.Backend)
	return r, nil
}

// resolve fills the defaults of [ProjectOptions].
func (o *ProjectOptions) resolve() ProjectOptions {
	var r ProjectOptions
	if o != nil {
		r = *o
	}
	r.Backend = pickBackend(r.Backend)
	return r
}
