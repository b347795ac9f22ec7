package hdbscan

import (
	"fmt"
	"math"
	"sort"
)

// model is what prediction needs from a fit: the points, their core distances, the
// condensed tree and the selected clusters.
type model struct {
	m          *matrix
	metric     Metric
	minSamples int
	core       []float64
	tree       *treeInfo
	label      []int     // label of each cluster id - n: its selected ancestor's, or -1
	maxLambda  []float64 // death of the selected ancestor, per cluster id - n
}

func newModel(m *matrix, core []float64, r *Result, p params) *model {
	t := newTreeInfo(r.Condensed, m.n)
	md := &model{m: m, metric: p.Metric, minSamples: p.minSamples, core: core, tree: t,
		label: make([]int, t.clusters), maxLambda: make([]float64, t.clusters)}
	for i := range md.label {
		md.label[i] = -1
	}
	selected := r.selected
	for l, c := range selected {
		md.label[c-m.n] = l
		md.maxLambda[c-m.n] = t.death[c-m.n]
		for _, s := range t.descendants(c, nil) {
			md.label[s-m.n] = l
			md.maxLambda[s-m.n] = t.death[c-m.n]
		}
	}
	return md
}

// Predict places new points in the fitted clustering without changing it, as the
// reference's approximate_predict does: each point joins the tree through its nearest
// mutual-reachability neighbour among its 2·min_samples nearest fitted points, at
// lambda = 1/that distance, and takes the label of the selected cluster it falls in
// (-1 for noise) with probability min(lambda, death)/death of that cluster. The core
// distances of the fitted points are the fit's (the reference's prediction data
// recomputes them with the point itself counted; see doc.go).
//
// points holds the new points row-major with the fitted points' dimension.
func (r *Result) Predict(points []float32) (labels []int, probabilities []float64, err error) {
	md := r.model
	if md == nil {
		return nil, nil, fmt.Errorf("hdbscan: predict: result has no fitted model: %w", ErrInput)
	}
	d := md.m.d
	if len(points)%d != 0 {
		return nil, nil, fmt.Errorf("hdbscan: predict: %d coordinates are not a whole number of points of the fitted dimension %d: %w", len(points), d, ErrInput)
	}
	np := len(points) / d
	labels = make([]int, np)
	probabilities = make([]float64, np)
	k := min(2*md.minSamples, md.m.n)
	q := &matrix{n: 1, d: md.m.d}
	type nd struct {
		i int
		d float64
	}
	buf := make([]nd, 0, md.m.n)
	for pi := range np {
		q.x = q.x[:0]
		for c, v32 := range points[pi*d : (pi+1)*d] {
			v := float64(v32)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("hdbscan: predict: point %d, coordinate %d is %v: %w", pi, c, v, ErrInput)
			}
			q.x = append(q.x, v)
		}
		if md.metric == Cosine {
			var s float64
			for _, v := range q.x {
				s += float64(v * v)
			}
			if s == 0 {
				return nil, nil, fmt.Errorf("hdbscan: predict: point %d is the zero vector: %w", pi, ErrInput)
			}
			s = math.Sqrt(s)
			for c := range q.x {
				q.x[c] /= s
			}
		}
		buf = buf[:0]
		for i := 0; i < md.m.n; i++ {
			buf = append(buf, nd{i, distTo(md.m, i, q.x, md.metric)})
		}
		sort.SliceStable(buf, func(a, b int) bool { return buf[a].d < buf[b].d })
		nbrs := buf[:k]
		// the new point's core distance: index min_samples of its neighbour distances
		pc := nbrs[min(md.minSamples, k-1)].d
		best, bestMR := -1, math.Inf(1)
		for _, nb := range nbrs {
			mr := math.Max(math.Max(md.core[nb.i], pc), nb.d)
			if mr < bestMR {
				best, bestMR = nb.i, mr
			}
		}
		lambda := math.MaxFloat64
		if bestMR > 0 {
			lambda = 1 / bestMR
		}
		labels[pi], probabilities[pi] = md.place(best, lambda)
	}
	return labels, probabilities, nil
}

// place finds the cluster a new point joins through fitted point nb at lambda.
func (md *model) place(nb int, lambda float64) (int, float64) {
	t := md.tree
	row := t.rows[t.pointRow[nb]]
	c := row.Parent
	if row.Lambda > lambda {
		for c > t.n && t.birth[c-t.n] >= lambda {
			c = t.parentOf[c-t.n]
		}
	}
	l := md.label[c-t.n]
	if l < 0 {
		return -1, 0
	}
	ml := md.maxLambda[c-t.n]
	if ml > 0 {
		return l, math.Min(ml, lambda) / ml
	}
	return l, 1
}

// distTo is the metric's exact distance from fitted point i to the row q.
func distTo(m *matrix, i int, q []float64, metric Metric) float64 {
	a := m.row(i)
	var s float64
	if metric == Cosine {
		for k := range a {
			s += float64(a[k] * q[k])
		}
		return math.Max(0, 1-s)
	}
	for k := range a {
		t := a[k] - q[k]
		s += float64(t * t)
	}
	return math.Sqrt(s)
}
