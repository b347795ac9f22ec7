package hdbscan

import (
	"math"
	"math/rand/v2"
)

// adjustedRand is the Hubert–Arabie adjusted Rand index of two labelings, noise (-1)
// counted as one more group, as sklearn.metrics.adjusted_rand_score does with the labels.
func adjustedRand(a, b []int) float64 {
	type pair struct{ x, y int }
	cont := map[pair]int{}
	ra, rb := map[int]int{}, map[int]int{}
	for i := range a {
		cont[pair{a[i], b[i]}]++
		ra[a[i]]++
		rb[b[i]]++
	}
	c2 := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var sum, sa, sb float64
	for _, v := range cont {
		sum += c2(v)
	}
	for _, v := range ra {
		sa += c2(v)
	}
	for _, v := range rb {
		sb += c2(v)
	}
	total := c2(len(a))
	expected := sa * sb / total
	maxIdx := (sa + sb) / 2
	if maxIdx == expected {
		return 1
	}
	return (sum - expected) / (maxIdx - expected)
}

// clipLike draws n unit vectors in d dimensions: k clusters around random unit centres
// (spread sigma per coordinate times 1/sqrt(d)) plus a noise fraction uniform on the sphere,
// the shape of CLIP embeddings of prompts on a few topics.
func clipLike(seed uint64, n, d, k int, noise, sigma float64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	unit := func(v []float64) []float64 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		s = math.Sqrt(s)
		for i := range v {
			v[i] /= s
		}
		return v
	}
	gauss := func() []float64 {
		v := make([]float64, d)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	centres := make([][]float64, k)
	for i := range centres {
		centres[i] = unit(gauss())
	}
	pts := make([][]float64, n)
	nNoise := int(float64(n) * noise)
	for i := range pts {
		if i < nNoise {
			pts[i] = unit(gauss())
			continue
		}
		c := centres[i%k]
		v := gauss()
		for j := range v {
			v[j] = c[j] + sigma*v[j]/math.Sqrt(float64(d))
		}
		pts[i] = unit(v)
	}
	rng.Shuffle(n, func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
	return pts
}

// flatten lays rows out row-major in float32, as Fit takes them.
func flatten(rows [][]float64) ([]float32, int) {
	if len(rows) == 0 {
		return nil, 0
	}
	d := len(rows[0])
	out := make([]float32, 0, len(rows)*d)
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return out, d
}
