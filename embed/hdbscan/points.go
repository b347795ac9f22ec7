package hdbscan

import (
	"fmt"
	"math"
)

// matrix holds n points of d coordinates, row-major.
type matrix struct {
	n, d   int
	x      []float64
	maxAbs float64 // largest coordinate magnitude
}

// Coordinate bounds that keep sums of squared differences finite.
const (
	// maxCoordinate bounds coordinates for float64 distances: (2·1e100)² summed over any
	// realistic dimension stays far below math.MaxFloat64 (1.8e308).
	maxCoordinate = 1e100
	// maxCoordinate32 bounds coordinates for the float32 modes: (2·1e15)² summed over a
	// million dimensions is 4e36, below math.MaxFloat32 (3.4e38).
	maxCoordinate32 = 1e15
)

func (m *matrix) row(i int) []float64 { return m.x[i*m.d : (i+1)*m.d] }

// newMatrix validates points and copies them into a matrix. For the cosine metric the rows
// are scaled to unit length, as scikit-learn's cosine_distances does before its dot product.
func newMatrix(points [][]float64, metric Metric) (*matrix, error) {
	n := len(points)
	if n == 0 {
		return nil, fmt.Errorf("hdbscan: no points: %w", ErrInput)
	}
	d := len(points[0])
	if d == 0 {
		return nil, fmt.Errorf("hdbscan: point 0 has no coordinates: %w", ErrInput)
	}
	m := &matrix{n: n, d: d, x: make([]float64, n*d)}
	for i, p := range points {
		if len(p) != d {
			return nil, fmt.Errorf("hdbscan: point %d has %d coordinates, point 0 has %d: %w", i, len(p), d, ErrInput)
		}
		for k, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("hdbscan: point %d, coordinate %d is %v: %w", i, k, v, ErrInput)
			}
			if math.Abs(v) > maxCoordinate {
				return nil, fmt.Errorf("hdbscan: point %d, coordinate %d is %v, beyond ±%g where squared distances overflow: %w", i, k, v, maxCoordinate, ErrInput)
			}
			if a := math.Abs(v); a > m.maxAbs {
				m.maxAbs = a
			}
		}
		copy(m.row(i), p)
	}
	if metric == Cosine {
		m.maxAbs = 1 // unit rows below
		for i := 0; i < n; i++ {
			r := m.row(i)
			var s float64
			for _, v := range r {
				s += float64(v * v)
			}
			if s == 0 {
				return nil, fmt.Errorf("hdbscan: point %d is the zero vector, which has no cosine distance: %w", i, ErrInput)
			}
			norm := math.Sqrt(s)
			for k := range r {
				r[k] /= norm
			}
		}
	}
	if m.allIdentical() {
		return nil, fmt.Errorf("hdbscan: all %d points are identical, so there is no density to cluster: %w", n, ErrInput)
	}
	return m, nil
}

func (m *matrix) allIdentical() bool {
	first := m.row(0)
	for i := 1; i < m.n; i++ {
		r := m.row(i)
		for k, v := range r {
			if v != first[k] {
				return false
			}
		}
	}
	return true
}

// distFunc returns the exact float64 distance of the metric.
func (m *matrix) distFunc(metric Metric) func(i, j int) float64 {
	if metric == Cosine {
		return func(i, j int) float64 {
			a, b := m.row(i), m.row(j)
			var s float64
			for k := range a {
				s += float64(a[k] * b[k])
			}
			d := 1 - s
			if d < 0 {
				d = 0
			}
			return d
		}
	}
	return func(i, j int) float64 {
		a, b := m.row(i), m.row(j)
		var s float64
		for k := range a {
			t := a[k] - b[k]
			// The conversion forbids fusing into an FMA, which would change the last bits
			// against the reference (CONVENTIONS.md §2).
			s += float64(t * t)
		}
		return math.Sqrt(s)
	}
}
