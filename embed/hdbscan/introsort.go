package hdbscan

// numpy 1.24's argsort for float64 (kind "quicksort"), the order the reference sorts the
// spanning tree with (hdbscan_.py: mst[np.argsort(mst[:, 2]), :]); CONVENTIONS.md §4.
const (
	// npySmallQuicksort: partitions of at most this many elements (+1) go to insertion
	// sort (numpy npysort_common.h SMALL_QUICKSORT).
	npySmallQuicksort = 15
)

// npyLess is numpy's DOUBLE_LT: NaNs sort last.
func npyLess(a, b float64) bool { return a < b || (b != b && a == a) }

// numpyArgsort returns the permutation numpy 1.24's introsort gives: median-of-3
// quicksort, insertion sort for small partitions, heapsort past 2·floor(log2 n) levels.
// Ties come out in that algorithm's order, not in index order.
func numpyArgsort(v []float64) []int {
	n := len(v)
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	if n < 2 {
		return a
	}
	type frame struct{ pl, pr, depth int }
	var stack []frame
	pl, pr := 0, n-1
	cdepth := 0
	for u := n; u > 1; u >>= 1 {
		cdepth++
	}
	cdepth *= 2
	for {
		if cdepth < 0 {
			npyHeapsort(v, a[pl:pr+1])
		} else {
			for pr-pl > npySmallQuicksort {
				pm := pl + (pr-pl)>>1
				if npyLess(v[a[pm]], v[a[pl]]) {
					a[pm], a[pl] = a[pl], a[pm]
				}
				if npyLess(v[a[pr]], v[a[pm]]) {
					a[pr], a[pm] = a[pm], a[pr]
				}
				if npyLess(v[a[pm]], v[a[pl]]) {
					a[pm], a[pl] = a[pl], a[pm]
				}
				vp := v[a[pm]]
				pi, pj := pl, pr-1
				a[pm], a[pj] = a[pj], a[pm]
				for {
					pi++
					for npyLess(v[a[pi]], vp) {
						pi++
					}
					pj--
					for npyLess(vp, v[a[pj]]) {
						pj--
					}
					if pi >= pj {
						break
					}
					a[pi], a[pj] = a[pj], a[pi]
				}
				pk := pr - 1
				a[pi], a[pk] = a[pk], a[pi]
				cdepth--
				// the larger partition waits on the stack
				if pi-pl < pr-pi {
					stack = append(stack, frame{pi + 1, pr, cdepth})
					pr = pi - 1
				} else {
					stack = append(stack, frame{pl, pi - 1, cdepth})
					pl = pi + 1
				}
			}
			for pi := pl + 1; pi <= pr; pi++ {
				vi := a[pi]
				vp := v[vi]
				pj := pi
				for pj > pl && npyLess(vp, v[a[pj-1]]) {
					a[pj] = a[pj-1]
					pj--
				}
				a[pj] = vi
			}
		}
		if len(stack) == 0 {
			return a
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pl, pr, cdepth = f.pl, f.pr, f.depth
	}
}

// npyHeapsort is numpy's aheapsort_ on the index slice a (1-based heap arithmetic).
func npyHeapsort(v []float64, a []int) {
	n := len(a)
	at := func(i int) *int { return &a[i-1] }
	for l := n >> 1; l > 0; l-- {
		tmp := *at(l)
		i, j := l, l<<1
		for j <= n {
			if j < n && npyLess(v[*at(j)], v[*at(j + 1)]) {
				j++
			}
			if npyLess(v[tmp], v[*at(j)]) {
				*at(i) = *at(j)
				i = j
				j += j
			} else {
				break
			}
		}
		*at(i) = tmp
	}
	for n > 1 {
		tmp := *at(n)
		*at(n) = *at(1)
		n--
		i, j := 1, 2
		for j <= n {
			if j < n && npyLess(v[*at(j)], v[*at(j + 1)]) {
				j++
			}
			if npyLess(v[tmp], v[*at(j)]) {
				*at(i) = *at(j)
				i = j
				j += j
			} else {
				break
			}
		}
		*at(i) = tmp
	}
}
