package hdbscan

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFastMatchesGolden checks the float32 fast mode against the reference labels of the
// 64-dimensional cases: adjusted Rand index at least 0.99, core distances within float32
// rounding.
func TestFastMatchesGolden(t *testing.T) {
	cases := loadCases(t)
	for _, name := range []string{"clip64_mcs15", "clip64_mcs40_ms10_leaf"} {
		c := cases[name]
		require.NotNil(t, c, name)
		t.Run(name, func(t *testing.T) {
			res, err := fitRows(context.Background(), c.X, c.options(Fast))
			require.NoError(t, err)
			assert.Equal(t, Fast, res.Mode)
			for i, v := range c.Intermediates.CoreDistances {
				if !assert.InDelta(t, float64(v), res.CoreDistances[i], 1e-5*float64(v)+1e-6, "core %d", i) {
					break
				}
			}
			ari := adjustedRand(c.expected().Labels, res.Labels)
			t.Logf("%s: ARI %.5f (%d clusters, %d noise; reference %d, %d)", name, ari,
				res.NumClusters, res.NumNoise(), c.expected().NClusters, c.expected().NNoise)
			assert.GreaterOrEqual(t, ari, 0.99)
		})
	}
}

// TestFastMatchesExactCLIPLike compares fast and exact labels on generated unit vectors.
func TestFastMatchesExactCLIPLike(t *testing.T) {
	for _, metric := range []Metric{Euclidean, Cosine} {
		t.Run(metric.String(), func(t *testing.T) {
			pts := clipLike(7, 1000, 96, 8, 0.1, 0.6)
			o := Options{MinClusterSize: 15, Metric: metric, Mode: Exact}
			ex, err := fitRows(context.Background(), pts, &o)
			require.NoError(t, err)
			o.Mode = Fast
			fa, err := fitRows(context.Background(), pts, &o)
			require.NoError(t, err)
			ari := adjustedRand(ex.Labels, fa.Labels)
			t.Logf("%v: ARI %.5f, exact %d clusters %d noise, fast %d clusters %d noise", metric, ari,
				ex.NumClusters, ex.NumNoise(), fa.NumClusters, fa.NumNoise())
			assert.GreaterOrEqual(t, ari, 0.99)
			assert.Equal(t, 8, ex.NumClusters)
			for i := range ex.CoreDistances {
				if !assert.InDelta(t, ex.CoreDistances[i], fa.CoreDistances[i], 1e-5) {
					break
				}
			}
		})
	}
}

// TestKernelLevels runs the blocked kernel at every level the CPU has (AVX-512, AVX2, plain
// C) against the portable Go one, on shapes that leave remainders in both directions.
func TestKernelLevels(t *testing.T) {
	defer forceKernel(2)
	pts := clipLike(9, 83, 45, 3, 0.1, 0.5)
	m, err := newMatrixRows(pts, Euclidean)
	require.NoError(t, err)
	x := toFloat32(m)
	norms := sqNorms(x, 83, 45)
	want := make([]float32, 11*83)
	sqBlockGo(x[:11*45], 11, x, 83, 45, want)
	for level := 2; level >= 0; level-- {
		got := forceKernel(level)
		if got != level {
			continue
		}
		out := make([]float32, 11*83)
		sqBlockNorms(x[:11*45], 11, x, 83, 45, norms[:11], norms, out)
		for i := range out {
			require.InDelta(t, want[i], out[i], 1e-4, "level %d entry %d", level, i)
		}
		sqBlock(x[:11*45], 11, x, 83, 45, out)
		for i := range out {
			require.InDelta(t, want[i], out[i], 1e-5, "level %d entry %d", level, i)
		}
		t.Logf("level %d (%s) agrees", level, kernelName())
	}
}

// TestKernelsAgree checks the compiled distance kernel against the portable Go one.
func TestKernelsAgree(t *testing.T) {
	pts := clipLike(3, 70, 37, 3, 0.1, 0.5)
	m, err := newMatrixRows(pts, Euclidean)
	require.NoError(t, err)
	x := toFloat32(m)
	a := make([]float32, 5*70)
	b := make([]float32, 5*70)
	sqBlock(x[:5*37], 5, x, 70, 37, a)
	sqBlockGo(x[:5*37], 5, x, 70, 37, b)
	for i := range a {
		require.InDelta(t, b[i], a[i], 1e-5, "entry %d", i)
	}
	t.Logf("kernel: %s", kernelName())
	// one Prim step both ways
	core := make([]float64, 70)
	for i := range core {
		core[i] = 0.1
	}
	runStep := func(f func(x []float32, m, d int, q []float32, cc, alpha float64, cosine bool,
		core, curD []float64, curSrc, orig []int32, cur int32) int) ([]float64, int) {
		curD := make([]float64, 70)
		src := make([]int32, 70)
		orig := make([]int32, 70)
		for i := range curD {
			curD[i] = math.Inf(1)
			orig[i] = int32(i)
		}
		best := f(x, 70, 37, x[:37], 0.2, 0.5, false, core, curD, src, orig, 0)
		return curD, best
	}
	d1, b1 := runStep(primChunk)
	d2, b2 := runStep(primChunkGo)
	assert.Equal(t, b2, b1)
	assert.InDeltaSlice(t, d2, d1, 1e-5)
}

// TestLazyPrimMatchesPrim checks the batched Prim against the plain float32 Prim loop: the
// same multiset of MST weights (a minimum spanning tree's weights are unique).
func TestLazyPrimMatchesPrim(t *testing.T) {
	for _, alpha := range []float64{1, 0.7} {
		pts := clipLike(5, 2500, 48, 12, 0.15, 0.7)
		p, err := (&Options{MinClusterSize: 10, Alpha: alpha}).resolve(len(pts))
		require.NoError(t, err)
		m, err := newMatrixRows(pts, p.Metric)
		require.NoError(t, err)
		x := toFloat32(m)
		nb := &neighbours{k: graphDegree(p, m.n)}
		core, err := fastCore(context.Background(), x, m.n, m.d, p.minSamples, nb, p)
		require.NoError(t, err)
		lazy, err := lazyPrim(context.Background(), x, m.n, m.d, core, nb, p)
		require.NoError(t, err)
		plain, err := fastPrim(context.Background(), x, m.n, m.d, core, p)
		require.NoError(t, err)
		a, b := sortEdges(lazy), sortEdges(plain)
		require.Len(t, a, len(b))
		for i := range a {
			if !assert.InDelta(t, b[i].Weight, a[i].Weight, 1e-5*b[i].Weight, "alpha %v, edge %d", alpha, i) {
				break
			}
		}
	}
}
