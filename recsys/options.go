package recsys

import (
	"errors"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/progress"
)

// Progress is one progress report of a long operation: Fit of SASRec, Two-Tower and
// Item2Vec (stage "epoch", Done the epochs finished out of Total, Loss the mean training loss
// of the epoch), Evaluate (stage "evaluate", users ranked) and NewHNSW (stage "insert",
// vectors inserted). Reports come from one goroutine at a time; returning never stops the
// work: cancel the context instead.
type Progress = progress.Progress

var (
	// ErrInvalidOptions reports an option value out of its range. Zero values never cause
	// it: they select the documented defaults.
	ErrInvalidOptions = errors.New("recsys: invalid options")
	// ErrOverwritesInput reports a save whose destination is one of the files named as its
	// inputs.
	ErrOverwritesInput = atomicfile.ErrOverwritesInput
)

// invalidf returns an error wrapping ErrInvalidOptions that names the options type and field.
func invalidf(typ, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}

// checkWorkers validates a Workers option: 0 means GOMAXPROCS, negative is an error.
func checkWorkers(typ string, w int) error {
	if w < 0 {
		return invalidf(typ, "Workers", "%d is negative (0 means GOMAXPROCS)", w)
	}
	return nil
}

// positiveInt fills a zero *v with def and rejects a negative one.
func positiveInt(typ, field string, v *int, def int) error {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		return invalidf(typ, field, "%d is negative (0 means the default %d)", *v, def)
	}
	return nil
}

// positiveFloat fills a zero *v with def and rejects a negative, infinite or NaN one.
func positiveFloat(typ, field string, v *float64, def float64) error {
	switch {
	case math.IsNaN(*v) || math.IsInf(*v, 0):
		return invalidf(typ, field, "%v is not finite", *v)
	case *v == 0:
		*v = def
	case *v < 0:
		return invalidf(typ, field, "%g is negative (0 means the default %g)", *v, def)
	}
	return nil
}
