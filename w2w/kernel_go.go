//go:build !(cgo && amd64)

package w2w

// nativeKernels returns the Go factor kernels: builds without cgo, or for other
// architectures, have no C kernels.
func nativeKernels() (tripletKernels, string) { return goKernels, "go" }

// cCentreBlock reports false: the Go centring runs.
func cCentreBlock(x []float32, n, d, c0, c1 int, mu []float64) bool { return false }
