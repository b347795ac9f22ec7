package hdbscan

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNumpyArgsort checks the introsort port against the permutation numpy 1.24 produced
// for every golden case (intermediates.mst_argsort).
func TestNumpyArgsort(t *testing.T) {
	for name, c := range loadCases(t) {
		w := make([]float64, len(c.Intermediates.MSTUnsorted))
		for i, e := range c.Intermediates.MSTUnsorted {
			w[i] = float64(e[2])
		}
		assert.Equal(t, c.Intermediates.MSTArgsort, numpyArgsort(w), name)
	}
}

// TestNumpyArgsortSorts checks that the port sorts, on inputs that reach every branch: many
// ties, presorted, reversed, and an organ-pipe shape.
func TestNumpyArgsortSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 17, 100, 5000} {
		inputs := map[string][]float64{}
		ties, pre, rev, pipe := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			ties[i] = float64(rng.IntN(4))
			pre[i] = float64(i)
			rev[i] = float64(n - i)
			pipe[i] = float64(min(i, n-i))
		}
		inputs["ties"], inputs["presorted"], inputs["reversed"], inputs["pipe"] = ties, pre, rev, pipe
		for name, v := range inputs {
			p := numpyArgsort(v)
			seen := make([]bool, n)
			for _, j := range p {
				seen[j] = true
			}
			for _, s := range seen {
				assert.True(t, s, "%s %d: not a permutation", name, n)
			}
			assert.True(t, sort.SliceIsSorted(p, func(a, b int) bool { return v[p[a]] < v[p[b]] }), "%s %d", name, n)
		}
	}
	// the heapsort fallback on its own
	v := []float64{5, 1, 4, 1, 3, 9, 2, 6}
	a := []int{0, 1, 2, 3, 4, 5, 6, 7}
	npyHeapsort(v, a)
	assert.True(t, sort.SliceIsSorted(a, func(x, y int) bool { return v[a[x]] < v[a[y]] }))
}
