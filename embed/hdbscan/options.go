package hdbscan

import (
	"errors"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/internal/progress"
)

// Metric selects the distance between points.
type Metric int

const (
	// Euclidean is sqrt(sum_k (x_k - y_k)^2), summed in coordinate order (the reference's
	// EuclideanDistance and KD-tree rdist).
	Euclidean Metric = iota
	// Cosine is 1 - x·y / (|x| |y|), scikit-learn's cosine distance.
	Cosine
)

// String returns the metric's name as the -metric flag spells it.
func (m Metric) String() string {
	switch m {
	case Euclidean:
		return "euclidean"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// ParseMetric returns the metric named "euclidean" or "cosine".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "euclidean", "":
		return Euclidean, nil
	case "cosine":
		return Cosine, nil
	}
	return 0, fmt.Errorf("hdbscan: unknown metric %q (want euclidean or cosine)", s)
}

// Selection is the flat-cluster extraction method.
type Selection int

const (
	// EOM selects clusters by Excess of Mass (the reference's default "eom").
	EOM Selection = iota
	// Leaf selects the leaves of the condensed cluster tree ("leaf").
	Leaf
)

// String returns "eom" or "leaf".
func (s Selection) String() string {
	switch s {
	case EOM:
		return "eom"
	case Leaf:
		return "leaf"
	}
	return fmt.Sprintf("Selection(%d)", int(s))
}

// ParseSelection returns the method named "eom" or "leaf".
func ParseSelection(s string) (Selection, error) {
	switch s {
	case "eom", "":
		return EOM, nil
	case "leaf":
		return Leaf, nil
	}
	return 0, fmt.Errorf("hdbscan: unknown cluster selection method %q (want eom or leaf)", s)
}

// Mode chooses how the minimum spanning tree is computed.
type Mode int

const (
	// Auto is Exact while n²·d is at most ExactWork, Fast below ApproximateThreshold points
	// and Approximate from there.
	Auto Mode = iota
	// Exact computes every distance in float64 in coordinate order and runs the reference's
	// Prim loop: it reproduces the reference bit for bit. O(n²·d) time, O(n) memory.
	Exact
	// Fast runs the same Prim loop on float32 distances computed by a vectorized kernel,
	// in parallel, with O(n·k) memory. The MST is exact up to float32 rounding.
	Fast
	// Approximate builds a k-nearest-neighbour graph, takes its minimum spanning forest and
	// joins the pieces with their shortest mutual-reachability links: much faster for
	// n ≥ 100,000, with labels close to the exact ones.
	Approximate
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Exact:
		return "exact"
	case Fast:
		return "fast"
	case Approximate:
		return "approximate"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults.
const (
	// DefaultMinClusterSize is the reference's default min_cluster_size (hdbscan_.py).
	DefaultMinClusterSize = 5
	// ExactWork bounds n²·d for Auto to take the exact float64 path (a few seconds: 1,500
	// points of 768 dimensions, 40,000 points of 2).
	ExactWork = 2e9
	// ApproximateThreshold is the number of points from which Auto takes the approximate
	// kNN-graph path (the n ≥ 100,000).
	ApproximateThreshold = 100000
	// DefaultApproxNeighbors is the kNN-graph degree of the approximate path when
	// Options.ApproxNeighbors is zero; it is raised to 2·min_samples when that is larger.
	DefaultApproxNeighbors = 32
)

// Progress is one report of a long stage, shared by the module's packages. Fit's stages
// are "core" (core distances: Done counts points, or pairs in the fast mode), "mst" (Done
// counts spanning-tree edges out of n-1) and "tree" (the trees and labels, 0 then 1 of 1).
// Loss is always 0.
type Progress = progress.Progress

// Options are the HDBSCAN parameters. The zero value means the reference's defaults:
// min_cluster_size 5, min_samples = min_cluster_size, eom, epsilon 0, alpha 1, no single
// cluster, Euclidean.
type Options struct {
	// MinClusterSize is the smallest group that counts as a cluster (>= 2; 0 = 5).
	MinClusterSize int
	// MinSamples is the neighbourhood size of the core distance (0 = MinClusterSize). By
	// default the point itself is not counted, as in the reference; see SelfInclusive.
	MinSamples int
	// SelfInclusive counts the point itself among its MinSamples neighbours, as
	// scikit-learn's sklearn.cluster.HDBSCAN and the original HDBSCAN* do: MinSamples m
	// then equals the reference's m-1.
	SelfInclusive bool
	// Selection is EOM (default) or Leaf.
	Selection Selection
	// Epsilon is cluster_selection_epsilon: clusters born below this distance are merged
	// into their ancestor born above it.
	Epsilon float64
	// Alpha divides pairwise distances in the mutual reachability (0 = 1).
	Alpha float64
	// AllowSingleCluster lets EOM select the root.
	AllowSingleCluster bool
	// ReferenceTieOrder sorts the spanning-tree edges with numpy 1.24's introsort, as the
	// reference does, instead of stably: tied weights then come out in the reference's
	// order, and the exact mode gives the reference's outputs themselves (with numpy 1.24;
	// newer numpy on AVX-512 or AVX2 CPUs orders ties differently again).
	ReferenceTieOrder bool
	// Metric is Euclidean (default) or Cosine.
	Metric Metric
	// Mode is Auto (default), Exact, Fast or Approximate.
	Mode Mode
	// Workers bounds the goroutines of the fast and approximate paths (0 = GOMAXPROCS).
	Workers int
	// ApproxNeighbors is the kNN-graph degree of the approximate path (0 = default).
	ApproxNeighbors int
	// Progress, when set, is called as stages advance (see [Progress] for the stage names).
	// Returning from it never stops the work: cancel the context instead.
	Progress func(Progress)
}

// params are validated options with defaults filled in.
type params struct {
	Options
	minSamples int // reference convention (self excluded), clamped to n-1, >= 1
	alpha      float64
}

// ErrInput marks every error caused by the caller's data: no points, ragged or non-finite
// coordinates, fewer points than MinClusterSize, and the like.
var ErrInput = errors.New("invalid input")

// ErrInvalidOptions marks an Options field outside its range. Errors read
// "hdbscan: invalid options: Field: reason".
var ErrInvalidOptions = errors.New("hdbscan: invalid options")

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...))
}

// resolve validates the options, fills in the defaults and derives the parameters of a fit
// of n points. A nil o means the defaults.
func (o *Options) resolve(n int) (params, error) {
	var p params
	if o != nil {
		p.Options = *o
	}
	if p.MinClusterSize == 0 {
		p.MinClusterSize = DefaultMinClusterSize
	}
	switch {
	case p.MinClusterSize < 2:
		return p, invalid("MinClusterSize", "%d is below 2", p.MinClusterSize)
	case p.MinSamples < 0:
		return p, invalid("MinSamples", "%d is negative", p.MinSamples)
	case p.Selection != EOM && p.Selection != Leaf:
		return p, invalid("Selection", "%v is neither EOM nor Leaf", p.Selection)
	case p.Epsilon < 0 || math.IsNaN(p.Epsilon) || math.IsInf(p.Epsilon, 0):
		return p, invalid("Epsilon", "%v is not a non-negative finite number", p.Epsilon)
	case p.Alpha < 0 || math.IsNaN(p.Alpha) || math.IsInf(p.Alpha, 0):
		return p, invalid("Alpha", "%v is not a positive finite number", p.Alpha)
	case p.Metric != Euclidean && p.Metric != Cosine:
		return p, invalid("Metric", "%v is neither Euclidean nor Cosine", p.Metric)
	case p.Mode < Auto || p.Mode > Approximate:
		return p, invalid("Mode", "%v is not a mode", p.Mode)
	case p.Workers < 0:
		return p, invalid("Workers", "%d is negative", p.Workers)
	case p.ApproxNeighbors < 0:
		return p, invalid("ApproxNeighbors", "%d is negative", p.ApproxNeighbors)
	}
	p.alpha = p.Alpha
	if p.alpha == 0 {
		p.alpha = 1
	}
	if n < p.MinClusterSize {
		return p, fmt.Errorf("hdbscan: %d points: %w: fewer than min cluster size %d", n, ErrInput, p.MinClusterSize)
	}
	ms := p.MinSamples
	if ms == 0 {
		ms = p.MinClusterSize
	}
	if p.SelfInclusive {
		ms--
	}
	// hdbscan_.py hdbscan(): min_samples = min(n-1, min_samples); 0 -> 1.
	p.minSamples = max(min(ms, n-1), 1)
	return p, nil
}

func (p params) progress(stage string, done, total int) {
	if p.Progress != nil {
		p.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}
