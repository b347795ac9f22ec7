package recsys

import "slices"

// The graph operations of HNSW (Malkov & Yashunin 2018, Algorithms 1, 2 and 4). While the
// graph is built, several goroutines insert at once: a node's lists are read and written only
// under its lock, one lock at a time, and a new node becomes reachable only after its own
// lists on every layer are in place (its neighbours learn of it last).
//
// Implementation: insertion runs on all cores at once, hnswlib-style: each node's neighbour
// lists sit in one flat int32 block guarded by a per-node lock, and only one lock is held at
// a time. The graph is built and walked over a half-precision copy of the vectors (scaled by
// a power of two into the binary16 range), which halves the memory traffic that dominates at
// a million vectors; distances are computed in batches (one call per visited node) by C
// kernels for AVX-512F or AVX2+FMA+F16C chosen at run time (vecdist_cgo.go), with a pure-Go
// fallback where cgo is off (vecdist_nocgo.go). Each worker reuses its buffers and a
// generation-stamped visited set, so the inner loops do not allocate.

type distID struct {
	d  float32
	id int32
}

func cmpDistID(a, b distID) int {
	switch {
	case a.d < b.d:
		return -1
	case a.d > b.d:
		return 1
	}
	return int(a.id) - int(b.id)
}

// visitSet marks visited nodes with a generation stamp, so it is cleared in O(1).
type visitSet struct {
	mark []uint32
	gen  uint32
}

func (v *visitSet) reset(n int) {
	if len(v.mark) < n {
		v.mark = make([]uint32, n)
	}
	v.gen++
	if v.gen == 0 {
		clear(v.mark)
		v.gen = 1
	}
}

// hnswScratch is one goroutine's working memory, reused across insertions and searches so
// that the inner loops do not allocate.
type hnswScratch struct {
	visit       visitSet
	cand        minDist
	res         minDist // negated distances: the top is the farthest result
	out, eps    []distID
	nbr, ids    []int32
	dists       []float32
	sel, pruned []distID
	keptIDs     []int32
	q, nv       []float32 // the walking query and a node's vector, in the graph's precision
	shrink      []distID
	chosen      [][]int32 // per layer, the new node's neighbours
}

func (h *HNSW) newScratch(ef int) *hnswScratch {
	sc := &hnswScratch{
		cand:  make(minDist, 0, 2*ef),
		res:   make(minDist, 0, ef+1),
		out:   make([]distID, 0, ef+1),
		nbr:   make([]int32, 0, h.m0),
		ids:   make([]int32, 0, h.m0+1),
		dists: make([]float32, h.m0+1),
	}
	sc.visit.reset(len(h.levels))
	return sc
}

// nodeVec returns node i's vector as the graph sees it (scale·v, decoded from the half
// copy into buf), or the float32 vector itself under FullPrecision.
func (h *HNSW) nodeVec(i int32, buf *[]float32) []float32 {
	if h.half == nil {
		return h.vecs[int(i)*h.dim:][:h.dim]
	}
	if cap(*buf) < h.dim {
		*buf = make([]float32, h.dim)
	}
	b := (*buf)[:h.dim]
	halfRow(b, h.half[int(i)*h.dim:][:h.dim])
	return b
}

// query returns q as the graph sees it (scaled like the half copy).
func (h *HNSW) query(q []float32, sc *hnswScratch) []float32 {
	if h.half == nil {
		return q
	}
	if cap(sc.q) < h.dim {
		sc.q = make([]float32, h.dim)
	}
	b := sc.q[:h.dim]
	for i, x := range q {
		b[i] = x * h.scale
	}
	return b
}

// list is node i's neighbour block on layer lc: the count, then room for the neighbours.
func (h *HNSW) list(i int32, lc int) []int32 {
	if lc == 0 {
		return h.links0[int(i)*(h.m0+1):][:h.m0+1]
	}
	return h.upper[i][(lc-1)*(h.m+1):][:h.m+1]
}

// neighbours returns node i's neighbours on layer lc. While building (locked) it copies them
// into sc.nbr under the node's lock; on the finished graph it returns the list itself.
func (h *HNSW) neighbours(i int32, lc int, sc *hnswScratch, locked bool) []int32 {
	if lc > int(h.levels[i]) {
		return nil
	}
	l := h.list(i, lc)
	if !locked {
		return l[1 : 1+l[0]]
	}
	h.locks[i].Lock()
	sc.nbr = append(sc.nbr[:0], l[1:1+l[0]]...)
	h.locks[i].Unlock()
	return sc.nbr
}

// dist computes distances from q to nodes ids into sc.dists.
func (h *HNSW) dist(q []float32, ids []int32, sc *hnswScratch) []float32 {
	if cap(sc.dists) < len(ids) {
		sc.dists = make([]float32, len(ids))
	}
	out := sc.dists[:len(ids)]
	if h.half != nil {
		distancesHalf(h.metric, q, h.half, h.dim, ids, out)
	} else {
		distances(h.metric, q, h.vecs, h.dim, ids, out)
	}
	return out
}

func (h *HNSW) distID(q []float32, id int32, sc *hnswScratch) distID {
	sc.ids = append(sc.ids[:0], id)
	return distID{h.dist(q, sc.ids, sc)[0], id}
}

// greedy walks layer lc towards q from ep and returns the nearest node found (Algorithm 2
// with ef = 1).
func (h *HNSW) greedy(q []float32, ep distID, lc int, sc *hnswScratch, locked bool) distID {
	for changed := true; changed; {
		changed = false
		nb := h.neighbours(ep.id, lc, sc, locked)
		if len(nb) == 0 {
			break
		}
		sc.ids = append(sc.ids[:0], nb...)
		for j, d := range h.dist(q, sc.ids, sc) {
			if x := (distID{d, sc.ids[j]}); cmpDistID(x, ep) < 0 {
				ep, changed = x, true
			}
		}
	}
	return ep
}

// searchLayer is Algorithm 2: a best-first search of layer lc from eps keeping the ef
// nearest. It returns them nearest first in sc.out. skip (≥ 0) is a node never returned.
func (h *HNSW) searchLayer(q []float32, eps []distID, ef, lc int, sc *hnswScratch, skip int32, locked bool) []distID {
	sc.visit.reset(len(h.levels))
	mark, gen := sc.visit.mark, sc.visit.gen
	cand, res := sc.cand[:0], sc.res[:0]
	for _, e := range eps {
		if mark[e.id] == gen {
			continue
		}
		mark[e.id] = gen
		cand.push(e)
		if e.id != skip {
			res.push(distID{-e.d, e.id})
		}
	}
	for len(cand) > 0 {
		c := cand.pop()
		if len(res) >= ef && c.d > -res[0].d {
			break
		}
		ids := sc.ids[:0]
		for _, nb := range h.neighbours(c.id, lc, sc, locked) {
			if mark[nb] != gen {
				mark[nb] = gen
				ids = append(ids, nb)
			}
		}
		sc.ids = ids
		if len(ids) == 0 {
			continue
		}
		for j, d := range h.dist(q, ids, sc) {
			if len(res) < ef || d < -res[0].d {
				x := distID{d, ids[j]}
				cand.push(x)
				if x.id != skip {
					res.push(distID{-d, x.id})
					if len(res) > ef {
						res.pop()
					}
				}
			}
		}
	}
	sc.cand, sc.res = cand, res
	sc.out = sc.out[:0]
	for _, x := range res {
		sc.out = append(sc.out, distID{-x.d, x.id})
	}
	slices.SortFunc(sc.out, cmpDistID)
	return sc.out
}

// selectNeighbours is the heuristic of Algorithm 4 over cands (nearest first): keep a
// candidate only if it is nearer to the base than to every neighbour kept so far, then fill
// up with the nearest discarded ones when fewer than m survive (keepPrunedConnections). The
// result, in sc.sel, is nearest first.
func (h *HNSW) selectNeighbours(cands []distID, m int, sc *hnswScratch) []distID {
	kept, pruned := sc.sel[:0], sc.pruned[:0]
	if len(cands) <= m {
		kept = append(kept, cands...)
		sc.sel = kept
		return kept
	}
	for _, c := range cands {
		if len(kept) >= m {
			break
		}
		good := true
		if len(kept) > 0 {
			sc.keptIDs = sc.keptIDs[:0]
			for _, k := range kept {
				sc.keptIDs = append(sc.keptIDs, k.id)
			}
			cv := h.nodeVec(c.id, &sc.nv)
			if h.half != nil {
				good = firstNearerHalf(h.metric, cv, h.half, h.dim, sc.keptIDs, c.d) < 0
			} else {
				for _, d := range h.dist(cv, sc.keptIDs, sc) {
					if d < c.d {
						good = false
						break
					}
				}
			}
		}
		if good {
			kept = append(kept, c)
		} else {
			pruned = append(pruned, c)
		}
	}
	for _, p := range pruned {
		if len(kept) >= m {
			break
		}
		kept = append(kept, p)
	}
	slices.SortFunc(kept, cmpDistID)
	sc.sel, sc.pruned = kept, pruned
	return kept
}

// insert is Algorithm 1 for node id: find its neighbours on each of its layers (searching
// only), write its own lists, then link it from each neighbour, shrinking a full list with
// the heuristic.
func (h *HNSW) insert(id int32, efc int, sc *hnswScratch) {
	level := int(h.levels[id])
	h.entryMu.Lock()
	entry, top := h.entry, h.top
	h.entryMu.Unlock()
	q := h.nodeVec(id, &sc.q)
	ep := h.distID(q, entry, sc)
	for lc := top; lc > level; lc-- {
		ep = h.greedy(q, ep, lc, sc, true)
	}
	for len(sc.chosen) <= level {
		sc.chosen = append(sc.chosen, nil)
	}
	sc.eps = append(sc.eps[:0], ep)
	for lc := min(level, top); lc >= 0; lc-- {
		cand := h.searchLayer(q, sc.eps, efc, lc, sc, id, true)
		sel := h.selectNeighbours(cand, h.m, sc)
		ch := sc.chosen[lc][:0]
		for _, s := range sel {
			ch = append(ch, s.id)
		}
		sc.chosen[lc] = ch
		sc.eps = append(sc.eps[:0], cand...)
	}
	h.locks[id].Lock()
	for lc := min(level, top); lc >= 0; lc-- {
		l := h.list(id, lc)
		l[0] = int32(copy(l[1:], sc.chosen[lc]))
	}
	h.locks[id].Unlock()
	for lc := min(level, top); lc >= 0; lc-- {
		maxM := h.m
		if lc == 0 {
			maxM = h.m0
		}
		for _, nb := range sc.chosen[lc] {
			h.link(nb, id, lc, maxM, sc)
		}
	}
	if level > top {
		h.entryMu.Lock()
		if level > h.top {
			h.entry, h.top = id, level
		}
		h.entryMu.Unlock()
	}
}

// link adds id to node nb's list on layer lc, choosing maxM of the old neighbours and id by
// the heuristic when the list is full.
func (h *HNSW) link(nb, id int32, lc, maxM int, sc *hnswScratch) {
	h.locks[nb].Lock()
	defer h.locks[nb].Unlock()
	l := h.list(nb, lc)
	cnt := int(l[0])
	if cnt < maxM {
		l[1+cnt] = id
		l[0]++
		return
	}
	sc.ids = append(append(sc.ids[:0], l[1:1+cnt]...), id)
	ds := h.dist(h.nodeVec(nb, &sc.q), sc.ids, sc)
	sc.shrink = sc.shrink[:0]
	for j, d := range ds {
		sc.shrink = append(sc.shrink, distID{d, sc.ids[j]})
	}
	slices.SortFunc(sc.shrink, cmpDistID)
	sel := h.selectNeighbours(sc.shrink, maxM, sc)
	for j, s := range sel {
		l[1+j] = s.id
	}
	l[0] = int32(len(sel))
}

// minDist is a binary min-heap of distID by distance. A search keeps its results in one
// holding negated distances, so that the top is the farthest result.
type minDist []distID

func (h *minDist) push(x distID) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].d <= s[i].d {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minDist) pop() distID {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].d < s[m].d {
			m = l
		}
		if r < len(s) && s[r].d < s[m].d {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
