//go:build !unix

package atomicfile

// Folders cannot be opened for syncing on these systems; the rename is as durable as the
// system makes it.
func isSyncUnsupported(error) bool { return true }
