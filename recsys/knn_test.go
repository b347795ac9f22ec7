package recsys

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// denseTopKCosine is the straightforward dense computation of RecBole's ComputeSimilarity over
// the rows of X: the full cosine matrix with shrink and the 1e-6 term, zero diagonal, then
// each row's k largest non-zero entries (ties to the lower index).
func denseTopKCosine(X [][]float64, k int, shrink float64) [][]float64 {
	n := len(X)
	norm := make([]float64, n)
	for a := range X {
		for _, v := range X[a] {
			norm[a] += v * v
		}
		norm[a] = math.Sqrt(norm[a])
	}
	W := make([][]float64, n)
	for a := 0; a < n; a++ {
		sim := make([]float64, n)
		for b := 0; b < n; b++ {
			if a == b {
				continue
			}
			var dot float64
			for f := range X[a] {
				dot += X[a][f] * X[b][f]
			}
			sim[b] = dot / (norm[a]*norm[b] + shrink + 1e-6)
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool { return sim[order[x]] > sim[order[y]] })
		W[a] = make([]float64, n)
		for _, b := range order[:min(k, n)] {
			W[a][b] = sim[b]
		}
	}
	return W
}

func randomSeqs(rng *rand.Rand, users, items, maxLen int) [][]int32 {
	seqs := make([][]int32, users)
	for u := range seqs {
		n := 3 + rng.IntN(maxLen-2)
		for j := 0; j < n; j++ {
			seqs[u] = append(seqs[u], int32(rng.IntN(items)))
		}
	}
	return seqs
}

func denseMatrix(seqs [][]int32, items int) [][]float64 {
	X := make([][]float64, len(seqs))
	for u, s := range seqs {
		X[u] = make([]float64, items)
		for _, it := range s {
			X[u][it]++
		}
	}
	return X
}

func transposeDense(X [][]float64) [][]float64 {
	T := make([][]float64, len(X[0]))
	for j := range T {
		T[j] = make([]float64, len(X))
		for i := range X {
			T[j][i] = X[i][j]
		}
	}
	return T
}

func TestTopKCosineMatchesDenseWithRealValues(t *testing.T) {
	// Real-valued entries make ties impossible, so a small k is compared exactly.
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, cols = 40, 30
	X := make([][]float64, rows)
	A := &CSR{Rows: rows, Cols: cols, Indptr: make([]int, rows+1)}
	for r := range X {
		X[r] = make([]float64, cols)
		for c := 0; c < cols; c++ {
			if rng.Float64() < 0.3 {
				v := float32(rng.Float64()*2 + 0.1)
				X[r][c] = float64(v)
				A.Indices = append(A.Indices, int32(c))
				A.Values = append(A.Values, v)
			}
		}
		A.Indptr[r+1] = len(A.Indices)
	}
	for _, k := range []int{1, 5, 100} {
		for _, shrink := range []float64{0, 3} {
			got, err := topKCosine(context.Background(), A, k, shrink, 2)
			require.NoError(t, err)
			want := denseTopKCosine(X, k, shrink)
			for a := 0; a < rows; a++ {
				row := make([]float64, rows)
				idx, val := got.Row(a)
				for p, b := range idx {
					row[b] = float64(val[p])
				}
				for b := range row {
					assert.InDelta(t, want[a][b], row[b], 1e-6, "k=%d shrink=%v W[%d][%d]", k, shrink, a, b)
				}
			}
		}
	}
}

func TestKNNScoresMatchDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const users, items = 50, 35
	seqs := randomSeqs(rng, users, items, 9)
	s := &Split{NumItems: items, Train: seqs, Valid: make([]int32, users), Test: make([]int32, users)}
	R := denseMatrix(seqs, items)
	// k at least the number of entities keeps every neighbour, so ties cannot change the set.
	ik := must(NewItemKNN(&KNNOptions{K: items, Shrink: 2}))
	require.NoError(t, ik.Fit(context.Background(), s))
	Wi := denseTopKCosine(transposeDense(R), items, 2) // Wi[i][j] = sim(i, j)
	uk := must(NewUserKNN(&KNNOptions{K: users}))
	require.NoError(t, uk.Fit(context.Background(), s))
	Wu := denseTopKCosine(R, users, 0)
	dst := make([]float32, items)
	for u := 0; u < users; u++ {
		require.NoError(t, ik.Score(u, seqs[u], dst))
		for i := 0; i < items; i++ {
			var want float64
			for j := 0; j < items; j++ {
				want += R[u][j] * Wi[i][j]
			}
			assert.InDelta(t, want, float64(dst[i]), 1e-6, "itemknn user %d item %d", u, i)
		}
		require.NoError(t, uk.Score(u, seqs[u], dst))
		for i := 0; i < items; i++ {
			var want float64
			for v := 0; v < users; v++ {
				want += Wu[u][v] * R[v][i]
			}
			assert.InDelta(t, want, float64(dst[i]), 1e-6, "userknn user %d item %d", u, i)
		}
	}
	// A cold user with user 0's history gets user 0's neighbours plus user 0 itself.
	require.NoError(t, uk.Score(-1, seqs[0], dst))
	var sum float32
	for _, v := range dst {
		sum += v
	}
	assert.Greater(t, sum, float32(0))
}
