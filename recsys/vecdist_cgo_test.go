//go:build cgo && amd64

package recsys

import "testing"

// TestDistanceKernelLevels runs every C kernel this CPU supports (AVX-512F, AVX2+FMA, plain
// C), not only the one chosen at start-up.
func TestDistanceKernelLevels(t *testing.T) {
	for level, name := range map[int]string{kernelGeneric: "c", kernelAVX2: "avx2+fma", kernelAVX512: "avx512f"} {
		if level > kernelLevel {
			t.Logf("%s: not supported by this CPU", name)
			continue
		}
		checkDistances(t, name, func(m Metric, q, base []float32, dim int, ids []int32, out []float32) {
			distancesLevel(level, m, q, base, dim, ids, out)
		})
	}
}
