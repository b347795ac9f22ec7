package hdbscan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApproximateCloseToFast compares the approximate kNN-graph path with the fast exact
// MST on generated CLIP-like data (4,000 points: 63 cells, 16 probed).
func TestApproximateCloseToFast(t *testing.T) {
	pts := clipLike(11, 4000, 64, 10, 0.1, 0.6)
	o := Options{MinClusterSize: 15, Mode: Fast}
	fa, err := fitRows(context.Background(), pts, &o)
	require.NoError(t, err)
	o.Mode = Approximate
	ap, err := fitRows(context.Background(), pts, &o)
	require.NoError(t, err)
	assert.Equal(t, Approximate, ap.Mode)
	require.Len(t, ap.MST, len(pts)-1)
	ari := adjustedRand(fa.Labels, ap.Labels)
	t.Logf("ARI %.5f: fast %d clusters %d noise, approximate %d clusters %d noise", ari,
		fa.NumClusters, fa.NumNoise(), ap.NumClusters, ap.NumNoise())
	assert.GreaterOrEqual(t, ari, 0.95)
	// The approximate core distances come from a subset of the candidates: never smaller.
	for i := range fa.CoreDistances {
		if !assert.GreaterOrEqual(t, ap.CoreDistances[i], fa.CoreDistances[i]-1e-5, "point %d", i) {
			break
		}
	}
}

// TestApproximateConnectsPieces forces a kNN graph of several far-apart pieces.
func TestApproximateConnectsPieces(t *testing.T) {
	var pts [][]float64
	for c := 0; c < 5; c++ {
		for i := 0; i < 30; i++ {
			pts = append(pts, []float64{float64(c) * 100, float64(i % 6), float64(i / 6)})
		}
	}
	res, err := fitRows(context.Background(), pts, &Options{MinClusterSize: 10, Mode: Approximate, ApproxNeighbors: 5})
	require.NoError(t, err)
	require.Len(t, res.MST, len(pts)-1)
	assert.Equal(t, 5, res.NumClusters)
	assert.Equal(t, 0, res.NumNoise())
}
