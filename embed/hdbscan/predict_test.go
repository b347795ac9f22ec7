package hdbscan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPredictFittedPoints predicts the fitted points themselves: dense members get their
// own label back.
func TestPredictFittedPoints(t *testing.T) {
	c := loadCases(t)["blobs_noise_mcs15"]
	require.NotNil(t, c)
	res, err := fitRows(context.Background(), c.X, c.options(Exact))
	require.NoError(t, err)
	x, _ := flatten(c.X)
	labels, probs, err := res.Predict(x)
	require.NoError(t, err)
	agree, members := 0, 0
	for i, l := range res.Labels {
		if l < 0 || res.Probabilities[i] < 0.5 {
			continue
		}
		members++
		if labels[i] == l {
			agree++
		}
		assert.True(t, probs[i] > 0 && probs[i] <= 1, "probability %v", probs[i])
	}
	t.Logf("%d of %d core members predicted into their own cluster", agree, members)
	assert.GreaterOrEqual(t, float64(agree), 0.99*float64(members))
}

// TestPredictNewPoints places points near cluster centres and far away.
func TestPredictNewPoints(t *testing.T) {
	var pts [][]float64
	for c := 0; c < 3; c++ {
		for i := 0; i < 40; i++ {
			pts = append(pts, []float64{float64(c)*50 + float64(i%8)*0.5, float64(i/8) * 0.5})
		}
	}
	res, err := fitRows(context.Background(), pts, &Options{MinClusterSize: 10})
	require.NoError(t, err)
	require.Equal(t, 3, res.NumClusters)
	labels, probs, err := res.Predict([]float32{1.6, 1.1, 101.6, 1.1, 25, 400})
	require.NoError(t, err)
	assert.Equal(t, res.Labels[0], labels[0])
	assert.Equal(t, res.Labels[80], labels[1])
	assert.Equal(t, -1, labels[2])
	assert.Greater(t, probs[0], 0.5)
	assert.Equal(t, 0.0, probs[2])

	_, _, err = res.Predict([]float32{1, 2, 3})
	assert.ErrorIs(t, err, ErrInput)
	assert.ErrorContains(t, err, "3 coordinates are not a whole number of points of the fitted dimension 2")
}
