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

// copyRange copies between a window of a device buffer's contents, win holding its
// elements [lo, lo+len(win)), and the parts of segs (sorted by off, not overlapping) that fall
// in it: into win when toSegs is false, out of it into the segments when true. Gaps between
// segments are left untouched.
func copyRange(win []float32, lo int64, segs []segment, toSegs bool) {
	hi := lo + int64(len(win))
	// First segment that ends after lo.
	i := sort.Search(len(segs), func(i int) bool { return segs[i].off+int64(len(segs[i].src)) > lo })
	for ; i < len(segs) && segs[i].off < hi; i++ {
		s := segs[i]
		from, to := max(s.off, lo), min(s.off+int64(len(s.src)), hi)
		if toSegs {
			copy(s.src[from-s.off:to-s.off], win[from-lo:to-lo])
		} else {
			copy(win[from-lo:to-lo], s.src[from-s.off:to-s.off])
		}
	}
}

// fillParallel copies the segments into dst, the window [lo, lo+len(dst)) of the device
// buffer, split over up to workers goroutines for staging buffers large
// enough that one core's memory bandwidth is the limit.
func fillParallel(dst []float32, lo int64, segs []segment, workers int) {
	copyParallel(dst, lo, segs, workers, false)
}

// drainParallel copies the window win of the device buffer out into the segments, split over
// up to workers goroutines.
func drainParallel(win []float32, lo int64, segs []segment, workers int) {
	copyParallel(win, lo, segs, workers, true)
}

func copyParallel(dst []float32, lo int64, segs []segment, workers int, toSegs bool) {
	const minPart = 1 << 18 // elements; smaller parts are not worth a goroutine
	parts := min(workers, max(1, len(dst)/minPart))
	if parts <= 1 {
		copyRange(dst, lo, segs, toSegs)
		return
	}
	var wg sync.WaitGroup
	step := (len(dst) + parts - 1) / parts
	for a := 0; a < len(dst); a += step {
		b := min(a+step, len(dst))
		wg.Add(1)
		go func() {
			defer wg.Done()
			copyRange(dst[a:b], lo+int64(a), segs, toSegs)
		}()
	}
	wg.Wait()
}
