//go:build unix

package embed

import (
	"os"
	"syscall"
)

// mapStoreFile maps the whole file read-only, or reads it when mapping fails.
func mapStoreFile(fh *os.File, size int64) ([]byte, func() error, bool, error) {
	b, err := syscall.Mmap(int(fh.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b, unmap, err := readStoreFile(fh, size)
		return b, unmap, false, err
	}
	return b, func() error { return syscall.Munmap(b) }, true, nil
}
