package embed

import (
	"cmp"
	"errors"
	"fmt"
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

// Match is one result of [MostSimilar]: the index of a candidate and its cosine
// similarity to the query.
type Match struct {
	Index int
	Score float64
}

// MostSimilar returns the k candidates with the highest cosine similarity to query, best
// first; ties keep the lower index first. candidates holds the candidate vectors row-major,
// each of len(query) floats (as [Model.EncodeText] and [Model.EncodeImages] return them).
// It compares query with every candidate: an exhaustive search, for an index see recsys.
func MostSimilar(query, candidates []float32, k int) ([]Match, error) {
	d := len(query)
	if d == 0 {
		return nil, errors.New("embed: most similar: empty query")
	}
	if len(candidates)%d != 0 {
		return nil, fmt.Errorf("embed: most similar: %d candidate floats are not a whole number of rows of %d", len(candidates), d)
	}
	if k < 0 {
		return nil, fmt.Errorf("embed: most similar: k %d is negative", k)
	}
	all := make([]Match, len(candidates)/d)
	for i := range all {
		all[i] = Match{i, Cosine(query, candidates[i*d:(i+1)*d])}
	}
	slices.SortStableFunc(all, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
	if k < len(all) {
		all = all[:k]
	}
	return all, nil
}
