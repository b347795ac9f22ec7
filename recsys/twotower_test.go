package recsys

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFreqEstimatorHandValues(t *testing.T) {
	f := &freqEstimator{alpha: 0.01, a: make([]float64, 2), b: make([]float64, 2)}
	for step := 4; step <= 40; step += 4 {
		f.update(0, step) // every 4th step: the gap estimate stays at 4
	}
	assert.InDelta(t, 4, f.b[0], 1e-12)
	assert.InDelta(t, -math.Log(4), float64(f.logQ(0)), 1e-6)
	f.update(1, 2)
	f.update(1, 10) // 0.99·2 + 0.01·8
	assert.InDelta(t, 2.06, f.b[1], 1e-12)
}

func TestTwoTowerRejectsBadItemVectors(t *testing.T) {
	s := &Split{NumItems: 3, Train: [][]int32{{0, 1, 2}}, Valid: []int32{-1}, Test: []int32{-1}}
	m := must(NewTwoTower(&TwoTowerOptions{ItemVectors: make([]float32, 7)}))
	assert.ErrorContains(t, m.Fit(context.Background(), s), "ItemVectors")
}

func TestTwoTowerGradientMatchesFiniteDifferences(t *testing.T) {
	const n, d, k = 7, 4, 3
	rng := rand.New(rand.NewPCG(9, 9))
	vecs := make([]float32, n*k)
	for i := range vecs {
		vecs[i] = float32(rng.NormFloat64())
	}
	o := must((&TwoTowerOptions{Dim: d, BatchSize: 4, Temperature: 0.5, ItemVectors: vecs, LogQ: true}).resolve())
	m := &TwoTower{opt: o, numItems: n, vecDim: k, flat: make([]float32, 2*n*d+d*d+k*d)}
	m.e, m.c, m.w, m.p = m.flat[:n*d], m.flat[n*d:2*n*d], m.flat[2*n*d:2*n*d+d*d], m.flat[2*n*d+d*d:]
	for i := range m.flat {
		m.flat[i] = float32(rng.NormFloat64() * 0.5)
	}
	batch := []ttExample{{hist: []int32{0, 1}, target: 2}, {hist: []int32{3}, target: 4}, {hist: []int32{5, 6, 0}, target: 1}, {hist: []int32{2}, target: 4}}
	freq := &freqEstimator{alpha: 0.01, a: make([]float64, n), b: []float64{1, 2, 3, 4, 5, 6, 7}}
	loss := func() float64 { return newTTTrainer(m, o).gradient(context.Background(), batch, freq) }
	tr := newTTTrainer(m, o)
	tr.gradient(context.Background(), batch, freq)
	const eps = 3e-3
	bad := 0
	for i := range m.flat {
		orig := m.flat[i]
		m.flat[i] = orig + eps
		lp := loss()
		m.flat[i] = orig - eps
		lm := loss()
		m.flat[i] = orig
		num := (lp - lm) / (2 * eps)
		if math.Abs(num-float64(tr.grad[i])) > 2e-3+3e-2*math.Abs(num) {
			bad++
			t.Logf("param %d: analytic %.6g numeric %.6g", i, tr.grad[i], num)
		}
	}
	assert.LessOrEqual(t, bad, 1, "gradient mismatches out of %d", len(m.flat))
	var norm float64
	for _, g := range tr.grad {
		norm += float64(g) * float64(g)
	}
	assert.Greater(t, norm, 1e-3, "the check must see a non-zero gradient")
}
