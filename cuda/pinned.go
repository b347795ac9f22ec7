//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
static int ig_alloc_host(void** p, size_t n) { return (int)cuMemAllocHost(p, n); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// Large inputs (the factors of a batch, the PCA matrix) reach the device through two
// page-locked staging buffers of 32 MiB, filled by all cores from the caller's slices while
// the other one is copied; U and V come back the same way. Copies from pageable Go memory
// ran at a third of that speed (BENCHMARKS.md, cuda).

// stageElems is the size of each of the two page-locked staging buffers, in float32 values
// (32 MiB): large enough for full-speed DMA, small enough to fill while the other copies.
const stageElems = 8 << 20

// stager moves many host slices into one device buffer through two page-locked buffers:
// while the DMA engine copies one, host goroutines fill the other. Copies from pageable Go
// memory run at a fraction of the bus speed (the driver stages them itself, one at a time).
type stager struct {
	buf  [2]unsafe.Pointer
	done [2]cu.Event
}

// newStager allocates the staging buffers; it must run on the context's thread.
func newStager() (*stager, error) {
	s := &stager{}
	for k := range s.buf {
		var p unsafe.Pointer
		if r := C.ig_alloc_host(&p, C.size_t(stageElems*4)); r != 0 {
			return nil, fmt.Errorf("cuda: page-locked staging buffer: CUresult %d", int(r))
		}
		s.buf[k] = p
		ev, err := cu.MakeEvent(cu.DisableTiming)
		if err != nil {
			return nil, fmt.Errorf("cuda: staging event: %w", err)
		}
		s.done[k] = ev
	}
	return s, nil
}

// upload copies the segments (element offsets into dst, total elements in all) to dst on the
// null stream; the copies are ordered before any later launch on that stream. It must run on
// the context's thread.
func (s *stager) upload(dst cu.DevicePtr, total int64, segs []segment) error {
	workers := runtime.GOMAXPROCS(0)
	for c, lo := 0, int64(0); lo < total; c, lo = c+1, lo+stageElems {
		hi := min(lo+stageElems, total)
		k := c % 2
		if c >= 2 {
			// The buffer's previous copy must be done before it is refilled.
			if err := s.done[k].Synchronize(); err != nil {
				return fmt.Errorf("cuda: staging copy: %w", err)
			}
		}
		fillParallel(unsafe.Slice((*float32)(s.buf[k]), hi-lo), lo, segs, workers)
		if err := cu.MemcpyHtoDAsync(dst+cu.DevicePtr(lo*4), s.buf[k], (hi-lo)*4, cu.NoStream); err != nil {
			return fmt.Errorf("cuda: copy to device: %w", err)
		}
		if err := s.done[k].Record(cu.NoStream); err != nil {
			return fmt.Errorf("cuda: staging event: %w", err)
		}
	}
	// The caller may reuse the buffers only after these copies: wait for both.
	for k := range s.done {
		if err := s.done[k].Synchronize(); err != nil {
			return fmt.Errorf("cuda: staging copy: %w", err)
		}
	}
	return nil
}

// download copies dst, total elements of device memory, out into the segments through the
// staging buffers: the copy of one chunk runs while the previous one is drained. It must run
// on the context's thread, after the work that wrote dst.
func (s *stager) download(src cu.DevicePtr, total int64, segs []segment) error {
	workers := runtime.GOMAXPROCS(0)
	issue := func(c int) error {
		lo := int64(c) * stageElems
		hi := min(lo+stageElems, total)
		k := c % 2
		if err := cu.MemcpyDtoHAsync(s.buf[k], src+cu.DevicePtr(lo*4), (hi-lo)*4, cu.NoStream); err != nil {
			return fmt.Errorf("cuda: copy from device: %w", err)
		}
		if err := s.done[k].Record(cu.NoStream); err != nil {
			return fmt.Errorf("cuda: staging event: %w", err)
		}
		return nil
	}
	chunks := int((total + stageElems - 1) / stageElems)
	if chunks > 0 {
		if err := issue(0); err != nil {
			return err
		}
	}
	for c := 0; c < chunks; c++ {
		// Buffer (c+1)%2 was drained in the previous iteration, so it may be refilled now.
		if c+1 < chunks {
			if err := issue(c + 1); err != nil {
				return err
			}
		}
		k := c % 2
		if err := s.done[k].Synchronize(); err != nil {
			return fmt.Errorf("cuda: staging copy: %w", err)
		}
		lo := int64(c) * stageElems
		hi := min(lo+stageElems, total)
		drainParallel(unsafe.Slice((*float32)(s.buf[k]), hi-lo), lo, segs, workers)
	}
	return nil
}

// uploadLarge allocates device memory for s and copies it there through the staging
// buffers; it must run on the context's thread.
func (d *device) uploadLarge(b *buffers, s []float32) (cu.DevicePtr, error) {
	p, err := b.alloc(int64(len(s)) * 4)
	if err != nil || len(s) == 0 {
		return p, err
	}
	st, err := d.staging()
	if err != nil {
		return 0, err
	}
	return p, st.upload(p, int64(len(s)), []segment{{src: s}})
}
