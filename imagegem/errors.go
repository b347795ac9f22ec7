package imagegem

import (
	"errors"
	"fmt"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// Named errors. Every error the package returns starts with "imagegem: " and wraps one of
// these when it is one of these cases, so callers can test with errors.Is; the message around
// it names the file, the field or column, and the offset where there is one.
var (
	// ErrInvalidOptions reports an option value out of its range ("imagegem: invalid options:
	// Options.Threads: -1 is negative"). Values are never silently replaced.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrNotFound reports a queried image, version or user that is not in the release.
	ErrNotFound = errors.New("not found")
	// ErrSchema reports a release file whose columns or types are not the release's, or a
	// release folder with no table files.
	ErrSchema = errors.New("not in the release schema")
	// ErrMalformed reports a saved Civitai API page that cannot be read: invalid JSON, a
	// field of the wrong type, or a page of an unknown kind.
	ErrMalformed = errors.New("malformed page")
	// ErrOverwritesInput reports an output that names one of the operation's inputs (the
	// same path, a hard link or a symbolic link to it).
	ErrOverwritesInput = atomicfile.ErrOverwritesInput
	// ErrExists reports an output folder that already exists: a release is never written
	// over another.
	ErrExists = atomicfile.ErrExists
)

// invalid returns an ErrInvalidOptions error naming the options type and the field.
func invalid(typ, field, format string, args ...any) error {
	return fmt.Errorf("imagegem: %w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}
