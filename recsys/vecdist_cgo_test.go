//go:build cgo && amd64

package recsys

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/x448/float16"
)

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
		checkHalfDistances(t, name, func(m Metric, q []float32, base []uint16, dim int, ids []int32, out []float32) {
			distancesHalfLevel(level, m, q, base, dim, ids, out)
		})
	}
}

// TestHalfRowLevels decodes every binary16 value (zeros, subnormals, normals, infinities,
// NaNs) with each C kernel and compares with x448/float16.
func TestHalfRowLevels(t *testing.T) {
	src := make([]uint16, 1<<16+5)
	for i := range src {
		src[i] = uint16(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 1 << 16; i < len(src); i++ {
		src[i] = uint16(rng.Uint32())
	}
	for level := kernelGeneric; level <= kernelLevel; level++ {
		dst := make([]float32, len(src))
		halfRowLevel(level, dst, src)
		bad := 0
		for i, u := range src {
			want := float16.Frombits(u).Float32()
			if math.Float32bits(want) != math.Float32bits(dst[i]) && !(want != want && dst[i] != dst[i]) {
				bad++
			}
		}
		assert.Zero(t, bad, "level %d", level)
	}
}
