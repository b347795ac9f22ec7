package w2w

import (
	"errors"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/fileerr"
)

// Named errors. Every error the package returns for bad input wraps one of these or one of
// package safetensors' (for a file that is not valid safetensors), so callers can test with
// errors.Is; the message around it names the file, the tensor and the offset.
var (
	// ErrShapeMismatch reports factors whose shapes do not fit together. (A tensor whose
	// bytes do not match its shape is safetensors.ErrShapeMismatch.)
	ErrShapeMismatch = errors.New("shape mismatch")
	// ErrNonFinite reports NaN or Inf values in LoRA weights.
	ErrNonFinite = errors.New("non-finite weight")
	// ErrRankMismatch reports up and down factors whose ranks disagree.
	ErrRankMismatch = errors.New("up/down rank mismatch")
	// ErrNotLoRA reports a safetensors file with no LoRA module in it.
	ErrNotLoRA = errors.New("not a lora file")
	// ErrMalformedKey reports a tensor name that looks like a LoRA key but follows none of the
	// known naming schemes (for example a broken conversion).
	ErrMalformedKey = errors.New("malformed lora key")
	// ErrMissingFactor reports a module that has only one of its two factors.
	ErrMissingFactor = errors.New("missing lora factor")
	// ErrUnsupported reports a valid construct this package does not handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrUnmappedModule reports a module that cannot be given a name loaders map (an index-
	// named cloneofsimo module whose order the family table does not know): such a LoRA
	// reduces, but is not written.
	ErrUnmappedModule = errors.New("module has no loader name")
	// ErrLayout reports LoRAs, vectors or directions that do not fit a layout or space.
	ErrLayout = errors.New("layout mismatch")
	// ErrBadLabels reports labels that cannot train a direction (wrong values, one class).
	ErrBadLabels = errors.New("bad labels")
	// ErrOverwritesInput reports an output path that names one of the inputs (the same path,
	// a hard link or a symbolic link to it).
	ErrOverwritesInput = atomicfile.ErrOverwritesInput
)

// fileErr formats an error about a file, optionally a tensor in it and a byte offset
// (negative when unknown), wrapping err.
func fileErr(file, tensor string, offset int64, err error, format string, args ...any) error {
	return fileerr.New("w2w", file, tensor, offset, err, format, args...)
}
