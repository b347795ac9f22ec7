//go:build !unix

package embed

import "testing"

// mapAnonymous has no mapping to give here: the row-kernel test needs one.
func mapAnonymous(t *testing.T, n int) []byte {
	t.Skip("no anonymous memory mapping on this system")
	return nil
}
