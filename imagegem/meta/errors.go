package meta

import (
	"errors"
	"fmt"
)

// Named errors. Every error the package returns starts with "meta: " and wraps one of these,
// so callers can test with errors.Is; the message around it names the container, the chunk or
// tag, and the byte offset.
var (
	// ErrInvalidOptions reports an option value out of its range.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrUnsupported reports a file that is not a PNG, JPEG or WebP.
	ErrUnsupported = errors.New("unsupported image format")
	// ErrMalformed reports a container that cannot be read: a truncated chunk, a bad
	// length, an EXIF offset outside its block, an invalid compressed stream.
	ErrMalformed = errors.New("malformed metadata")
	// ErrTooLarge reports a chunk, an EXIF value or a decompressed text over the limits of
	// [Options]: it is refused before anything of that size is allocated.
	ErrTooLarge = errors.New("metadata over the size limit")
	// ErrSyntax reports generation text that one of the parsers cannot read (invalid JSON,
	// a graph that does not hold together).
	ErrSyntax = errors.New("invalid generation text")
)

// invalid returns an ErrInvalidOptions error naming the options type and the field.
func invalid(typ, field, format string, args ...any) error {
	return fmt.Errorf("meta: %w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}

// malformed returns an ErrMalformed error naming where in the file the problem is.
func malformed(where string, off int64, format string, args ...any) error {
	return fmt.Errorf("meta: %w: %s at offset %d: %s", ErrMalformed, where, off, fmt.Sprintf(format, args...))
}

// tooLarge returns an ErrTooLarge error.
func tooLarge(where string, off int64, n uint64, limit int) error {
	return fmt.Errorf("meta: %w: %s at offset %d: %d bytes, the limit is %d", ErrTooLarge, where, off, n, limit)
}
