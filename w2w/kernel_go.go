//go:build !(cgo && amd64)

package w2w

// nativeKernels returns the Go factor kernels: builds without cgo, or for other
// architectures, have no C kernels.
func nativeKernels() (tripletKernels, string) { return goKernels, "go" }

// cCentreBlock reports false: the Go centring runs.
func cCentreBlock(x []float32, n, d, c0, c1 int, mu []float64) bool { return false }

// cCrossBlock reports false: the Go products run.
func cCrossBlock(x []float32, ldx, ni int, y []float32, ldy, mj, k int, out []float64, ldo int) bool {
	return false
}

// cCombineBlock reports false: the Go combination runs.
func cCombineBlock(coef []float64, m, n int, x []float32, d, c0, c1 int, out []float32) bool {
	return false
}
