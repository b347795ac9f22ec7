package hdbscan

import (
	"context"
	"math"
	"runtime"
	"sync"
)

// Block sizes of the fast path.
const (
	// queryBlock is the number of query rows whose distances to a strip of data rows are
	// computed in one kernel call (32 rows × 768 float32 = 96 KiB).
	queryBlock = 32
	// dataStrip is the number of data rows per kernel call of the core-distance pass; the
	// call's output is queryBlock × dataStrip float32 (1 MiB).
	dataStrip = 8192
	// parallelPrimMin is the number of remaining points below which one goroutine runs a
	// Prim step alone (the hand-off would cost more than it saves).
	parallelPrimMin = 4096
)

// float32 rows of the fast path; for the cosine metric the rows are unit vectors and the
// distance is |a-b|²/2 = 1 - cos.
func toFloat32(m *matrix) []float32 {
	x := make([]float32, len(m.x))
	for i, v := range m.x {
		x[i] = float32(v)
	}
	return x
}

func workerCount(p params) int {
	if p.Workers > 0 {
		return p.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// sqNorms returns the squared norm of each row.
func sqNorms(x []float32, n, d int) []float32 {
	out := make([]float32, n)
	for i := range out {
		var s float32
		for _, v := range x[i*d : (i+1)*d] {
			s += v * v
		}
		out[i] = s
	}
	return out
}

// sqToDist turns a float32 squared Euclidean distance into the metric's distance.
func sqToDist(s float32, cosine bool) float64 {
	if cosine {
		return float64(s) * 0.5
	}
	return math.Sqrt(float64(s))
}

// fastMST computes core distances and the Prim MST on float32 distances in parallel with
// O(n·(k + workers·strip)) memory. First the k nearest neighbours of every point
// (k = max(32, 2·min_samples)), each pair computed once in blocks split among goroutines
// (fastCore); then Prim's loop that owes distances (lazyPrim): a point joining the tree
// updates its listed neighbours at once, and its distances to everything else are computed
// later, many tree points at a time, only when the kNN radii cannot prove the next edge (a
// pair outside both lists is at least max(r_a, r_b) apart).
func fastMST(ctx context.Context, m *matrix, p params) ([]float64, []Edge, error) {
	x := toFloat32(m)
	nb := &neighbours{k: graphDegree(p, m.n)}
	core, err := fastCore(ctx, x, m.n, m.d, p.minSamples, nb, p)
	if err != nil {
		return nil, nil, err
	}
	edges, err := lazyPrim(ctx, x, m.n, m.d, core, nb, p)
	if err != nil {
		return nil, nil, err
	}
	return core, edges, nil
}

// neighbours holds, for each point, its k nearest other points (ascending distance).
type neighbours struct {
	k    int
	idx  []int32
	dist []float64
}

// fastCore computes each point's distance to its ms-th nearest other point with blocked,
// parallel float32 kernels; every pair is computed once (the upper triangle by blocks of
// queryBlock rows) and offered to both points. Each worker keeps its own k-best lists of
// every point, merged at the end, so the result does not depend on the scheduling. When nb
// is not nil it also records the nb.k nearest neighbours (nb.k >= ms).
func fastCore(ctx context.Context, x []float32, n, d, ms int, nb *neighbours, p params) ([]float64, error) {
	cosine := p.Metric == Cosine
	keep := ms
	if nb != nil {
		keep = nb.k
		nb.idx = make([]int32, n*keep)
		nb.dist = make([]float64, n*keep)
	}
	core := make([]float64, n)
	norms := sqNorms(x, n, d)
	workers := workerCount(p)
	blocks := (n + queryBlock - 1) / queryBlock
	lists := make([]*flatTopK, workers)
	var mu sync.Mutex
	next, done := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newFlatTopK(n, keep)
			lists[w] = h
			strip := min(dataStrip, n)
			out := make([]float32, queryBlock*strip)
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= blocks {
					return
				}
				q0 := b * queryBlock
				nq := min(queryBlock, n-q0)
				for j0 := q0; j0 < n; j0 += strip {
					mj := min(strip, n-j0)
					sqBlockNorms(x[q0*d:(q0+nq)*d], nq, x[j0*d:(j0+mj)*d], mj, d,
						norms[q0:q0+nq], norms[j0:j0+mj], out)
					for i := 0; i < nq; i++ {
						qi := int32(q0 + i)
						row := out[i*mj : (i+1)*mj]
						first := 0
						if j0 == q0 {
							first = i + 1 // the block's own rows: the pairs j > i only
						}
						worst := h.worst[j0 : j0+mj]
						for j := first; j < mj; j++ {
							s := row[j]
							// most pairs are farther than both points' current k-th: skip the calls
							if s <= h.worst[qi] {
								h.push(qi, s, int32(j0+j))
							}
							if s <= worst[j] {
								h.push(int32(j0+j), s, qi)
							}
						}
					}
				}
				mu.Lock()
				done += (n - q0) * nq
				p.progress("core", min(done, n*n/2), n*n/2)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var merged topK
	merged.init(keep)
	for pt := 0; pt < n; pt++ {
		merged.reset()
		for _, h := range lists {
			if h == nil {
				continue
			}
			c := int(h.count[pt])
			for r := 0; r < c; r++ {
				merged.push(h.val[pt*keep+r], h.idx[pt*keep+r])
			}
		}
		merged.sort()
		core[pt] = sqToDist(merged.val[ms-1], cosine)
		if nb != nil {
			for r := 0; r < keep; r++ {
				nb.idx[pt*keep+r] = merged.idx[r]
				nb.dist[pt*keep+r] = sqToDist(merged.val[r], cosine)
			}
		}
	}
	return core, nil
}

// flatTopK keeps the k smallest (value, index) pairs of every point in flat arrays: one
// max-heap of k entries per point.
type flatTopK struct {
	k     int
	val   []float32
	idx   []int32
	count []int32
	worst []float32 // largest kept value of each point once it holds k, +Inf before
}

func newFlatTopK(n, k int) *flatTopK {
	h := &flatTopK{k: k, val: make([]float32, n*k), idx: make([]int32, n*k), count: make([]int32, n),
		worst: make([]float32, n)}
	for i := range h.worst {
		h.worst[i] = float32(math.Inf(1))
	}
	return h
}

func (h *flatTopK) push(pt int32, v float32, j int32) {
	k := h.k
	base := int(pt) * k
	val, idx := h.val[base:base+k], h.idx[base:base+k]
	above := func(a, b int) bool { return val[a] > val[b] || (val[a] == val[b] && idx[a] > idx[b]) }
	c := int(h.count[pt])
	if c < k {
		val[c], idx[c] = v, j
		h.count[pt]++
		for i := c; i > 0; {
			par := (i - 1) / 2
			if !above(i, par) {
				break
			}
			val[i], val[par] = val[par], val[i]
			idx[i], idx[par] = idx[par], idx[i]
			i = par
		}
		if c+1 == k {
			h.worst[pt] = val[0]
		}
		return
	}
	if v > val[0] || (v == val[0] && j >= idx[0]) {
		return
	}
	val[0], idx[0] = v, j
	for i := 0; ; {
		l, r, big := 2*i+1, 2*i+2, i
		if l < k && above(l, big) {
			big = l
		}
		if r < k && above(r, big) {
			big = r
		}
		if big == i {
			h.worst[pt] = val[0]
			return
		}
		val[i], val[big] = val[big], val[i]
		idx[i], idx[big] = idx[big], idx[i]
		i = big
	}
}

// topK keeps the k smallest (value, index) pairs: a max-heap on value, then index.
type topK struct {
	k   int
	val []float32
	idx []int32
}

func (h *topK) init(k int) {
	h.k = k
	h.val = make([]float32, 0, k)
	h.idx = make([]int32, 0, k)
}

func (h *topK) reset() { h.val, h.idx = h.val[:0], h.idx[:0] }

func (h *topK) less(a, b int) bool { // a above b in the max-heap
	return h.val[a] > h.val[b] || (h.val[a] == h.val[b] && h.idx[a] > h.idx[b])
}

func (h *topK) swap(a, b int) {
	h.val[a], h.val[b] = h.val[b], h.val[a]
	h.idx[a], h.idx[b] = h.idx[b], h.idx[a]
}

func (h *topK) down(i, n int) {
	for {
		l, r, big := 2*i+1, 2*i+2, i
		if l < n && h.less(l, big) {
			big = l
		}
		if r < n && h.less(r, big) {
			big = r
		}
		if big == i {
			return
		}
		h.swap(i, big)
		i = big
	}
}

func (h *topK) push(v float32, j int32) {
	if len(h.val) < h.k {
		h.val = append(h.val, v)
		h.idx = append(h.idx, j)
		i := len(h.val) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !h.less(i, p) {
				break
			}
			h.swap(i, p)
			i = p
		}
		return
	}
	if v > h.val[0] || (v == h.val[0] && j >= h.idx[0]) {
		return
	}
	h.val[0], h.idx[0] = v, j
	h.down(0, len(h.val))
}

// sort orders the kept pairs ascending (heap sort in place).
func (h *topK) sort() {
	for end := len(h.val) - 1; end > 0; end-- {
		h.swap(0, end)
		h.down(0, end)
	}
}

// fastPrim runs the reference's Prim loop (CONVENTIONS.md §3) on float32 distances. The
// points not yet in the tree are kept packed at the front of a private copy of the rows,
// so every step streams one contiguous block, split among the workers; a row whose
// current distance already equals its lower bound max(core_current, core_j) is skipped.
// One distance row per step makes it memory-bound (about 4× slower than lazyPrim at
// 20,000 × 768); it is kept as the plain loop that lazyPrim is tested against.
func fastPrim(ctx context.Context, x []float32, n, d int, core []float64, p params) ([]Edge, error) {
	cosine := p.Metric == Cosine
	rows := append([]float32(nil), x...)
	c := append([]float64(nil), core...)
	curD := make([]float64, n)
	curSrc := make([]int32, n)
	orig := make([]int32, n)
	for j := range curD {
		curD[j] = math.Inf(1)
		curSrc[j] = 1
		orig[j] = int32(j)
	}
	q := make([]float32, d)
	swapRows := func(a, b int) {
		if a == b {
			return
		}
		ra, rb := rows[a*d:(a+1)*d], rows[b*d:(b+1)*d]
		for k := range ra {
			ra[k], rb[k] = rb[k], ra[k]
		}
		c[a], c[b] = c[b], c[a]
		curD[a], curD[b] = curD[b], curD[a]
		curSrc[a], curSrc[b] = curSrc[b], curSrc[a]
		orig[a], orig[b] = orig[b], orig[a]
	}
	workers := workerCount(p)
	type job struct{ lo, hi int }
	jobs := make([]chan job, workers)
	results := make([]int, workers)
	var wg sync.WaitGroup
	var cur int32
	var cc float64
	for w := 1; w < workers; w++ {
		jobs[w] = make(chan job)
		go func(w int) {
			for jb := range jobs[w] {
				r := primChunk(rows[jb.lo*d:jb.hi*d], jb.hi-jb.lo, d, q, cc, p.alpha, cosine,
					c[jb.lo:jb.hi], curD[jb.lo:jb.hi], curSrc[jb.lo:jb.hi], orig[jb.lo:jb.hi], cur)
				if r >= 0 {
					r += jb.lo
				}
				results[w] = r
				wg.Done()
			}
		}(w)
	}
	defer func() {
		for w := 1; w < workers; w++ {
			close(jobs[w])
		}
	}()
	edges := make([]Edge, 0, n-1)
	// The current point is moved to the end of the remaining block: rows [0, remaining)
	// are the points outside the tree.
	remaining := n
	curPos := 0
	for step := 0; step < n-1; step++ {
		if step%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p.progress("mst", step, n-1)
		}
		cur = orig[curPos]
		cc = c[curPos]
		copy(q, rows[curPos*d:(curPos+1)*d])
		remaining--
		swapRows(curPos, remaining)
		best := -1
		if remaining < parallelPrimMin || workers == 1 {
			best = primChunk(rows[:remaining*d], remaining, d, q, cc, p.alpha, cosine,
				c[:remaining], curD[:remaining], curSrc[:remaining], orig[:remaining], cur)
		} else {
			per := (remaining + workers - 1) / workers
			wg.Add(workers - 1)
			for w := 1; w < workers; w++ {
				lo := min(w*per, remaining)
				jobs[w] <- job{lo, min(lo+per, remaining)}
			}
			best = primChunk(rows[:per*d], per, d, q, cc, p.alpha, cosine,
				c[:per], curD[:per], curSrc[:per], orig[:per], cur)
			wg.Wait()
			for w := 1; w < workers; w++ {
				r := results[w]
				if r < 0 {
					continue
				}
				if best < 0 || curD[r] < curD[best] || (curD[r] == curD[best] && orig[r] < orig[best]) {
					best = r
				}
			}
		}
		edges = append(edges, Edge{A: int(curSrc[best]), B: int(orig[best]), Weight: curD[best]})
		curPos = best
	}
	p.progress("mst", n-1, n-1)
	return edges, nil
}
