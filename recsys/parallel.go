package recsys

import (
	"context"
	"runtime"
	"sync"
)

// workerCount resolves a Workers option: 0 means GOMAXPROCS, never more than n.
func workerCount(w, n int) int {
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if w > n {
		w = n
	}
	if w < 1 {
		w = 1
	}
	return w
}

// parallelChunks splits 0..n into `workers` contiguous chunks and runs fn(worker, lo, hi) on
// each in its own goroutine, returning the first error, or the context's error.
func parallelChunks(ctx context.Context, n, workers int, fn func(w, lo, hi int) error) error {
	if n == 0 {
		return ctx.Err()
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = fn(w, lo, hi)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return ctx.Err()
}
