//go:build unix

package embed

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// mapAnonymous maps n bytes of zeroed memory outside the Go heap, unmapped when t ends.
func mapAnonymous(t *testing.T, n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Munmap(b) })
	return b
}
