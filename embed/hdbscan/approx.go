package hdbscan

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
)

// Parameters of the approximate path.
const (
	// probeLists is the number of nearest inverted lists (k-means cells) whose points are
	// searched for the neighbours of a cell's points. On the 20,000 × 768 benchmark mixture
	// 16 gave an adjusted Rand index of 0.978 against the fast mode and 32 gave 0.990, the
	// same as an exact kNN graph.
	probeLists = 32
	// kmeansIterations is the number of Lloyd iterations that place the cells.
	kmeansIterations = 6
	// kmeansSamplePerList is how many sample points per cell train the k-means.
	kmeansSamplePerList = 64
	// connectQueries bounds the points, over all pieces, whose distances to every point
	// are computed in one round that joins the pieces of the kNN forest.
	connectQueries = 8192
	// connectPerPiece is the most points one piece sends per joining round.
	connectPerPiece = 64
	// approxSeed seeds the k-means start, so results are deterministic.
	approxSeed = 0x48444253
)

// approxMST is the approximate path: an inverted-file kNN graph (√n k-means cells, each
// cell's points searched in the probeLists nearest cells), core distances from it, the
// minimum spanning forest of the graph under mutual reachability (Kruskal), then Borůvka
// rounds that join the pieces through the shortest link found from a sample of each piece.
func approxMST(ctx context.Context, m *matrix, p params) ([]float64, []Edge, error) {
	n, d := m.n, m.d
	x := toFloat32(m)
	k := graphDegree(p, n)
	nb, err := ivfNeighbours(ctx, x, n, d, k, p)
	if err != nil {
		return nil, nil, err
	}
	return graphMST(ctx, x, n, d, nb, p)
}

// graphDegree is the number of neighbours per point of the kNN graph.
func graphDegree(p params, n int) int {
	k := p.ApproxNeighbors
	if k == 0 {
		k = DefaultApproxNeighbors
	}
	k = max(k, 2*p.minSamples, p.minSamples)
	return min(k, n-1)
}

// graphMST turns a kNN graph into core distances and a spanning tree: Kruskal over the
// graph's edges under mutual reachability, then Borůvka rounds that join the pieces
// through the shortest link found from a sample of each piece's points.
func graphMST(ctx context.Context, x []float32, n, d int, nb neighbours, p params) ([]float64, []Edge, error) {
	k := nb.k
	cosine := p.Metric == Cosine
	core := make([]float64, n)
	for i := range core {
		core[i] = nb.dist[i*k+p.minSamples-1]
		if math.IsInf(core[i], 1) { // fewer candidates than min_samples: take the farthest found
			for r := p.minSamples - 1; r >= 0 && math.IsInf(core[i], 1); r-- {
				core[i] = nb.dist[i*k+r]
			}
		}
	}
	mr := func(i, j int, dist float64) float64 {
		if p.alpha != 1 {
			dist /= p.alpha
		}
		return math.Max(dist, math.Max(core[i], core[j]))
	}
	// Kruskal over the kNN edges.
	type cand struct {
		a, b int32
		w    float64
	}
	cands := make([]cand, 0, n*k)
	for i := 0; i < n; i++ {
		for r := 0; r < k; r++ {
			j := int(nb.idx[i*k+r])
			if math.IsInf(nb.dist[i*k+r], 1) {
				continue // padding: the probed cells held fewer than k points
			}
			cands = append(cands, cand{int32(i), int32(j), mr(i, j, nb.dist[i*k+r])})
		}
	}
	nb = neighbours{}
	sort.Slice(cands, func(a, b int) bool {
		if cands[a].w != cands[b].w {
			return cands[a].w < cands[b].w
		}
		if cands[a].a != cands[b].a {
			return cands[a].a < cands[b].a
		}
		return cands[a].b < cands[b].b
	})
	uf := newUnionFind(n)
	edges := make([]Edge, 0, n-1)
	for _, c := range cands {
		if uf.union(int(c.a), int(c.b)) {
			edges = append(edges, Edge{A: int(c.a), B: int(c.b), Weight: c.w})
		}
	}
	cands = nil
	p.progress("mst", len(edges), n-1)
	norms := sqNorms(x, n, d)
	workers := workerCount(p)
	for len(edges) < n-1 {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		// pieces and their sampled members
		members := map[int][]int{}
		for i := 0; i < n; i++ {
			r := uf.find(i)
			members[r] = append(members[r], i)
		}
		roots := make([]int, 0, len(members))
		for r := range members {
			roots = append(roots, r)
		}
		sort.Ints(roots)
		per := max(1, min(connectPerPiece, connectQueries/len(roots)))
		var queries []int
		for _, r := range roots {
			ms := members[r]
			step := max(1, len(ms)/per)
			for i := 0; i < len(ms) && i/step < per; i += step {
				queries = append(queries, ms[i])
			}
		}
		comp := make([]int32, n)
		for i := range comp {
			comp[i] = int32(uf.find(i))
		}
		best := make([]Edge, len(queries))
		var wg sync.WaitGroup
		var next int
		var mu sync.Mutex
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				qbuf := make([]float32, queryBlock*d)
				qn := make([]float32, queryBlock)
				strip := min(dataStrip, n)
				out := make([]float32, queryBlock*strip)
				for {
					mu.Lock()
					b := next
					next += queryBlock
					mu.Unlock()
					if b >= len(queries) || ctx.Err() != nil {
						return
					}
					nq := min(queryBlock, len(queries)-b)
					for i := 0; i < nq; i++ {
						q := queries[b+i]
						copy(qbuf[i*d:(i+1)*d], x[q*d:(q+1)*d])
						qn[i] = norms[q]
						best[b+i] = Edge{A: q, B: -1, Weight: math.Inf(1)}
					}
					for j0 := 0; j0 < n; j0 += strip {
						mj := min(strip, n-j0)
						sqBlockNorms(qbuf[:nq*d], nq, x[j0*d:(j0+mj)*d], mj, d, qn[:nq], norms[j0:j0+mj], out)
						for i := 0; i < nq; i++ {
							q := queries[b+i]
							e := &best[b+i]
							row := out[i*mj : (i+1)*mj]
							for j, s := range row {
								pt := j0 + j
								if comp[pt] == comp[q] {
									continue
								}
								w := mr(q, pt, sqToDist(s, cosine))
								if w < e.Weight || (w == e.Weight && pt < e.B) {
									e.Weight, e.B = w, pt
								}
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		// the shortest link found for each piece
		link := map[int32]Edge{}
		for _, e := range best {
			if e.B < 0 {
				continue
			}
			c := comp[e.A]
			if old, ok := link[c]; !ok || e.Weight < old.Weight {
				link[c] = e
			}
		}
		found := make([]Edge, 0, len(link))
		for _, e := range link {
			found = append(found, e)
		}
		sort.Slice(found, func(a, b int) bool {
			if found[a].Weight != found[b].Weight {
				return found[a].Weight < found[b].Weight
			}
			return found[a].A < found[b].A
		})
		for _, e := range found {
			if uf.union(e.A, e.B) {
				edges = append(edges, e)
			}
		}
		p.progress("mst", len(edges), n-1)
	}
	return core, edges, nil
}

// unionFind is a disjoint-set forest with path halving and union by size.
type unionFind struct{ parent, size []int32 }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(x int) int {
	for int(u.parent[x]) != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = int(u.parent[x])
	}
	return x
}

// union joins the sets of a and b and reports whether they were apart.
func (u *unionFind) union(a, b int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = int32(ra)
	u.size[ra] += u.size[rb]
	return true
}

// ivfNeighbours finds approximately the k nearest other points of every point: k-means
// cells over the data, then each cell's points against the points of its probeLists
// nearest cells, with the blocked kernels.
func ivfNeighbours(ctx context.Context, x []float32, n, d, k int, p params) (neighbours, error) {
	cosine := p.Metric == Cosine
	nlist := max(1, int(math.Sqrt(float64(n))))
	norms := sqNorms(x, n, d)
	cent := kmeans(x, norms, n, d, nlist, p)
	cn := sqNorms(cent, nlist, d)
	assign := nearestCentroid(x, norms, n, d, cent, cn, nlist, p)
	// points grouped by cell, rows copied contiguous
	start := make([]int, nlist+1)
	for _, a := range assign {
		start[a+1]++
	}
	for c := 0; c < nlist; c++ {
		start[c+1] += start[c]
	}
	perm := make([]int32, n)
	fill := append([]int(nil), start[:nlist]...)
	for i, a := range assign {
		perm[fill[a]] = int32(i)
		fill[a]++
	}
	rows := make([]float32, n*d)
	rn := make([]float32, n)
	for pos, i := range perm {
		copy(rows[pos*d:(pos+1)*d], x[int(i)*d:(int(i)+1)*d])
		rn[pos] = norms[i]
	}
	// probe lists: nearest cells of each cell's centroid
	cd := make([]float32, nlist*nlist)
	sqBlockNorms(cent, nlist, cent, nlist, d, cn, cn, cd)
	nprobe := min(probeLists, nlist)
	nb := neighbours{k: k, idx: make([]int32, n*k), dist: make([]float64, n*k)}
	workers := workerCount(p)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next, done := 0, 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := make([]int, nlist)
			out := make([]float32, queryBlock*dataStrip)
			heaps := make([]topK, queryBlock)
			for i := range heaps {
				heaps[i].init(k)
			}
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= nlist || ctx.Err() != nil {
					return
				}
				for i := range order {
					order[i] = i
				}
				row := cd[c*nlist : (c+1)*nlist]
				sort.Slice(order, func(a, b int) bool { return row[order[a]] < row[order[b]] })
				probes := order[:nprobe]
				for q0 := start[c]; q0 < start[c+1]; q0 += queryBlock {
					nq := min(queryBlock, start[c+1]-q0)
					for i := 0; i < nq; i++ {
						heaps[i].reset()
					}
					for _, pc := range probes {
						for j0 := start[pc]; j0 < start[pc+1]; j0 += dataStrip {
							mj := min(dataStrip, start[pc+1]-j0)
							sqBlockNorms(rows[q0*d:(q0+nq)*d], nq, rows[j0*d:(j0+mj)*d], mj, d, rn[q0:q0+nq], rn[j0:j0+mj], out)
							for i := 0; i < nq; i++ {
								h := &heaps[i]
								self := q0 + i
								for j, s := range out[i*mj : (i+1)*mj] {
									if j0+j != self {
										h.push(s, perm[j0+j])
									}
								}
							}
						}
					}
					for i := 0; i < nq; i++ {
						h := &heaps[i]
						h.sort()
						pt := int(perm[q0+i])
						for r := 0; r < k; r++ {
							if r < len(h.val) {
								nb.idx[pt*k+r] = h.idx[r]
								nb.dist[pt*k+r] = sqToDist(h.val[r], cosine)
							} else { // fewer candidates than k: pad with the last one
								nb.idx[pt*k+r] = nb.idx[pt*k+r-1]
								nb.dist[pt*k+r] = math.Inf(1)
							}
						}
					}
				}
				mu.Lock()
				done += start[c+1] - start[c]
				p.progress("core", done, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return nb, ctx.Err()
}

// kmeans places nlist centroids with Lloyd iterations on a deterministic sample.
func kmeans(x []float32, norms []float32, n, d, nlist int, p params) []float32 {
	rng := rand.New(rand.NewPCG(approxSeed, uint64(n)))
	ns := min(n, nlist*kmeansSamplePerList)
	sample := rng.Perm(n)[:ns]
	sx := make([]float32, ns*d)
	sn := make([]float32, ns)
	for i, s := range sample {
		copy(sx[i*d:(i+1)*d], x[s*d:(s+1)*d])
		sn[i] = norms[s]
	}
	cent := make([]float32, nlist*d)
	for c := 0; c < nlist; c++ {
		copy(cent[c*d:(c+1)*d], sx[c*d:(c+1)*d])
	}
	sum := make([]float64, nlist*d)
	cnt := make([]int, nlist)
	for it := 0; it < kmeansIterations; it++ {
		cn := sqNorms(cent, nlist, d)
		assign := nearestCentroid(sx, sn, ns, d, cent, cn, nlist, p)
		clear(sum)
		clear(cnt)
		for i, ai := range assign {
			a := int(ai)
			cnt[a]++
			for k, v := range sx[i*d : (i+1)*d] {
				sum[a*d+k] += float64(v)
			}
		}
		for c := 0; c < nlist; c++ {
			if cnt[c] == 0 { // an empty cell restarts at a random sample point
				s := rng.IntN(ns)
				copy(cent[c*d:(c+1)*d], sx[s*d:(s+1)*d])
				continue
			}
			for k := 0; k < d; k++ {
				cent[c*d+k] = float32(sum[c*d+k] / float64(cnt[c]))
			}
		}
	}
	return cent
}

// nearestCentroid returns the index of the nearest centroid of each row.
func nearestCentroid(x, norms []float32, n, d int, cent, cn []float32, nlist int, p params) []int32 {
	assign := make([]int32, n)
	workers := workerCount(p)
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min(n, (w+1)*per)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, queryBlock*nlist)
			for q0 := lo; q0 < hi; q0 += queryBlock {
				nq := min(queryBlock, hi-q0)
				sqBlockNorms(x[q0*d:(q0+nq)*d], nq, cent, nlist, d, norms[q0:q0+nq], cn, out)
				for i := 0; i < nq; i++ {
					row := out[i*nlist : (i+1)*nlist]
					b := 0
					for c, v := range row {
						if v < row[b] {
							b = c
						}
					}
					assign[q0+i] = int32(b)
				}
			}
		}()
	}
	wg.Wait()
	return assign
}
