package hdbscan

import (
	"context"
	"math"
	"runtime"
	"sync"
)

// kSmallest keeps the k smallest values seen (a max-heap of size k).
type kSmallest struct {
	k int
	h []float64
}

func (s *kSmallest) reset(k int) { s.k = k; s.h = s.h[:0] }

func (s *kSmallest) push(v float64) {
	if len(s.h) < s.k {
		s.h = append(s.h, v)
		i := len(s.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if s.h[p] >= s.h[i] {
				break
			}
			s.h[p], s.h[i] = s.h[i], s.h[p]
			i = p
		}
		return
	}
	if v >= s.h[0] {
		return
	}
	s.h[0] = v
	i := 0
	for {
		l, r, big := 2*i+1, 2*i+2, i
		if l < len(s.h) && s.h[l] > s.h[big] {
			big = l
		}
		if r < len(s.h) && s.h[r] > s.h[big] {
			big = r
		}
		if big == i {
			return
		}
		s.h[i], s.h[big] = s.h[big], s.h[i]
		i = big
	}
}

// max returns the largest kept value: the k-th smallest once k values were pushed.
func (s *kSmallest) max() float64 { return s.h[0] }

// exactCore returns, for each point, the distance to its ms-th nearest other point
// (CONVENTIONS.md §1: index ms of the sorted row that includes the point's own 0).
func exactCore(ctx context.Context, m *matrix, dist func(i, j int) float64, ms, workers int, p params) ([]float64, error) {
	core := make([]float64, m.n)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	const chunk = 64
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ks kSmallest
			for {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				start := next
				next += chunk
				mu.Unlock()
				if start >= m.n {
					return
				}
				end := min(start+chunk, m.n)
				for i := start; i < end; i++ {
					ks.reset(ms)
					for j := 0; j < m.n; j++ {
						if j != i {
							ks.push(dist(i, j))
						}
					}
					core[i] = ks.max()
				}
				mu.Lock()
				done += end - start
				p.progress("core", done, m.n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return core, nil
}

// exactPrim is the reference's mst_linkage_core_vector (CONVENTIONS.md §3): Prim from point
// 0 over mutual reachability max(d/alpha, core_i, core_j), strict comparisons, lowest index
// on ties. Edges are (in-tree source, new point, weight) in the order added.
func exactPrim(ctx context.Context, m *matrix, dist func(i, j int) float64, core []float64, alpha float64, p params) ([]Edge, error) {
	n := m.n
	inTree := make([]bool, n)
	curD := make([]float64, n)
	curSrc := make([]int, n)
	for j := range curD {
		curD[j] = math.Inf(1)
		curSrc[j] = 1 // the reference initialises the sources to 1.0
	}
	edges := make([]Edge, 0, n-1)
	current := 0
	for step := 0; step < n-1; step++ {
		if step%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p.progress("mst", step, n-1)
		}
		inTree[current] = true
		best := math.MaxFloat64
		src, nw := 0, 0
		cc := core[current]
		for j := 0; j < n; j++ {
			if inTree[j] {
				continue
			}
			d := dist(current, j)
			if alpha != 1 {
				d /= alpha
			}
			mr := d
			if cc > mr {
				mr = cc
			}
			if core[j] > mr {
				mr = core[j]
			}
			if mr < curD[j] {
				curD[j] = mr
				curSrc[j] = current
			}
			if curD[j] < best {
				best = curD[j]
				src = curSrc[j]
				nw = j
			}
		}
		edges = append(edges, Edge{A: src, B: nw, Weight: best})
		current = nw
	}
	p.progress("mst", n-1, n-1)
	return edges, nil
}
