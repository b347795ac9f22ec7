package embed

import (
	"cmp"
	"math"
	"slices"
)

// Normalize scales v to unit length in place and returns it; a zero vector is left as is.
func Normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return v
}

// Cosine returns the cosine similarity of a and b (0 when either is zero or the lengths
// differ).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// Match is one result of [TopK]: the index of a candidate and its cosine similarity.
type Match struct {
	Index int
	Score float64
}

// TopK returns the k candidates most similar to query by cosine, best first; ties keep
// the lower index first.
func TopK(query []float32, candidates [][]float32, k int) []Match {
	all := make([]Match, len(candidates))
	for i, c := range candidates {
		all[i] = Match{i, Cosine(query, c)}
	}
	slices.SortStableFunc(all, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
	if k < len(all) {
		all = all[:max(k, 0)]
	}
	return all
}
