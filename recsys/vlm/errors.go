package vlm

import (
	"errors"
	"fmt"
)

// Errors callers test with errors.Is.
var (
	// ErrInvalidOptions reports an option out of range: "vlm: invalid options: Type.Field: reason".
	ErrInvalidOptions = errors.New("vlm: invalid options")
	// ErrTooManyImages reports a request with more images than the server takes per prompt.
	ErrTooManyImages = errors.New("vlm: too many images for one request")
	// ErrImageTooLarge reports an image over the server's size limit that could not be, or was
	// not allowed to be, resized below it. Nothing is sent.
	ErrImageTooLarge = errors.New("vlm: image over the size limit")
	// ErrImage reports an image that cannot be read or decoded.
	ErrImage = errors.New("vlm: bad image")
	// ErrRequest reports a request that failed after its retries (or with an error that is
	// not retried, such as a 400).
	ErrRequest = errors.New("vlm: request failed")
	// ErrParse reports a reply from which nothing usable could be read.
	ErrParse = errors.New("vlm: unreadable reply")
	// ErrTemplate reports a prompt template that does not parse or execute.
	ErrTemplate = errors.New("vlm: bad template")
)

// invalidf returns an error wrapping ErrInvalidOptions that names the type and the field.
func invalidf(typ, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s.%s: %s", ErrInvalidOptions, typ, field, fmt.Sprintf(format, args...))
}
