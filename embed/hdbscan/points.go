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

// newMatrix validates n = len(points)/dim points given row-major in float32 and copies
// them into a float64 matrix (exactly: every float32 is a float64).
func newMatrix(points []float32, dim int, metric Metric) (*matrix, error) {
	n, err := numPoints(points, dim)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("hdbscan: no points: %w", ErrInput)
	}
	m := &matrix{n: n, d: dim, x: make([]float64, n*dim)}
	for i, v32 := range points {
		v := float64(v32)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("hdbscan: point %d, coordinate %d is %v: %w", i/dim, i%dim, v, ErrInput)
		}
		m.maxAbs = max(m.maxAbs, math.Abs(v))
		m.x[i] = v
	}
	return m.prepare(metric)
}

// numPoints returns the number of points of dimension dim that points holds.
func numPoints(points []float32, dim int) (int, error) {
	if dim <= 0 {
		return 0, fmt.Errorf("hdbscan: dimension %d: %w: must be positive", dim, ErrInput)
	}
	if len(points)%dim != 0 {
		return 0, fmt.Errorf("hdbscan: %d coordinates are not a whole number of points of dimension %d: %w", len(points), dim, ErrInput)
	}
	return len(points) / dim, nil
}

// newMatrixRows is newMatrix for float64 rows: the path of the tests that replay the
// reference's float64 golden data, whose coordinates are not float32 values.
func newMatrixRows(points [][]float64, metric Metric) (*matrix, error) {
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
			m.maxAbs = max(m.maxAbs, math.Abs(v))
		}
		copy(m.row(i), p)
	}
	return m.prepare(metric)
}

// prepare finishes a validated matrix. For the cosine metric the rows are scaled to unit
// length, as scikit-learn's cosine_distances does before its dot product.
func (m *matrix) prepare(metric Metric) (*matrix, error) {
	n := m.n
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
