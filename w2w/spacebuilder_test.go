package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lowRankPopulation returns n vectors of length d: a mean, rank-q structure with decaying
// scales and small noise.
func lowRankPopulation(rng *rand.Rand, n, d, q int) []float32 {
	basis := make([][]float64, q)
	for j := range basis {
		basis[j] = make([]float64, d)
		for i := range basis[j] {
			basis[j][i] = rng.NormFloat64()
		}
	}
	x := make([]float32, n*d)
	for s := 0; s < n; s++ {
		for j := 0; j < q; j++ {
			z := rng.NormFloat64() * 10 / float64(j+1)
			for i := 0; i < d; i++ {
				x[s*d+i] += float32(z * basis[j][i])
			}
		}
		for i := 0; i < d; i++ {
			x[s*d+i] += float32(1 + 0.01*rng.NormFloat64())
		}
	}
	return x
}

func plainLayout(d int) *Layout {
	lay := &Layout{Family: "sd1", Selection: SelectAll, Modules: []LayoutModule{{Name: "m", Out: d / 2, In: d - d/2, Rank: 1}}}
	lay.finish()
	return lay
}

// subspaceCosines returns the cosines of the principal angles between the row spaces of two
// m×d orthonormal-row matrices (the singular values of A·Bᵀ).
func subspaceCosines(a, b []float32, m, d int) []float64 {
	p := mat.NewDense(m, m, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			p.Set(i, j, dot32(a[i*d:(i+1)*d], b[j*d:(j+1)*d]))
		}
	}
	var svd mat.SVD
	svd.Factorize(p, mat.SVDNone)
	return svd.Values(nil)
}

func buildStream(t *testing.T, lay *Layout, x []float32, n int, o *SpaceBuilderOptions) *Space {
	b, err := NewSpaceBuilder(lay, o)
	require.NoError(t, err)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		require.NoError(t, b.AddVector(ctx, x[i*lay.Dim:(i+1)*lay.Dim]))
	}
	if o.Passes == 2 {
		require.NoError(t, b.NextPass(ctx))
		for i := n - 1; i >= 0; i-- {
			require.NoError(t, b.AddVector(ctx, x[i*lay.Dim:(i+1)*lay.Dim]))
		}
	}
	sp, err := b.Finish(ctx)
	require.NoError(t, err)
	return sp
}

func TestSpaceBuilderMatchesInMemoryPCA(t *testing.T) {
	const n, d, q, m = 300, 400, 6, 5
	rng := rand.New(rand.NewPCG(1, 2))
	x := lowRankPopulation(rng, n, d, q)
	lay := plainLayout(d)
	exact, err := BuildSpace(context.Background(), lay, x, n, &SpaceOptions{Components: m, Method: PCAGram})
	require.NoError(t, err)
	for _, passes := range []int{1, 2} {
		sp := buildStream(t, lay, x, n, &SpaceBuilderOptions{Components: m, Passes: passes, Seed: 7, Batch: 7})
		require.Equal(t, m, sp.M())
		cos := subspaceCosines(exact.Components, sp.Components, m, d)
		for _, c := range cos {
			assert.Greater(t, c, 0.999, "passes %d: principal angle cosines %v", passes, cos)
		}
		for j := 0; j < m; j++ {
			assert.InDelta(t, exact.Singular[j], sp.Singular[j], 0.01*exact.Singular[j], "passes %d component %d", passes, j)
		}
		for j := 0; j < d; j++ {
			require.InDelta(t, exact.Mean[j], sp.Mean[j], 1e-4)
		}
		// Projections of held-out vectors agree up to each component's sign.
		held := lowRankPopulation(rand.New(rand.NewPCG(1, 2)), 5, d, q)
		ce, err := exact.Project(context.Background(), held, 5, nil)
		require.NoError(t, err)
		cs, err := sp.Project(context.Background(), held, 5, nil)
		require.NoError(t, err)
		for j := 0; j < m; j++ {
			s := math.Copysign(1, dot32(exact.Components[j*d:(j+1)*d], sp.Components[j*d:(j+1)*d]))
			for i := 0; i < 5; i++ {
				assert.InDelta(t, ce[i*m+j], s*cs[i*m+j], 0.02*math.Abs(exact.Singular[j])/math.Sqrt(n)+1e-3)
			}
		}
	}
}

func TestSpaceBuilderMergeAndCheckpoint(t *testing.T) {
	const n, d, q, m = 200, 300, 5, 4
	rng := rand.New(rand.NewPCG(3, 4))
	x := lowRankPopulation(rng, n, d, q)
	lay := plainLayout(d)
	o := &SpaceBuilderOptions{Components: m, Seed: 11, Batch: 5}
	single := buildStream(t, lay, x, n, o)
	ctx := context.Background()
	parts := make([]*SpaceBuilder, 4)
	for p := range parts {
		b, err := NewSpaceBuilder(lay, o)
		require.NoError(t, err)
		for i := p; i < n; i += 4 {
			require.NoError(t, b.AddVector(ctx, x[i*d:(i+1)*d]))
		}
		parts[p] = b
	}
	// Part 3 goes through a checkpoint.
	path := filepath.Join(t.TempDir(), "part.ckpt")
	require.NoError(t, parts[3].Save(ctx, path))
	resumed, err := LoadSpaceBuilder(ctx, path, lay, o)
	require.NoError(t, err)
	parts[3] = resumed
	for p := 1; p < 4; p++ {
		require.NoError(t, parts[0].Merge(ctx, parts[p]))
	}
	merged, err := parts[0].Finish(ctx)
	require.NoError(t, err)
	for j := 0; j < m; j++ {
		assert.InDelta(t, single.Singular[j], merged.Singular[j], 1e-5*single.Singular[j])
	}
	for _, c := range subspaceCosines(single.Components, merged.Components, m, d) {
		assert.InDelta(t, 1, c, 1e-5)
	}
	// A checkpoint of another seed or layout is refused.
	_, err = LoadSpaceBuilder(ctx, path, lay, &SpaceBuilderOptions{Components: m, Seed: 12})
	assert.ErrorIs(t, err, ErrSketch)
	assert.ErrorContains(t, err, "seed")
	_, err = LoadSpaceBuilder(ctx, path, plainLayout(d+2), nil)
	assert.ErrorIs(t, err, ErrLayout)
}

func TestSpaceBuilderBadInput(t *testing.T) {
	lay := plainLayout(10)
	b, err := NewSpaceBuilder(lay, &SpaceBuilderOptions{Components: 2, RangeSketch: 3, CoRangeSketch: 5})
	require.NoError(t, err)
	ctx := context.Background()
	bad := make([]float32, 10)
	bad[3] = float32(math.NaN())
	assert.ErrorIs(t, b.AddVector(ctx, bad), ErrNonFinite)
	assert.ErrorIs(t, b.AddVector(ctx, make([]float32, 9)), ErrLayout)
	other := &Reduced{Path: "x.safetensors", Family: "sdxl", Modules: []Rank1Module{{Name: "m", Out: 5, In: 5, Sigma: 1, U: make([]float32, 5), V: make([]float32, 5)}}}
	assert.ErrorIs(t, b.Add(ctx, other), ErrLayout)
	shape := &Reduced{Path: "y.safetensors", Family: "sd1", Modules: []Rank1Module{{Name: "m", Out: 4, In: 6, Sigma: 1, U: make([]float32, 4), V: make([]float32, 6)}}}
	assert.ErrorIs(t, b.Add(ctx, shape), ErrLayout)
	assert.Equal(t, 0, b.N())
	missing := filepath.Join(t.TempDir(), "truncated.safetensors")
	assert.Error(t, b.AddFile(ctx, missing))
	require.Len(t, b.Skipped(), 1)
	assert.Equal(t, missing, b.Skipped()[0].Path)
	_, err = NewSpaceBuilder(lay, &SpaceBuilderOptions{Passes: 3})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestSpaceSaveLoadMapped(t *testing.T) {
	const n, d, m = 60, 100, 3
	x := lowRankPopulation(rand.New(rand.NewPCG(5, 6)), n, d, 4)
	lay := plainLayout(d)
	sp, err := BuildSpace(context.Background(), lay, x, n, &SpaceOptions{Components: m})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "space.safetensors")
	require.NoError(t, sp.Save(path))
	got, err := LoadSpace(path)
	require.NoError(t, err)
	defer got.Close()
	assert.NotNil(t, got.mapped, "components are memory-mapped")
	assert.Equal(t, sp.Components, got.Components)
	assert.Equal(t, sp.Singular, got.Singular)
	assert.Equal(t, sp.Mean, got.Mean)
}

func FuzzLoadSpace(f *testing.F) {
	lay := plainLayout(8)
	x := lowRankPopulation(rand.New(rand.NewPCG(7, 8)), 6, 8, 2)
	sp, err := BuildSpace(context.Background(), lay, x, 6, &SpaceOptions{Components: 2})
	require.NoError(f, err)
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.safetensors")
	require.NoError(f, sp.Save(p))
	b, err := readFileBytes(p)
	require.NoError(f, err)
	f.Add(b)
	bld, err := NewSpaceBuilder(lay, &SpaceBuilderOptions{Components: 2, RangeSketch: 3, CoRangeSketch: 5, Batch: 2})
	require.NoError(f, err)
	for i := 0; i < 6; i++ {
		require.NoError(f, bld.AddVector(context.Background(), x[i*8:(i+1)*8]))
	}
	cp := filepath.Join(dir, "seed.ckpt")
	require.NoError(f, bld.Save(context.Background(), cp))
	cb, err := readFileBytes(cp)
	require.NoError(f, err)
	f.Add(cb)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.safetensors")
		require.NoError(t, writeFileBytes(path, data))
		if s, err := LoadSpace(path); err == nil {
			_ = s.Close()
		}
		if b, err := LoadSpaceBuilder(context.Background(), path, nil, nil); err == nil {
			_ = b.Close()
		}
	})
}

func readFileBytes(p string) ([]byte, error) { return os.ReadFile(p) }

func writeFileBytes(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
