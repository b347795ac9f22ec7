package recsys

import (
	"context"
	"fmt"
	"sort"
)

// Hit is one retrieved item with its inner-product score.
type Hit struct {
	Item  int32
	Score float32
}

// Exact top-k block sizes: a block of queries is scored against a block of items with one
// matrix product, small enough that the score block (64 × 2048 float32, 512 KiB) stays in
// the L2 cache.
const (
	topKQueryBlock = 64
	topKItemBlock  = 2048
)

// TopKInnerProduct is exact maximum-inner-product search for many queries at once: for each
// of the nq queries (row-major nq×dim) it returns the k items (row-major n×dim) with the
// largest inner product, best first; ties go to the lower item index. It scores blocks of
// queries against blocks of items with float32 matrix products, in parallel over query
// blocks (workers 0 means GOMAXPROCS), and stops promptly, with an error wrapping ctx.Err(),
// when ctx is cancelled. For cosine similarity, normalise queries and items first.
func TopKInnerProduct(ctx context.Context, queries, items []float32, dim, k, workers int) ([][]Hit, error) {
	if dim <= 0 || len(queries)%dim != 0 || len(items)%dim != 0 {
		return nil, fmt.Errorf("recsys: topk: query (%d values) or item (%d values) matrix is not a multiple of dim %d", len(queries), len(items), dim)
	}
	nq, n := len(queries)/dim, len(items)/dim
	if k <= 0 || n == 0 {
		return nil, fmt.Errorf("recsys: topk: k = %d over %d items", k, n)
	}
	if workers < 0 {
		return nil, fmt.Errorf("recsys: topk: %d workers", workers)
	}
	k = min(k, n)
	out := make([][]Hit, nq)
	blocks := (nq + topKQueryBlock - 1) / topKQueryBlock
	err := parallelChunks(ctx, blocks, workerCount(workers, blocks), func(_, lo, hi int) error {
		scores := make([]float32, topKQueryBlock*topKItemBlock)
		heaps := make([]hitHeap, topKQueryBlock)
		for b := lo; b < hi; b++ {
			q0 := b * topKQueryBlock
			q1 := min(nq, q0+topKQueryBlock)
			m := q1 - q0
			for i := range heaps[:m] {
				heaps[i] = heaps[i][:0]
			}
			for i0 := 0; i0 < n; i0 += topKItemBlock {
				if err := ctx.Err(); err != nil {
					return err
				}
				i1 := min(n, i0+topKItemBlock)
				w := i1 - i0
				gemm(false, true, m, w, dim, 1, queries[q0*dim:q1*dim], items[i0*dim:i1*dim], 0, scores[:m*w])
				for r := 0; r < m; r++ {
					row := scores[r*w : r*w+w]
					h := &heaps[r]
					for j, s := range row {
						h.offer(Hit{Item: int32(i0 + j), Score: s}, k)
					}
				}
			}
			for r := 0; r < m; r++ {
				out[q0+r] = heaps[r].sorted()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recsys: topk: %w", err)
	}
	return out, nil
}

// hitHeap is a bounded min-heap by (score, then higher index first) so that the root is the
// worst kept hit.
type hitHeap []Hit

func worse(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.Item > b.Item
}

func (h *hitHeap) offer(x Hit, k int) {
	s := *h
	if len(s) < k {
		s = append(s, x)
		i := len(s) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(s[i], s[p]) {
				break
			}
			s[i], s[p] = s[p], s[i]
			i = p
		}
		*h = s
		return
	}
	if !worse(s[0], x) {
		return
	}
	s[0] = x
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && worse(s[l], s[m]) {
			m = l
		}
		if r < len(s) && worse(s[r], s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

func (h hitHeap) sorted() []Hit {
	out := append([]Hit(nil), h...)
	sort.Slice(out, func(a, b int) bool { return worse(out[b], out[a]) })
	return out
}
