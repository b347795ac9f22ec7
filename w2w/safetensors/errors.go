package safetensors

import (
	"errors"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/fileerr"
)

// Named errors. Every error the package returns for a bad file wraps one of these, so callers
// can test with errors.Is; the message around it names the file, the tensor and the offset.
var (
	// ErrTruncated reports a file that ends before its header or its tensor data does.
	ErrTruncated = errors.New("truncated file")
	// ErrHeaderTooLarge reports a header length above [MaxHeaderBytes].
	ErrHeaderTooLarge = errors.New("header too large")
	// ErrBadHeader reports a header that is not the JSON object the format requires.
	ErrBadHeader = errors.New("malformed header")
	// ErrBadOffsets reports tensor data offsets that overlap, leave holes, run past the data
	// buffer, or do not cover it.
	ErrBadOffsets = errors.New("bad data offsets")
	// ErrShapeMismatch reports a tensor whose byte count does not match its shape and dtype.
	ErrShapeMismatch = errors.New("shape mismatch")
	// ErrUnsupportedDType reports a dtype the numeric readers cannot convert (the F8 types,
	// integers, booleans).
	ErrUnsupportedDType = errors.New("unsupported dtype")
	// ErrOverwritesInput reports an output path that names one of the inputs.
	ErrOverwritesInput = atomicfile.ErrOverwritesInput
)

// fileErr formats an error about a file, optionally a tensor in it and a byte offset
// (negative when unknown), wrapping err.
func fileErr(file, tensor string, offset int64, err error, format string, args ...any) error {
	return fileerr.New("safetensors", file, tensor, offset, err, format, args...)
}
