package hdbscan

import (
	"context"
	"fmt"
)

// Result is a fitted clustering: the reference's labels_, probabilities_, outlier_scores_,
// cluster_persistence_, and the trees behind them.
type Result struct {
	// Labels holds one cluster label per point, in input order; -1 is noise.
	Labels []int
	// Probabilities is the strength of each point's membership in its cluster (0 for noise).
	Probabilities []float64
	// OutlierScores are the GLOSH scores (NaN where the reference gives NaN, see doc.go).
	OutlierScores []float64
	// Persistence is the reference's cluster_persistence_, one per label.
	Persistence []float64
	// NumClusters is the number of labels (max label + 1).
	NumClusters int
	// CoreDistances holds each point's core distance.
	CoreDistances []float64
	// MST holds the spanning-tree edges in the order they were found.
	MST []Edge
	// SingleLinkage is the single-linkage tree (n-1 rows, scipy layout).
	SingleLinkage []Merge
	// Condensed is the condensed tree, rows in the reference's order.
	Condensed []CondensedRow
	// Mode is the path that computed the MST.
	Mode Mode

	model    *model
	selected []int // condensed-tree id of each label's cluster
}

// NumNoise counts the points labelled -1.
func (r *Result) NumNoise() int {
	k := 0
	for _, l := range r.Labels {
		if l < 0 {
			k++
		}
	}
	return k
}

// Fit clusters n = len(points)/dim points given row-major, dim coordinates each. A nil
// opts (or the zero Options) gives the reference's defaults; an option out of range is an
// error wrapping [ErrInvalidOptions]. Bad data (no points, a length that is not a multiple
// of dim, NaN or Inf, fewer points than MinClusterSize, all points identical) gives an
// error wrapping [ErrInput]. Cancelling ctx stops every stage.
func Fit(ctx context.Context, points []float32, dim int, opts *Options) (*Result, error) {
	n, err := numPoints(points, dim)
	if err != nil {
		return nil, err
	}
	p, err := opts.resolve(n)
	if err != nil {
		return nil, err
	}
	m, err := newMatrix(points, dim, p.Metric)
	if err != nil {
		return nil, err
	}
	return fit(ctx, m, p)
}

// fitRows is Fit over float64 rows, for the tests that replay the reference's float64
// golden data bit for bit.
func fitRows(ctx context.Context, points [][]float64, opts *Options) (*Result, error) {
	p, err := opts.resolve(len(points))
	if err != nil {
		return nil, err
	}
	m, err := newMatrixRows(points, p.Metric)
	if err != nil {
		return nil, err
	}
	return fit(ctx, m, p)
}

func fit(ctx context.Context, m *matrix, p params) (*Result, error) {
	var err error
	mode := p.Mode
	if mode == Auto {
		mode = autoMode(m.n, m.d)
	}
	if mode != Exact && m.maxAbs > maxCoordinate32 {
		return nil, fmt.Errorf("hdbscan: a coordinate of magnitude %g is beyond ±%g, where the %v mode's float32 distances overflow (scale the data or use the exact mode): %w",
			m.maxAbs, maxCoordinate32, mode, ErrInput)
	}
	var core []float64
	var mst []Edge
	switch mode {
	case Exact:
		dist := m.distFunc(p.Metric)
		core, err = exactCore(ctx, m, dist, p.minSamples, p.Workers, p)
		if err != nil {
			return nil, fmt.Errorf("hdbscan: core distances: %w", err)
		}
		mst, err = exactPrim(ctx, m, dist, core, p.alpha, p)
	case Fast:
		core, mst, err = fastMST(ctx, m, p)
	case Approximate:
		core, mst, err = approxMST(ctx, m, p)
	}
	if err != nil {
		return nil, fmt.Errorf("hdbscan: spanning tree (%v): %w", mode, err)
	}
	res, err := finish(ctx, m.n, core, mst, p)
	if err != nil {
		return nil, fmt.Errorf("hdbscan: trees: %w", err)
	}
	res.Mode = mode
	res.model = newModel(m, core, res, p)
	return res, nil
}

// finish turns core distances and a spanning tree into the full result.
func finish(ctx context.Context, n int, core []float64, mst []Edge, p params) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.progress("tree", 0, 1)
	var sorted []Edge
	if p.ReferenceTieOrder {
		w := make([]float64, len(mst))
		for i, e := range mst {
			w[i] = e.Weight
		}
		sorted = make([]Edge, len(mst))
		for i, j := range numpyArgsort(w) {
			sorted[i] = mst[j]
		}
	} else {
		sorted = sortEdges(mst)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slt := singleLinkage(sorted, n)
	rows := condense(slt, n, p.MinClusterSize)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := newTreeInfo(rows, n)
	selected, stab := t.selection(p.Selection, p.AllowSingleCluster, p.Epsilon)
	labels, _ := t.labels(selected, p.AllowSingleCluster, p.Epsilon)
	res := &Result{
		Labels:        labels,
		Probabilities: t.probabilities(labels, selected),
		OutlierScores: t.outlierScores(),
		Persistence:   t.persistence(labels, selected, stab),
		NumClusters:   len(selected),
		CoreDistances: core,
		MST:           mst,
		SingleLinkage: slt,
		Condensed:     rows,
		selected:      selected,
	}
	p.progress("tree", 1, 1)
	return res, nil
}

// autoMode is the mode Auto takes for n points of d coordinates.
func autoMode(n, d int) Mode {
	switch {
	case n >= ApproximateThreshold:
		return Approximate
	case float64(n)*float64(n)*float64(d) > ExactWork:
		return Fast
	}
	return Exact
}
