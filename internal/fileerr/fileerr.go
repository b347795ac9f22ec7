// Package fileerr formats the errors the file parsers of the module return about bad input:
// "pkg: file: tensor "name" at offset N: message: wrapped error".
package fileerr

import "fmt"

// New returns an error about file (or "<memory>" when file is empty), optionally about a
// tensor or field in it and a byte offset (negative when unknown), wrapping err, with an
// optional message in front of it, prefixed with pkg.
func New(pkg, file, tensor string, offset int64, err error, format string, args ...any) error {
	loc := pkg + ": " + file
	if file == "" {
		loc = pkg + ": <memory>"
	}
	if tensor != "" {
		loc += fmt.Sprintf(": tensor %q", tensor)
	}
	if offset >= 0 {
		loc += fmt.Sprintf(" at offset %d", offset)
	}
	if msg := fmt.Sprintf(format, args...); msg != "" {
		return fmt.Errorf("%s: %s: %w", loc, msg, err)
	}
	return fmt.Errorf("%s: %w", loc, err)
}
