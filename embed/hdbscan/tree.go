package hdbscan

import (
	"math"
	"sort"
)

// Edge is one minimum-spanning-tree edge: A is the endpoint already in the tree when the
// edge was added (the reference's column 0), B the point it brought in.
type Edge struct {
	A, B   int
	Weight float64
}

// Merge is one row of the single-linkage tree in scipy's linkage layout: row i creates
// node n+i by joining Left and Right (points are 0..n-1) at Distance; Size counts points.
type Merge struct {
	Left, Right int
	Distance    float64
	Size        int
}

// CondensedRow is one row of the condensed tree: Child (a point below n, a cluster at n or
// above) leaves Parent at Lambda = 1/distance. Size is 1 for a point and the number of
// points for a cluster.
type CondensedRow struct {
	Parent, Child int
	Lambda        float64
	Size          int
}

// sortEdges sorts MST edges by weight, stably (CONVENTIONS.md §4: the reference's introsort
// orders ties arbitrarily; the stable order is the documented one).
func sortEdges(edges []Edge) []Edge {
	out := append([]Edge(nil), edges...)
	sort.SliceStable(out, func(a, b int) bool { return out[a].Weight < out[b].Weight })
	return out
}

// singleLinkage is the reference's label(): union-find over the sorted edges, left is the
// component of the edge's column 0 (CONVENTIONS.md §5).
func singleLinkage(sorted []Edge, n int) []Merge {
	parent := make([]int, 2*n-1)
	size := make([]int, 2*n-1)
	for i := range parent {
		parent[i] = -1
	}
	for i := 0; i < n; i++ {
		size[i] = 1
	}
	find := func(x int) int {
		r := x
		for parent[r] != -1 {
			r = parent[r]
		}
		for parent[x] != -1 && parent[x] != r {
			nx := parent[x]
			parent[x] = r
			x = nx
		}
		return r
	}
	out := make([]Merge, len(sorted))
	for i, e := range sorted {
		a, b := find(e.A), find(e.B)
		node := n + i
		size[node] = size[a] + size[b]
		out[i] = Merge{Left: a, Right: b, Distance: e.Weight, Size: size[node]}
		parent[a] = node
		parent[b] = node
	}
	return out
}

// bfsHierarchy lists the nodes of the subtree at root level by level, each internal node
// contributing [left, right] (the reference's bfs_from_hierarchy).
func bfsHierarchy(slt []Merge, n, root int, out []int) []int {
	out = append(out[:0], root)
	start := 0
	for {
		end := len(out)
		for _, x := range out[start:end] {
			if x >= n {
				m := slt[x-n]
				out = append(out, m.Left, m.Right)
			}
		}
		if len(out) == end {
			return out
		}
		start = end
	}
}

// condense is the reference's condense_tree (CONVENTIONS.md §6).
func condense(slt []Merge, n, mcs int) []CondensedRow {
	root := 2 * (n - 1)
	var nodes []int
	nodes = bfsHierarchy(slt, n, root, nodes)
	relabel := make([]int, root+1)
	relabel[root] = n
	next := n + 1
	ignore := make([]bool, root+1)
	out := make([]CondensedRow, 0, 2*n)
	var sub []int
	fallOut := func(parent, child int, lambda float64) {
		sub = bfsHierarchy(slt, n, child, sub)
		for _, s := range sub {
			if s < n {
				out = append(out, CondensedRow{Parent: parent, Child: s, Lambda: lambda, Size: 1})
			}
			ignore[s] = true
		}
	}
	count := func(x int) int {
		if x >= n {
			return slt[x-n].Size
		}
		return 1
	}
	for _, node := range nodes {
		if node < n || ignore[node] {
			continue
		}
		m := slt[node-n]
		lambda := math.Inf(1)
		if m.Distance > 0 {
			lambda = 1 / m.Distance
		}
		lc, rc := count(m.Left), count(m.Right)
		p := relabel[node]
		switch {
		case lc >= mcs && rc >= mcs:
			relabel[m.Left] = next
			next++
			out = append(out, CondensedRow{Parent: p, Child: relabel[m.Left], Lambda: lambda, Size: lc})
			relabel[m.Right] = next
			next++
			out = append(out, CondensedRow{Parent: p, Child: relabel[m.Right], Lambda: lambda, Size: rc})
		case lc < mcs && rc < mcs:
			fallOut(p, m.Left, lambda)
			fallOut(p, m.Right, lambda)
		case lc < mcs:
			relabel[m.Right] = p
			fallOut(p, m.Left, lambda)
		default:
			relabel[m.Left] = p
			fallOut(p, m.Right, lambda)
		}
	}
	return out
}

// treeInfo indexes a condensed tree by cluster id.
type treeInfo struct {
	n        int // points; the root cluster is n
	clusters int // cluster ids are n .. n+clusters-1
	rows     []CondensedRow
	parentOf []int     // parent cluster of each cluster (-1 for the root)
	birth    []float64 // lambda at which each cluster appears (0 for the root)
	death    []float64 // max lambda over rows whose parent is the cluster (direct children)
	children [][]int   // cluster children of each cluster, in row order
	pointRow []int     // row of each point
}

func newTreeInfo(rows []CondensedRow, n int) *treeInfo {
	maxID := n
	for _, r := range rows {
		if r.Child > maxID {
			maxID = r.Child
		}
	}
	k := maxID - n + 1
	t := &treeInfo{n: n, clusters: k, rows: rows,
		parentOf: make([]int, k), birth: make([]float64, k), death: make([]float64, k),
		children: make([][]int, k), pointRow: make([]int, n)}
	for i := range t.parentOf {
		t.parentOf[i] = -1
	}
	for i := range t.pointRow {
		t.pointRow[i] = -1
	}
	seen := make([]bool, k)
	for i, r := range rows {
		c := r.Parent - n
		if !seen[c] || r.Lambda > t.death[c] {
			t.death[c] = r.Lambda
			seen[c] = true
		}
		if r.Child >= n {
			t.parentOf[r.Child-n] = r.Parent
			t.birth[r.Child-n] = r.Lambda
			t.children[c] = append(t.children[c], r.Child)
		} else {
			t.pointRow[r.Child] = i
		}
	}
	return t
}

// stability is the reference's compute_stability (CONVENTIONS.md §7), indexed by cluster-n.
func (t *treeInfo) stability() []float64 {
	s := make([]float64, t.clusters)
	for _, r := range t.rows {
		c := r.Parent - t.n
		s[c] += (r.Lambda - t.birth[c]) * float64(r.Size)
	}
	return s
}

// descendants appends the cluster ids strictly below c.
func (t *treeInfo) descendants(c int, out []int) []int {
	start := len(out)
	out = append(out, t.children[c-t.n]...)
	for i := start; i < len(out); i++ {
		out = append(out, t.children[out[i]-t.n]...)
	}
	return out
}

// birthEps is 1/birth lambda of a non-root cluster: the distance at which it split off.
func (t *treeInfo) birthEps(c int) float64 { return 1 / t.birth[c-t.n] }

// selection returns the selected cluster ids (ascending) and the stabilities after the EOM
// pass (the reference's get_clusters).
func (t *treeInfo) selection(method Selection, allowSingle bool, eps float64) ([]int, []float64) {
	stab := t.stability()
	root := t.n
	candidates := make(map[int]bool) // is_cluster: every cluster but the root unless allowSingle
	lo := root + 1
	if allowSingle {
		lo = root
	}
	for c := lo; c < t.n+t.clusters; c++ {
		candidates[c] = true
	}
	hasClusterTree := false
	for _, ch := range t.children {
		if len(ch) > 0 {
			hasClusterTree = true
			break
		}
	}
	var selected map[int]bool
	var buf []int
	switch method {
	case EOM:
		for c := t.n + t.clusters - 1; c >= lo; c-- {
			var sum float64
			for _, ch := range t.children[c-t.n] {
				sum += stab[ch-t.n]
			}
			// The reference holds the sum in a C float (_hdbscan_tree.pyx get_clusters,
			// "cdef float subtree_stability"), CONVENTIONS.md §7.
			sub := float64(float32(sum))
			if sub > stab[c-t.n] {
				candidates[c] = false
				stab[c-t.n] = sub
			} else {
				buf = t.descendants(c, buf[:0])
				for _, d := range buf {
					candidates[d] = false
				}
			}
		}
		if eps != 0 && hasClusterTree {
			var eom []int
			for c := lo; c < t.n+t.clusters; c++ {
				if candidates[c] {
					eom = append(eom, c)
				}
			}
			selected = map[int]bool{}
			if len(eom) == 1 && eom[0] == root {
				if allowSingle {
					selected[root] = true
				}
			} else {
				selected = t.epsilonSearch(eom, eps, allowSingle)
			}
			for c := range candidates {
				candidates[c] = selected[c]
			}
		}
	case Leaf:
		var leaves []int
		if hasClusterTree {
			for c := root; c < t.n+t.clusters; c++ {
				if len(t.children[c-t.n]) == 0 && (c == root || t.parentOf[c-t.n] >= 0) {
					leaves = append(leaves, c)
				}
			}
		}
		if eps != 0 {
			selected = t.epsilonSearch(leaves, eps, allowSingle)
		} else {
			selected = map[int]bool{}
			for _, l := range leaves {
				selected[l] = true
			}
		}
		for c := range candidates {
			candidates[c] = selected[c]
		}
	}
	var out []int
	for c := lo; c < t.n+t.clusters; c++ {
		if candidates[c] {
			out = append(out, c)
		}
	}
	return out, stab
}

// epsilonSearch is the reference's epsilon_search: clusters born below eps are replaced by
// their nearest ancestor born above eps (CONVENTIONS.md §7). Leaves are visited in
// ascending id order.
func (t *treeInfo) epsilonSearch(leaves []int, eps float64, allowSingle bool) map[int]bool {
	selected := map[int]bool{}
	processed := map[int]bool{}
	var buf []int
	for _, leaf := range leaves {
		if t.birthEps(leaf) < eps {
			if processed[leaf] {
				continue
			}
			c := t.traverseUpwards(leaf, eps, allowSingle)
			selected[c] = true
			buf = t.descendants(c, buf[:0])
			for _, d := range buf {
				processed[d] = true
			}
		} else {
			selected[leaf] = true
		}
	}
	return selected
}

func (t *treeInfo) traverseUpwards(leaf int, eps float64, allowSingle bool) int {
	for {
		parent := t.parentOf[leaf-t.n]
		if parent == t.n {
			if allowSingle {
				return parent
			}
			return leaf
		}
		if t.birthEps(parent) > eps {
			return parent
		}
		leaf = parent
	}
}

// labels is the reference's do_labelling: each point takes the label of its nearest selected
// ancestor; points under the root only are noise, except with a single selected root
// (CONVENTIONS.md §7).
func (t *treeInfo) labels(selected []int, allowSingle bool, eps float64) ([]int, []int) {
	label := make(map[int]int, len(selected))
	for i, c := range selected {
		label[c] = i
	}
	// nearest selected ancestor (or root) of each cluster, resolved top-down
	owner := make([]int, t.clusters)
	for c := t.n; c < t.n+t.clusters; c++ {
		if _, ok := label[c]; ok || c == t.n {
			owner[c-t.n] = c
			continue
		}
		p := t.parentOf[c-t.n]
		if p < 0 {
			owner[c-t.n] = c
			continue
		}
		owner[c-t.n] = owner[p-t.n] // parents have smaller ids, so are resolved first
	}
	rootMax := math.Inf(-1)
	for _, r := range t.rows {
		if r.Parent == t.n && r.Lambda > rootMax {
			rootMax = r.Lambda
		}
	}
	out := make([]int, t.n)
	owners := make([]int, t.n)
	for i := 0; i < t.n; i++ {
		out[i] = -1
		ri := t.pointRow[i]
		if ri < 0 {
			owners[i] = -1
			continue
		}
		row := t.rows[ri]
		c := owner[row.Parent-t.n]
		owners[i] = c
		if c != t.n {
			out[i] = label[c]
			continue
		}
		if l, ok := label[c]; ok && len(selected) == 1 && allowSingle {
			if eps != 0 {
				if row.Lambda >= 1/eps {
					out[i] = l
				}
			} else if row.Lambda >= rootMax {
				out[i] = l
			}
		}
	}
	return out, owners
}

// probabilities is the reference's get_probabilities (CONVENTIONS.md §8).
func (t *treeInfo) probabilities(labels []int, selected []int) []float64 {
	out := make([]float64, t.n)
	for _, r := range t.rows {
		if r.Child >= t.n || labels[r.Child] < 0 {
			continue
		}
		c := selected[labels[r.Child]]
		maxL := t.death[c-t.n]
		if maxL == 0 || math.IsInf(r.Lambda, 0) || math.IsNaN(r.Lambda) {
			out[r.Child] = 1
		} else {
			out[r.Child] = math.Min(r.Lambda, maxL) / maxL
		}
	}
	return out
}

// outlierScores is GLOSH as the reference computes it (CONVENTIONS.md §8).
func (t *treeInfo) outlierScores() []float64 {
	deaths := append([]float64(nil), t.death...)
	for i := len(t.rows) - 1; i >= 0; i-- {
		r := t.rows[i]
		if r.Child < t.n {
			continue
		}
		if deaths[r.Child-t.n] > deaths[r.Parent-t.n] {
			deaths[r.Parent-t.n] = deaths[r.Child-t.n]
		}
	}
	out := make([]float64, t.n)
	for _, r := range t.rows {
		if r.Child >= t.n {
			continue
		}
		lmax := deaths[r.Parent-t.n]
		if lmax == 0 || math.IsInf(r.Lambda, 0) || math.IsNaN(r.Lambda) {
			out[r.Child] = 0
		} else {
			out[r.Child] = (lmax - r.Lambda) / lmax
		}
	}
	return out
}

// persistence is the reference's get_stability_scores (CONVENTIONS.md §8).
func (t *treeInfo) persistence(labels []int, selected []int, stab []float64) []float64 {
	maxLambda := math.Inf(-1)
	for _, r := range t.rows {
		if r.Lambda > maxLambda {
			maxLambda = r.Lambda
		}
	}
	sizes := make([]int, len(selected))
	for _, l := range labels {
		if l >= 0 {
			sizes[l]++
		}
	}
	out := make([]float64, len(selected))
	for i, c := range selected {
		if math.IsInf(maxLambda, 0) || maxLambda == 0 || sizes[i] == 0 {
			out[i] = 1
		} else {
			out[i] = stab[c-t.n] / (float64(sizes[i]) * maxLambda)
		}
	}
	return out
}
