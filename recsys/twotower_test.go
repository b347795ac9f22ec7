package recsys

import (
	"context"
	"math"
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
	m := NewTwoTower(TwoTowerOptions{ItemVectors: make([]float32, 7)})
	assert.ErrorContains(t, m.Fit(context.Background(), s), "ItemVectors")
}
