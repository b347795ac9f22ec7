//go:build !cgo || !amd64

package recsys

import "github.com/x448/float16"

// distanceKernel names the kernel in use.
const distanceKernel = "go"

// distances is distancesGo where no C kernel is built (no cgo, or not amd64).
func distances(metric Metric, q, base []float32, dim int, ids []int32, out []float32) {
	distancesGo(metric, q, base, dim, ids, out)
}

// distancesHalf is distancesHalfGo where no C kernel is built.
func distancesHalf(metric Metric, q []float32, base []uint16, dim int, ids []int32, out []float32) {
	distancesHalfGo(metric, q, base, dim, ids, out)
}

// halfRow decodes half-precision values into dst (len(dst) ≥ len(src)).
func halfRow(dst []float32, src []uint16) {
	for i, u := range src {
		dst[i] = float16.Frombits(u).Float32()
	}
}

// firstNearerHalf returns the first j with distance(q, row ids[j]) < bound over half rows,
// or -1.
func firstNearerHalf(metric Metric, q []float32, base []uint16, dim int, ids []int32, bound float32) int {
	var d [1]float32
	for j := range ids {
		distancesHalfGo(metric, q, base, dim, ids[j:j+1], d[:])
		if d[0] < bound {
			return j
		}
	}
	return -1
}
