package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lowRankData returns n×d data with a decaying spectrum: rank k signal plus small noise.
func lowRankData(rng *rand.Rand, n, d, k int) []float32 {
	x := make([]float32, n*d)
	for c := 0; c < k; c++ {
		amp := math.Pow(0.7, float64(c)) * 3
		dir := randFloats(rng, d, 1/math.Sqrt(float64(d)))
		for i := 0; i < n; i++ {
			z := float32(rng.NormFloat64() * amp)
			for j := 0; j < d; j++ {
				x[i*d+j] += z * dir[j]
			}
		}
	}
	for i := range x {
		x[i] += float32(rng.NormFloat64() * 1e-3)
	}
	return x
}

func flatLayout(d int) *Layout {
	l := &Layout{Family: SD1, Selection: SelectAll, Modules: []LayoutModule{{Name: "lora_unet_x", Out: d - 1, In: 1, Rank: 1}}}
	l.finish()
	return l
}

// referencePCA centres x and takes gonum's SVD: singular values and right vectors.
func referencePCA(t *testing.T, x []float32, n, d int, std bool) ([]float64, *mat.Dense) {
	t.Helper()
	X := mat.NewDense(n, d, f64(x))
	for j := 0; j < d; j++ {
		col := mat.Col(nil, j, X)
		mu := 0.0
		for _, v := range col {
			mu += v
		}
		mu /= float64(n)
		ss := 0.0
		for _, v := range col {
			ss += (v - mu) * (v - mu)
		}
		sd := 1.0
		if std {
			sd = math.Sqrt(ss / float64(n-1))
		}
		for i := range col {
			X.Set(i, j, (col[i]-mu)/sd)
		}
	}
	var svd mat.SVD
	require.True(t, svd.Factorize(X, mat.SVDThin))
	var V mat.Dense
	svd.VTo(&V)
	return svd.Values(nil), &V
}

func TestSpaceMatchesReferenceSVD(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n, d, k, m = 40, 300, 12, 8
	x := lowRankData(rng, n, d, k)
	for _, c := range []struct {
		method PCAMethod
		std    bool
		tol    float64
	}{{PCAGram, false, 1e-5}, {PCAGram, true, 1e-5}, {PCARandomized, false, 1e-3}} {
		t.Run(string(c.method), func(t *testing.T) {
			sp, err := BuildSpace(context.Background(), flatLayout(d), x, n, &SpaceOptions{Components: m, Method: c.method, Standardize: c.std, Seed: 1})
			require.NoError(t, err)
			require.Equal(t, m, sp.M())
			sv, V := referencePCA(t, x, n, d, c.std)
			for j := 0; j < m; j++ {
				assert.InDelta(t, 1, sp.Singular[j]/sv[j], c.tol, "singular value %d", j)
				assert.Less(t, relVecErr(sp.Components[j*d:(j+1)*d], mat.Col(nil, j, V)), 100*c.tol, "component %d", j)
			}
			// Projection and back-projection of a training vector.
			coef, err := sp.Project(context.Background(), x[:d], 1, nil)
			require.NoError(t, err)
			back, err := sp.BackProject(coef)
			require.NoError(t, err)
			// Back-projecting then projecting again gives the same coefficients.
			again, err := sp.Project(context.Background(), back, 1, nil)
			require.NoError(t, err)
			for k := range coef {
				assert.InDelta(t, coef[k], again[k], 1e-4*math.Abs(coef[0]), "coefficient %d", k)
			}
		})
	}
}

func TestSpaceSaveLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	const n, d = 10, 50
	x := lowRankData(rng, n, d, 4)
	lay := flatLayout(d)
	lay.Modules[0].Ref = randFloats(rng, d-1, 1)
	sp, err := BuildSpace(context.Background(), lay, x, n, &SpaceOptions{Components: 3, Standardize: true})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "space.safetensors")
	require.NoError(t, sp.Save(path))
	got, err := LoadSpace(path)
	require.NoError(t, err)
	assert.Equal(t, sp.Mean, got.Mean)
	assert.Equal(t, sp.Std, got.Std)
	assert.Equal(t, sp.Components, got.Components)
	assert.Equal(t, sp.Singular, got.Singular)
	assert.Equal(t, sp.N, got.N)
	assert.Equal(t, lay.Modules[0].Ref, got.Layout.Modules[0].Ref)
	assert.Equal(t, lay.Dim, got.Layout.Dim)
	assert.Equal(t, 0, got.Layout.Find("lora_unet_x"))

	// A LoRA file is not a space.
	other := filepath.Join(t.TempDir(), "lora.safetensors")
	require.NoError(t, safetensors.WriteFile(other, []safetensors.Tensor{{Name: "a", DType: safetensors.F32, Shape: []int{1}, Data: make([]byte, 4)}}, nil))
	_, err = LoadSpace(other)
	assert.ErrorIs(t, err, ErrLayout)
}

func TestSpaceBadInput(t *testing.T) {
	_, err := BuildSpace(context.Background(), flatLayout(4), make([]float32, 4), 1, nil)
	assert.ErrorIs(t, err, ErrLayout)
	_, err = BuildSpace(context.Background(), flatLayout(4), make([]float32, 8), 2, nil)
	assert.ErrorIs(t, err, ErrLayout, "constant vectors have no components")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = BuildSpace(ctx, flatLayout(4), []float32{1, 2, 3, 4, 0, 1, 0, 1}, 2, nil)
	assert.ErrorIs(t, err, context.Canceled)
}
