//go:build !unix

package safetensors

import "os"

// mapFile reads the whole file where memory mapping is not available.
func mapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	return readWhole(fh, size)
}
