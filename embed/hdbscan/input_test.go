package hdbscan

import (
	"context"
	"errors"
	"math"
	"strings"
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
		opts Options
		want string
	}{
		{"nan", nan, Options{}, "point 13, coordinate 1 is NaN"},
		{"inf", inf, Options{}, "point 4, coordinate 0 is -Inf"},
		{"ragged", ragged, Options{}, "point 9 has 3 coordinates, point 0 has 2"},
		{"empty", nil, Options{}, "0 points"},
		{"no coordinates", [][]float64{{}, {}, {}, {}, {}}, Options{}, "point 0 has no coordinates"},
		{"too few", grid(4), Options{}, "4 points"},
		{"min cluster size 1", grid(20), Options{MinClusterSize: 1}, "min cluster size 1"},
		{"negative min samples", grid(20), Options{MinSamples: -2}, "min samples -2"},
		{"identical", same, Options{}, "all 10 points are identical"},
		{"zero vector cosine", zero, Options{Metric: Cosine}, "point 0 is the zero vector"},
		{"negative alpha", grid(20), Options{Alpha: -1}, "alpha -1"},
		{"nan epsilon", grid(20), Options{Epsilon: math.NaN()}, "epsilon NaN"},
		{"bad mode", grid(20), Options{Mode: Mode(9)}, "mode Mode(9)"},
		{"huge", append(grid(20), []float64{1e200, 0}), Options{}, "point 20, coordinate 0 is 1e+200"},
		{"huge for float32", append(grid(20), []float64{1e20, 0}), Options{Mode: Fast}, "fast mode's float32 distances overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Fit(ctx, tc.pts, tc.opts)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.True(t, errors.Is(err, ErrInput), err.Error())
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "hdbscan: "), err.Error())
		})
	}
}

func TestFitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, mode := range []Mode{Exact, Fast, Approximate} {
		_, err := Fit(ctx, grid(50), Options{Mode: mode})
		assert.ErrorIs(t, err, context.Canceled, mode.String())
	}
}

func TestMinSamplesConventions(t *testing.T) {
	// CONVENTIONS.md §1: 1-D points 0 1 3 6 10; the reference (self excluded) with
	// min_samples 2 has core distances 3 2 3 4 7, the self-inclusive convention 1 1 2 3 4.
	pts := [][]float64{{0}, {1}, {3}, {6}, {10}}
	res, err := Fit(context.Background(), pts, Options{MinClusterSize: 2, MinSamples: 2, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{3, 2, 3, 4, 7}, res.CoreDistances)
	res, err = Fit(context.Background(), pts, Options{MinClusterSize: 2, MinSamples: 2, SelfInclusive: true, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 1, 2, 3, 4}, res.CoreDistances)
	// min_samples above n-1 is clamped to n-1 (hdbscan_.py).
	res, err = Fit(context.Background(), pts, Options{MinClusterSize: 2, MinSamples: 50, Mode: Exact})
	require.NoError(t, err)
	assert.Equal(t, []float64{10, 9, 7, 6, 10}, res.CoreDistances)
}

func TestReadCSV(t *testing.T) {
	pts, err := ReadCSV(strings.NewReader("1, 2\n\n3,4.5\n-1e3,0\n"), "p.csv")
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{1, 2}, {3, 4.5}, {-1e3, 0}}, pts)
	for _, tc := range []struct{ in, want string }{
		{"1,2\n3\n", "p.csv line 2: 1 values, earlier lines have 2"},
		{"1,2\n3,x\n", `p.csv line 2, column 2: "x" is not a number`},
		{"1,2\n3,NaN\n", "p.csv line 2, column 2: NaN"},
		{"1,2\ninf,3\n", "p.csv line 2, column 1: +Inf"},
		{"\n\n", "p.csv: no points"},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), "p.csv")
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
		pts, err := ReadCSV(strings.NewReader(s), "fuzz.csv")
		if err != nil {
			return
		}
		for _, p := range pts {
			require.Len(t, p, len(pts[0]))
			for _, v := range p {
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0))
			}
		}
		if len(pts) >= 2 {
			// Fit must never panic on what ReadCSV accepts.
			_, _ = Fit(context.Background(), pts, Options{MinClusterSize: 2, Mode: Exact})
		}
	})
}

func TestAutoMode(t *testing.T) {
	assert.Equal(t, Exact, autoMode(1500, 64))
	assert.Equal(t, Exact, autoMode(30000, 2))
	assert.Equal(t, Fast, autoMode(20000, 768))
	assert.Equal(t, Fast, autoMode(2000, 768))
	assert.Equal(t, Approximate, autoMode(100000, 768))
	res, err := Fit(context.Background(), grid(30), Options{})
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
		res, err := Fit(context.Background(), pts, o)
		if err != nil {
			require.ErrorIs(t, err, ErrInput)
			return
		}
		require.Len(t, res.Labels, len(pts))
		require.Len(t, res.MST, len(pts)-1)
		for _, l := range res.Labels {
			require.True(t, l >= -1 && l < res.NumClusters)
		}
		_, _, err = res.Predict(pts[:1])
		require.NoError(t, err)
	})
}
