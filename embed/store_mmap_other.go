//go:build !unix

package embed

import "os"

// mapStoreFile reads the whole file where memory mapping is not available.
func mapStoreFile(fh *os.File, size int64) ([]byte, func() error, bool, error) {
	b, unmap, err := readStoreFile(fh, size)
	return b, unmap, false, err
}
