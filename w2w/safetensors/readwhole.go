package safetensors

import (
	"io"
	"os"
)

// readWhole reads the file into memory: the fallback when it cannot be mapped.
func readWhole(fh *os.File, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := fh.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
