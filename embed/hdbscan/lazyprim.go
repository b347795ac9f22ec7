package hdbscan

import (
	"context"
	"math"
	"sync"
)

// lazyPrim is Prim's loop (CONVENTIONS.md §3) that computes distances in batches. It
// knows the k nearest neighbours of every point, with r_x the distance to the k-th: a pair
// that is in neither's list is at least max(r_a, r_b) apart, so its mutual reachability is
// at least max(L_a, L_b) with L_x = max(core_x, r_x/alpha). Each point joining the tree
// updates the current distances of its listed neighbours (both directions) at once; its
// distances to all other points are owed until a flush. The cheapest candidate j* with
// value w* is certain when no owed distance can undercut it, that is when L_U >= w*
// (L_U the smallest L of the points owing) or every remaining point has L >= w*.
// Otherwise the owed rows are computed in one blocked pass against all remaining points
// (the fast dot-product kernel, parallel over the remaining points) and the loop goes on.
// Every pair is still computed at most once, but as matrix blocks instead of one row per
// step, which turns a memory-bound loop into a compute-bound one.
func lazyPrim(ctx context.Context, x []float32, n, d int, core []float64, nb *neighbours, p params) ([]Edge, error) {
	cosine := p.Metric == Cosine
	k := nb.k
	alpha := p.alpha
	L := make([]float64, n)
	for i := range L {
		r := nb.dist[i*k+k-1] / alpha
		L[i] = math.Max(core[i], r)
	}
	// reverse lists: who lists i among its neighbours
	rstart := make([]int32, n+1)
	for _, j := range nb.idx {
		rstart[j+1]++
	}
	for i := 0; i < n; i++ {
		rstart[i+1] += rstart[i]
	}
	rlist := make([]int32, len(nb.idx))
	rdist := make([]float64, len(nb.idx))
	fill := append([]int32(nil), rstart[:n]...)
	for i := 0; i < n; i++ {
		for r := 0; r < k; r++ {
			j := nb.idx[i*k+r]
			rlist[fill[j]] = int32(i)
			rdist[fill[j]] = nb.dist[i*k+r]
			fill[j]++
		}
	}
	mr := func(a, b int, dist float64) float64 {
		if alpha != 1 {
			dist /= alpha
		}
		return math.Max(dist, math.Max(core[a], core[b]))
	}

	// packed state: positions [0, remaining) hold the points outside the tree; the tree
	// points follow, the most recent first, so the owing points are [remaining, remaining+owing).
	rows := append([]float32(nil), x...)
	norms := sqNorms(rows, n, d)
	pos := make([]int32, n)  // position of each point
	orig := make([]int32, n) // point at each position
	curD := make([]float64, n)
	curSrc := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
		orig[i] = int32(i)
		curD[i] = math.Inf(1)
		curSrc[i] = 1
	}
	swap := func(a, b int) {
		if a == b {
			return
		}
		ra, rb := rows[a*d:(a+1)*d], rows[b*d:(b+1)*d]
		for t := range ra {
			ra[t], rb[t] = rb[t], ra[t]
		}
		norms[a], norms[b] = norms[b], norms[a]
		curD[a], curD[b] = curD[b], curD[a]
		curSrc[a], curSrc[b] = curSrc[b], curSrc[a]
		orig[a], orig[b] = orig[b], orig[a]
		pos[orig[a]], pos[orig[b]] = int32(a), int32(b)
	}
	remaining := n
	owing := 0
	lU := math.Inf(1)
	workers := workerCount(p)
	flushes := 0

	relax := func(t, j int, dist float64) {
		pj := int(pos[j])
		if pj >= remaining {
			return
		}
		if w := mr(t, j, dist); w < curD[pj] {
			curD[pj] = w
			curSrc[pj] = int32(t)
		}
	}
	flush := func() {
		flushes++
		u0 := remaining
		nu := owing
		var wg sync.WaitGroup
		per := (remaining + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := w*per, min(remaining, (w+1)*per)
			if lo >= hi {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				strip := min(dataStrip, hi-lo)
				out := make([]float32, queryBlock*strip)
				for q0 := u0; q0 < u0+nu; q0 += queryBlock {
					nq := min(queryBlock, u0+nu-q0)
					for j0 := lo; j0 < hi; j0 += strip {
						mj := min(strip, hi-j0)
						sqBlockNorms(rows[q0*d:(q0+nq)*d], nq, rows[j0*d:(j0+mj)*d], mj, d,
							norms[q0:q0+nq], norms[j0:j0+mj], out)
						// queries in the order the points joined (oldest first), as Prim would
						for i := nq - 1; i >= 0; i-- {
							t := int(orig[q0+i])
							ct := core[t]
							row := out[i*mj : (i+1)*mj]
							for jj, s := range row {
								pj := j0 + jj
								cd := curD[pj]
								// a distance can only help below cd: cheap test on the square first
								if float64(s) >= sqLimit(cd, alpha, cosine) {
									continue
								}
								lb := math.Max(ct, core[orig[pj]])
								if cd <= lb {
									continue
								}
								dist := sqToDist(s, cosine)
								if alpha != 1 {
									dist /= alpha
								}
								if w := math.Max(dist, lb); w < cd {
									curD[pj] = w
									curSrc[pj] = int32(t)
								}
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		owing = 0
		lU = math.Inf(1)
	}
	// Oldest-first order matters only for ties; the queries of one flush block are
	// iterated newest position first because the newest tree point sits at the lowest
	// position.

	edges := make([]Edge, 0, n-1)
	cur := 0
	for step := 0; step < n-1; step++ {
		if step%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p.progress("mst", step, n-1)
		}
		// cur joins the tree
		remaining--
		swap(int(pos[cur]), remaining)
		owing++
		lU = math.Min(lU, L[cur])
		for r := 0; r < k; r++ {
			relax(cur, int(nb.idx[cur*k+r]), nb.dist[cur*k+r])
		}
		for e := rstart[cur]; e < rstart[cur+1]; e++ {
			relax(cur, int(rlist[e]), rdist[e])
		}
		best, minL := argminCur(curD[:remaining], orig[:remaining], L)
		if !(lU >= curD[best] || minL >= curD[best]) {
			flush()
			best, _ = argminCur(curD[:remaining], orig[:remaining], L)
		}
		edges = append(edges, Edge{A: int(curSrc[best]), B: int(orig[best]), Weight: curD[best]})
		cur = int(orig[best])
	}
	p.progress("mst", n-1, n-1)
	_ = flushes
	return edges, nil
}

// sqLimit is a squared float32 distance at or above which d/alpha cannot be below cd (with a
// relative margin for the float32 rounding of the square).
func sqLimit(cd, alpha float64, cosine bool) float64 {
	if math.IsInf(cd, 1) {
		return math.Inf(1)
	}
	v := cd * alpha
	if cosine {
		return 2 * v * (1 + 1e-6)
	}
	return v * v * (1 + 1e-6)
}

// argminCur returns the position with the smallest current distance (lowest point index
// on ties) and the smallest L among the positions.
func argminCur(curD []float64, orig []int32, L []float64) (int, float64) {
	best := 0
	minL := math.Inf(1)
	for j, v := range curD {
		if v < curD[best] || (v == curD[best] && orig[j] < orig[best]) {
			best = j
		}
		if l := L[orig[j]]; l < minL {
			minL = l
		}
	}
	return best, minL
}
