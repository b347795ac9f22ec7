//go:build cgo && amd64

package w2w

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kernelTol bounds the difference between the C and Go factor kernels relative to the sum of
// the absolute terms: both form every product exactly in float64 and differ only in the order
// of the sums.
const kernelTol = 1e-13

// kernelShapes are factor shapes with odd sizes, ranks that are not multiples of the vector
// widths (4 and 8) or of the tile sizes (3, 4), and rows past one conversion chunk.
var kernelShapes = []struct{ m, n, r int }{
	{1, 1, 1}, {2, 3, 1}, {7, 5, 2}, {3, 17, 3}, {33, 9, 5}, {64, 48, 4}, {100, 31, 7},
	{5, 200, 8}, {257, 129, 9}, {31, 63, 12}, {320, 768, 16}, {40, 360, 17}, {300, 120, 32},
	{1100, 1300, 32}, {8, 6, 33}, {96, 288, 64}, {70, 90, 100}, {1025, 2049, 48},
}

// withKernelLevels runs f once per C kernel variant this CPU supports.
func withKernelLevels(t *testing.T, f func(t *testing.T)) {
	defer setKernelLevel(nativeKernelLevel)
	for _, lv := range []struct {
		level int
		name  string
	}{{kernelAVX2, "avx2"}, {kernelAVX512, "avx512"}} {
		if setKernelLevel(lv.level) != lv.level {
			t.Logf("CPU lacks %s; variant not run", lv.name)
			continue
		}
		t.Run(lv.name, f)
	}
}

// absGram returns Σ_i |x_ik|·|x_il| for the Gram tolerance.
func absGram(g func(a []float32, p, q int) []float64, a []float32, p, q int) []float64 {
	abs := make([]float32, len(a))
	for i, v := range a {
		abs[i] = float32(math.Abs(float64(v)))
	}
	return g(abs, p, q)
}

// TestCKernelsMatchGo compares the C factor kernels (every variant the CPU runs) with the
// pure-Go reference kernels on many shapes.
func TestCKernelsMatchGo(t *testing.T) {
	if nativeKernelLevel == kernelGo {
		t.Skip("CPU has neither AVX2+FMA nor AVX-512: the Go kernels run")
	}
	withKernelLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 8))
		for _, s := range kernelShapes {
			t.Run(fmt.Sprintf("%dx%d_r%d", s.m, s.n, s.r), func(t *testing.T) {
				a := randFloats(rng, s.m*s.r, 1)
				b := randFloats(rng, s.r*s.n, 1)
				check := func(name string, got, want, scale []float64) {
					require.Len(t, got, len(want), name)
					for i := range want {
						assert.InDelta(t, want[i], got[i], kernelTol*scale[i]+1e-300, "%s[%d]", name, i)
					}
				}
				check("AᵀA", cGramCols(a, s.m, s.r), gramOfColumns(a, s.m, s.r), absGram(gramOfColumns, a, s.m, s.r))
				check("B·Bᵀ", cGramRows(b, s.r, s.n), gramOfRows(b, s.r, s.n), absGram(gramOfRows, b, s.r, s.n))
				for _, mv := range []struct {
					name       string
					x          []float32
					rows, cols int
					trans      bool
				}{{"A·x", a, s.m, s.r, false}, {"Aᵀ·x", a, s.m, s.r, true}, {"B·x", b, s.r, s.n, false}, {"Bᵀ·x", b, s.r, s.n, true}} {
					nx := mv.cols
					if mv.trans {
						nx = mv.rows
					}
					x := f64(randFloats(rng, nx, 1))
					absA := make([]float32, len(mv.x))
					for i, v := range mv.x {
						absA[i] = float32(math.Abs(float64(v)))
					}
					absX := make([]float64, len(x))
					for i, v := range x {
						absX[i] = math.Abs(v)
					}
					check(mv.name, cMatVec(mv.x, mv.rows, mv.cols, x, mv.trans), matVec64(mv.x, mv.rows, mv.cols, x, mv.trans), matVec64(absA, mv.rows, mv.cols, absX, mv.trans))
				}
			})
		}
	})
}

// TestCKernelTripletsMatchGo runs the whole rank-1 reduction on both kernel sets: the
// triplets agree to 1e-10, far inside the 1e-5 the full-SVD test asks of either.
func TestCKernelTripletsMatchGo(t *testing.T) {
	if nativeKernelLevel == kernelGo {
		t.Skip("CPU has neither AVX2+FMA nor AVX-512: the Go kernels run")
	}
	withKernelLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 2))
		for _, s := range kernelShapes {
			sf := ScaledFactor{Factor: Factor{Rows: s.m, Cols: s.n, Rank: s.r, A: randFloats(rng, s.m*s.r, 0.1), B: randFloats(rng, s.r*s.n, 0.1)}, Scale: -0.5}
			got, err := topTriplet(sf, cKernels)
			require.NoError(t, err)
			want, err := topTriplet(sf, goKernels)
			require.NoError(t, err)
			name := fmt.Sprintf("%dx%d_r%d", s.m, s.n, s.r)
			assert.InDelta(t, 1, got.Sigma/want.Sigma, 1e-10, name)
			assert.InDelta(t, 1, got.Energy/want.Energy, 1e-10, name)
			assert.Less(t, relVecErr(got.U, f64(want.U)), 1e-6, name) // float32 outputs
			assert.Less(t, relVecErr(got.V, f64(want.V)), 1e-6, name)
		}
	})
}

// TestCCentreMatchesGo checks that the C centring gives the Go result bit for bit (each
// column is summed in row order in both) for every variant the CPU runs.
func TestCCentreMatchesGo(t *testing.T) {
	defer setKernelLevel(nativeKernelLevel)
	rng := rand.New(rand.NewPCG(1, 7))
	const n, d = 13, centreColBlock + 45
	x := randFloats(rng, n*d, 3)
	setKernelLevel(kernelGo)
	want := append([]float32(nil), x...)
	wantMean, _, err := centre(context.Background(), want, n, d, 2, false)
	require.NoError(t, err)
	for _, level := range []int{kernelAVX2, kernelAVX512} {
		if setKernelLevel(level) != level {
			continue
		}
		got := append([]float32(nil), x...)
		mean, _, err := centre(context.Background(), got, n, d, 2, false)
		require.NoError(t, err)
		assert.Equal(t, wantMean, mean, "level %d", level)
		assert.Equal(t, want, got, "level %d", level)
	}
}

// TestCTopCoefMatchesGo checks the C r×r step against the Go one (same algorithm and order
// of operations) on Gram matrices of random factors, ranks 1 to 100, and that both refuse a
// rank-deficient G_A.
func TestCTopCoefMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	gram := func(rows, r int) []float64 {
		a := randFloats(rng, rows*r, 1)
		return gramOfColumns(a, rows, r)
	}
	for _, r := range []int{1, 2, 3, 5, 8, 17, 32, 33, 64, 100} {
		ga, gb := gram(r+7, r), gram(2*r+3, r)
		want, okW := cholTopCoef(ga, gb, r)
		got, okG := cTopCoef(ga, gb, r)
		require.True(t, okW, "r=%d", r)
		require.True(t, okG, "r=%d", r)
		scale := 0.0
		for _, x := range want {
			scale = math.Max(scale, math.Abs(x))
		}
		for i := range want {
			assert.InDelta(t, want[i], got[i], 1e-12*scale, "r=%d c[%d]", r, i)
		}
	}
	// Rank 3 of 5: the Cholesky route refuses in both.
	a := randFloats(rng, 20*3, 1)
	b := make([]float32, 20*5)
	for i := 0; i < 20; i++ {
		copy(b[i*5:], a[i*3:i*3+3])
		b[i*5+3], b[i*5+4] = a[i*3], a[i*3+1]
	}
	ga := gramOfColumns(b, 20, 5)
	_, okW := cholTopCoef(ga, ga, 5)
	_, okG := cTopCoef(ga, ga, 5)
	assert.False(t, okW)
	assert.False(t, okG)
}

// TestCCrossMatchesGo compares the C products of the PCA (Gram X·Xᵀ and X·Bᵀ) with the Go
// ones for every variant the CPU runs, on odd shapes (rows not multiples of the 3×3 and 4×4
// tiles, columns not multiples of the vector width or the 1,024-column slices), to 1e-5 of
// the absolute sums (both sum float32 products in float32 over short runs), and checks that
// the result is the same bit for bit for any number of workers.
func TestCCrossMatchesGo(t *testing.T) {
	if nativeKernelLevel == kernelGo {
		t.Skip("CPU has neither AVX2+FMA nor AVX-512: the Go kernels run")
	}
	defer setKernelLevel(nativeKernelLevel)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2, 2))
	for _, s := range []struct{ n, m, d int }{{1, 1, 1}, {5, 3, 17}, {37, 9, 70001}, {70, 66, 4097}, {130, 5, 1500}} {
		x := randFloats(rng, s.n*s.d, 1)
		b := randFloats(rng, s.m*s.d, 1)
		abs := func(v []float32) []float32 {
			out := make([]float32, len(v))
			for i, f := range v {
				out[i] = float32(math.Abs(float64(f)))
			}
			return out
		}
		setKernelLevel(kernelGo)
		cpu := CPU{Workers: 2}
		wantG, scaleG := make([]float64, s.n*s.n), make([]float64, s.n*s.n)
		require.NoError(t, cpu.Gram(ctx, x, s.n, s.d, wantG))
		require.NoError(t, cpu.Gram(ctx, abs(x), s.n, s.d, scaleG))
		wantP, scaleP := make([]float64, s.n*s.m), make([]float64, s.n*s.m)
		require.NoError(t, cpu.MulT(ctx, x, s.n, s.d, b, s.m, wantP))
		require.NoError(t, cpu.MulT(ctx, abs(x), s.n, s.d, abs(b), s.m, scaleP))
		for _, level := range []int{kernelAVX2, kernelAVX512} {
			if setKernelLevel(level) != level {
				continue
			}
			var first []float64
			for _, w := range []int{1, 3} {
				g := make([]float64, s.n*s.n)
				require.NoError(t, CPU{Workers: w}.Gram(ctx, x, s.n, s.d, g))
				for i := range g {
					assert.InDelta(t, wantG[i], g[i], 1e-5*scaleG[i], "%v level %d gram[%d]", s, level, i)
				}
				if first == nil {
					first = g
				} else {
					assert.Equal(t, first, g, "workers")
				}
			}
			p := make([]float64, s.n*s.m)
			require.NoError(t, cpu.MulT(ctx, x, s.n, s.d, b, s.m, p))
			for i := range p {
				assert.InDelta(t, wantP[i], p[i], 1e-5*scaleP[i], "%v level %d mult[%d]", s, level, i)
			}
		}
	}
}

// TestCCombineMatchesGo compares the C combination C·X with the Go one (both accumulate in
// float64) for every variant the CPU runs, with m not a multiple of the 4-row tile and d not
// a multiple of the column step or chunk.
func TestCCombineMatchesGo(t *testing.T) {
	if nativeKernelLevel == kernelGo {
		t.Skip("CPU has neither AVX2+FMA nor AVX-512: the Go kernels run")
	}
	defer setKernelLevel(nativeKernelLevel)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	for _, s := range []struct{ m, n, d int }{{1, 1, 1}, {3, 7, 33}, {10, 37, 5000}, {5, 2, 2*combineColChunk + 9}} {
		coef := f64(randFloats(rng, s.m*s.n, 1))
		x := randFloats(rng, s.n*s.d, 1)
		setKernelLevel(kernelGo)
		want := make([]float32, s.m*s.d)
		require.NoError(t, CPU{}.Combine(ctx, coef, s.m, x, s.n, s.d, want))
		for _, level := range []int{kernelAVX2, kernelAVX512} {
			if setKernelLevel(level) != level {
				continue
			}
			got := make([]float32, s.m*s.d)
			require.NoError(t, CPU{}.Combine(ctx, coef, s.m, x, s.n, s.d, got))
			for i := range want {
				assert.InDelta(t, want[i], got[i], 1e-6*math.Max(1, math.Abs(float64(want[i]))), "%v level %d [%d]", s, level, i)
			}
		}
	}
}
