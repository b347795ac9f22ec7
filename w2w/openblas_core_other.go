//go:build openblas && cgo && !amd64

package w2w

// retargetOpenBLAS leaves OpenBLAS's own CPU detection in charge outside amd64.
func retargetOpenBLAS() string { return "" }
