package hdbscan

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func grid(n int) [][]float64 {
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = []float64{float64(i % 7), float64(i / 7)}
	}
	return pts
}

func TestFitRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	nan := grid(20)
	nan[13] = []float64{1, math.NaN()}
	inf := grid(20)
	inf[4] = []float64{math.Inf(-1), 0}
	ragged := grid(20)
	ragged[9] = []float64{1, 2, 3}
	same := make([][]float64, 10)
	for i := range same {
		same[i] = []float64{0.5, 0.5}
	}
	zero := grid(20)
	zero[0] = []float64{0, 0}
	for _, tc := range []struct {
		name string
		pts  [][]float64
		opts *Options
		want string
	}{
		{"nan", nan, &Options{}, "point 13, coordinate 1 is NaN"},
		{"inf", inf, &Options{}, "point 4, coordinate 0 is -Inf"},
		{"ragged", ragged, &Options{}, "point 9 has 3 coordinates, point 0 has 2"},
		{"empty", nil, &Options{}, "0 points"},
		{"no coordinates", [][]float64{{}, {}, {}, {}, {}}, &Options{}, "point 0 has no coordinates"},
		{"too few", grid(4), &Options{}, "4 points"},
		{"identical", same, nil, "all 10 points are identical"},
		{"zero vector cosine", zero, &Options{Metric: Cosine}, "point 0 is the zero vector"},
		{"huge", append(grid(20), []float64{1e200, 0}), &Options{}, "point 20, coordinate 0 is 1e+200"},
		{"huge for float32", append(grid(20), []float64{1e20, 0}), &Options{Mode: Fast}, "fast mode's float32 distances overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := fitRows(ctx, tc.pts, tc.opts)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.True(t, errors.Is(err, ErrInput), err.Error())
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "hdbscan: "), err.Error())
		})
	}
}

// TestFitFlat checks the shape of Fit's row-major input and that it computes what the
// float64 rows path computes on float32 values.
func TestFitFlat(t *testing.T) {
	ctx := context.Background()
	pts, d := flatten(grid(20))
	for _, tc := range []struct {
		name string
		pts  []float32
		dim  int
		want string
	}{
		{"zero dim", pts, 0, "dimension 0"},
		{"negative dim", pts, -2, "dimension -2"},
		{"ragged", pts[:len(pts)-1], 2, "39 coordinates are not a whole number of points of dimension 2"},
		{"empty", nil, 2, "0 points"},
		{"nan", append(slices.Clone(pts), 1, float32(math.NaN())), 2, "point 20, coordinate 1 is NaN"},
		{"inf", append(slices.Clone(pts), float32(math.Inf(1)), 1), 2, "point 20, coordinate 0 is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Fit(ctx, tc.pts, tc.dim, nil)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, ErrInput)
			assert.ErrorContains(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "hdbscan: "), err.Error())
		})
	}
	got, err := Fit(ctx, pts, d, &Options{Mode: Exact})
	require.NoError(t, err)
	want, err := fitRows(ctx, grid(20), &Options{Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, want.Labels, got.Labels)
	assert.Equal(t, want.MST, got.MST)
	assert.Equal(t, want.CoreDistances, got.CoreDistances)
}

// TestOptionsResolve is the table of every option's out-of-range values, which are refused
// with ErrInvalidOptions, and of its zero value, which is the default.
func TestOptionsResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"MinClusterSize 1", Options{MinClusterSize: 1}, "MinClusterSize: 1 is below 2"},
		{"MinClusterSize negative", Options{MinClusterSize: -5}, "MinClusterSize: -5 is below 2"},
		{"MinSamples negative", Options{MinSamples: -2}, "MinSamples: -2 is negative"},
		{"Selection", Options{Selection: Selection(7)}, "Selection: Selection(7)"},
		{"Epsilon negative", Options{Epsilon: -0.1}, "Epsilon: -0.1"},
		{"Epsilon NaN", Options{Epsilon: math.NaN()}, "Epsilon: NaN"},
		{"Epsilon Inf", Options{Epsilon: math.Inf(1)}, "Epsilon: +Inf"},
		{"Alpha negative", Options{Alpha: -1}, "Alpha: -1"},
		{"Alpha NaN", Options{Alpha: math.NaN()}, "Alpha: NaN"},
		{"Alpha Inf", Options{Alpha: math.Inf(1)}, "Alpha: +Inf"},
		{"Metric", Options{Metric: Metric(3)}, "Metric: Metric(3)"},
		{"Mode high", Options{Mode: Mode(9)}, "Mode: Mode(9)"},
		{"Mode negative", Options{Mode: Mode(-1)}, "Mode: Mode(-1)"},
		{"Workers", Options{Workers: -1}, "Workers: -1 is negative"},
		{"ApproxNeighbors", Options{ApproxNeighbors: -3}, "ApproxNeighbors: -3 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.resolve(100)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidOptions)
			assert.Equal(t, "hdbscan: invalid options: "+tc.want, err.Error()[:len("hdbscan: invalid options: ")+len(tc.want)])
			pts, d := flatten(grid(20))
			_, err = Fit(context.Background(), pts, d, &tc.opts)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	// Zero and nil mean the reference's defaults.
	for _, o := range []*Options{nil, {}} {
		p, err := o.resolve(100)
		require.NoError(t, err)
		assert.Equal(t, DefaultMinClusterSize, p.MinClusterSize)
		assert.Equal(t, DefaultMinClusterSize, p.minSamples)
		assert.Equal(t, 1.0, p.alpha)
		assert.Equal(t, EOM, p.Selection)
		assert.Equal(t, Euclidean, p.Metric)
		assert.Equal(t, Auto, p.Mode)
		assert.Zero(t, p.Epsilon)
		assert.Zero(t, p.Workers)
		assert.Zero(t, p.ApproxNeighbors)
	}
	// Data, not options: fewer points than MinClusterSize.
	_, err := (&Options{MinClusterSize: 30}).resolve(20)
	assert.ErrorIs(t, err, ErrInput)
	assert.NotErrorIs(t, err, ErrInvalidOptions)
	// The caller's options are not modified.
	o := &Options{}
	_, err = o.resolve(100)
	require.NoError(t, err)
	assert.Equal(t, &Options{}, o)
}

// TestFitCancelled cancels the context before a fit and at the first report of each stage,
// in every mode: the fit returns the context's error and reaches no later stage.
func TestFitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pts, d := flatten(clipLike(3, 400, 16, 4, 0.1, 0.5))
	for _, mode := range []Mode{Exact, Fast, Approximate} {
		_, err := Fit(ctx, pts, d, &Options{Mode: mode})
		assert.ErrorIs(t, err, context.Canceled, mode.String())
	}
	stages := []string{"core", "mst", "tree"}
	for _, mode := range []Mode{Exact, Fast, Approximate} {
		for si, stage := range stages {
			t.Run(mode.String()+"/"+stage, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var mu sync.Mutex
				var seen []string
				opts := &Options{Mode: mode, MinClusterSize: 10, Progress: func(p Progress) {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, p.Stage)
					if p.Stage == stage {
						cancel()
					}
				}}
				res, err := Fit(ctx, pts, d, opts)
				assert.Nil(t, res)
				assert.ErrorIs(t, err, context.Canceled)
				mu.Lock()
				defer mu.Unlock()
				assert.Contains(t, seen, stage)
				for _, later := range stages[si+1:] {
					assert.NotContains(t, seen, later)
				}
			})
		}
	}
}

func TestMinSamplesConventions(t *testing.T) {
	// CONVENTIONS.md §1: 1-D points 0 1 3 6 10; the reference (self excluded) with
	// min_samples 2 has core distances 3 2 3 4 7, the self-inclusive convention 1 1 2 3 4.
	pts := [][]float64{{0}, {1}, {3}, {6}, {10}}
	res, err := fitRows(context.Background(), pts, &Options{MinClusterSize: 2, MinSamples: 2, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{3, 2, 3, 4, 7}, res.CoreDistances)
	res, err = fitRows(context.Background(), pts, &Options{MinClusterSize: 2, MinSamples: 2, SelfInclusive: true, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 1, 2, 3, 4}, res.CoreDistances)
	// min_samples above n-1 is clamped to n-1 (hdbscan_.py).
	res, err = fitRows(context.Background(), pts, &Options{MinClusterSize: 2, MinSamples: 50, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{10, 9, 7, 6, 10}, res.CoreDistances)
}

func TestReadCSV(t *testing.T) {
	pts, d, err := ReadCSV(strings.NewReader("1, 2\n\n3,4.5\n-1e3,0\n"), "p.csv")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4.5, -1e3, 0}, pts)
	assert.Equal(t, 2, d)
	for _, tc := range []struct{ in, want string }{
		{"1,2\n3\n", "p.csv line 2: 1 values, earlier lines have 2"},
		{"1,2\n3,x\n", `p.csv line 2, column 2: "x" is not a number`},
		{"1,2\n3,NaN\n", "p.csv line 2, column 2: NaN"},
		{"1,2\ninf,3\n", "p.csv line 2, column 1: +Inf"},
		{"\n\n", "p.csv: no points"},
		{"1,2\n1e39,0\n", "p.csv line 2, column 1: 1e+39 is beyond the float32 range"},
		{"1,2\n1e400,0\n", "p.csv line 2, column 1: +Inf"},
	} {
		_, _, err := ReadCSV(strings.NewReader(tc.in), "p.csv")
		require.Error(t, err, tc.in)
		assert.ErrorIs(t, err, ErrInput)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("1,2\n3,4\n")
	f.Add("1e308,-1e308\n0,0\n")
	f.Add(",\n")
	f.Add("1,2\n3\n")
	f.Fuzz(func(t *testing.T, s string) {
		pts, d, err := ReadCSV(strings.NewReader(s), "fuzz.csv")
		if err != nil {
			return
		}
		require.Positive(t, d)
		require.Zero(t, len(pts)%d)
		for _, v := range pts {
			require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
		}
		if len(pts) >= 2*d {
			// Fit must never panic on what ReadCSV accepts.
			_, _ = Fit(context.Background(), pts, d, &Options{MinClusterSize: 2, Mode: Exact})
		}
	})
}

func TestAutoMode(t *testing.T) {
	assert.Equal(t, Exact, autoMode(1500, 64))
	assert.Equal(t, Exact, autoMode(30000, 2))
	assert.Equal(t, Fast, autoMode(20000, 768))
	assert.Equal(t, Fast, autoMode(2000, 768))
	assert.Equal(t, Approximate, autoMode(100000, 768))
	pts, d := flatten(grid(30))
	res, err := Fit(context.Background(), pts, d, nil)
	require.NoError(t, err)
	assert.Equal(t, Exact, res.Mode)
}

// FuzzFit feeds arbitrary coordinates and parameters to every mode: an error or a result,
// never a panic, and a result is consistent.
func FuzzFit(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"), uint8(2), uint8(1), uint8(0))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), uint8(3), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mcs, ms, flags uint8) {
		const d = 2
		var pts [][]float64
		for i := 0; i+2*d <= len(data) && len(pts) < 200; i += 2 * d {
			p := make([]float64, d)
			for k := 0; k < d; k++ {
				// small integers with many ties and duplicates, sometimes huge or non-finite
				v := float64(int8(data[i+2*k])) * float64(data[i+2*k+1]%4)
				switch data[i+2*k+1] {
				case 0xff:
					v = math.NaN()
				case 0xfe:
					v = math.Inf(1)
				case 0xfd:
					v = 1e30
				}
				p[k] = v
			}
			pts = append(pts, p)
		}
		o := Options{MinClusterSize: int(mcs % 12), MinSamples: int(ms % 8), Mode: Mode(flags % 4),
			AllowSingleCluster: flags&4 != 0, Metric: Metric(flags >> 3 % 2)}
		if flags&16 != 0 {
			o.Selection = Leaf
		}
		if flags&32 != 0 {
			o.Epsilon = 0.5
		}
		if flags&64 != 0 {
			o.Alpha = 0.5
		}
		res, err := fitRows(context.Background(), pts, &o)
		if err != nil {
			if !errors.Is(err, ErrInvalidOptions) {
				require.ErrorIs(t, err, ErrInput)
			}
			return
		}
		require.Len(t, res.Labels, len(pts))
		require.Len(t, res.MST, len(pts)-1)
		for _, l := range res.Labels {
			require.True(t, l >= -1 && l < res.NumClusters)
		}
		one, _ := flatten(pts[:1])
		_, _, err = res.Predict(one)
		require.NoError(t, err)
	})
}
