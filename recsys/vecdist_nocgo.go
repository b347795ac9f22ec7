//go:build !cgo || !amd64

package recsys

// distanceKernel names the kernel in use.
const distanceKernel = "go"

// distances is distancesGo where no C kernel is built (no cgo, or not amd64).
func distances(metric Metric, q, base []float32, dim int, ids []int32, out []float32) {
	distancesGo(metric, q, base, dim, ids, out)
}
