package cuda

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The staging fill must reproduce the concatenation of the segments for any window, split or
// not: compared with a plain concatenation built element by element.
func TestFillRangeMatchesConcatenation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var segs []segment
	var want []float32
	off := int64(0)
	for i := range 200 {
		gap := int64(rng.IntN(3)) // gaps stay untouched
		for range gap {
			want = append(want, -1)
		}
		off += gap
		n := rng.IntN(5000)
		if i%17 == 0 {
			n = 0
		}
		s := make([]float32, n)
		for j := range s {
			s[j] = float32(i*10000 + j)
		}
		segs = append(segs, segment{src: s, off: off})
		want = append(want, s...)
		off += int64(n)
	}
	total := int64(len(want))
	for _, w := range []int64{1, 7, 4096, 1 << 18, total} {
		for _, workers := range []int{1, 3, 16} {
			for lo := int64(0); lo < total; lo += w {
				hi := min(lo+w, total)
				dst := make([]float32, hi-lo)
				for i := range dst {
					dst[i] = -1
				}
				fillParallel(dst, lo, segs, workers)
				if !assert.Equal(t, want[lo:hi], dst, "window %d at %d, %d workers", w, lo, workers) {
					return
				}
			}
			// The reverse: draining the concatenation window by window into fresh segments
			// rebuilds every segment.
			back := make([]segment, len(segs))
			for i, s := range segs {
				back[i] = segment{src: make([]float32, len(s.src)), off: s.off}
			}
			for lo := int64(0); lo < total; lo += w {
				hi := min(lo+w, total)
				drainParallel(want[lo:hi], lo, back, workers)
			}
			for i := range segs {
				if !assert.Equal(t, segs[i].src, back[i].src, "segment %d, window %d, %d workers", i, w, workers) {
					return
				}
			}
		}
	}
}
