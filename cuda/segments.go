package cuda

import (
	"sort"
	"sync"
)

// segment is a host slice bound for element offset off of a device buffer.
type segment struct {
	src []float32
	off int64
}

// fillRange copies into dst the values of segs (sorted by off, not overlapping) that fall in
// the element range [lo, lo+len(dst)) of the destination. Gaps between segments are left
// untouched.
func fillRange(dst []float32, lo int64, segs []segment) {
	hi := lo + int64(len(dst))
	// First segment that ends after lo.
	i := sort.Search(len(segs), func(i int) bool { return segs[i].off+int64(len(segs[i].src)) > lo })
	for ; i < len(segs) && segs[i].off < hi; i++ {
		s := segs[i]
		from, to := max(s.off, lo), min(s.off+int64(len(s.src)), hi)
		copy(dst[from-lo:to-lo], s.src[from-s.off:to-s.off])
	}
}

// fillParallel is fillRange split over up to workers goroutines, for staging buffers large
// enough that one core's memory bandwidth is the limit.
func fillParallel(dst []float32, lo int64, segs []segment, workers int) {
	const minPart = 1 << 18 // elements; smaller parts are not worth a goroutine
	parts := min(workers, max(1, len(dst)/minPart))
	if parts <= 1 {
		fillRange(dst, lo, segs)
		return
	}
	var wg sync.WaitGroup
	step := (len(dst) + parts - 1) / parts
	for a := 0; a < len(dst); a += step {
		b := min(a+step, len(dst))
		wg.Add(1)
		go func() {
			defer wg.Done()
			fillRange(dst[a:b], lo+int64(a), segs)
		}()
	}
	wg.Wait()
}
