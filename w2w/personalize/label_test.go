package personalize_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/w2w/personalize"
)

func TestQuantileLabels(t *testing.T) {
	scores := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, math.NaN()}
	labels, th, err := personalize.QuantileLabels(scores, nil)
	require.NoError(t, err)
	// numpy.quantile(range(10), 0.9) = 8.1 and (…, 0.5) = 4.5.
	assert.InDelta(t, 8.1, th.Preferred, 1e-12)
	assert.InDelta(t, 4.5, th.NotPreferred, 1e-12)
	assert.Equal(t, []int{-1, -1, -1, -1, -1, 0, 0, 0, 0, 1, 0}, labels)
	_, _, err = personalize.QuantileLabels([]float64{1, 1, 1, 1}, nil)
	assert.ErrorIs(t, err, personalize.ErrLabels)
	_, _, err = personalize.QuantileLabels(scores, &personalize.LabelOptions{Preferred: 0.6, NotPreferred: 0.6})
	assert.ErrorIs(t, err, personalize.ErrInvalidOptions)
}

func TestPreferenceClusterBadInput(t *testing.T) {
	ctx := context.Background()
	_, err := personalize.PreferenceCluster(ctx, make([]float32, 4*8), 8, nil)
	assert.ErrorIs(t, err, personalize.ErrTooFewImages)
	// Random directions: no clear cluster, whatever HDBSCAN returns.
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 60, 64
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	_, err = personalize.PreferenceCluster(ctx, x, d, &personalize.ClusterOptions{AllowSingleCluster: true})
	assert.ErrorIs(t, err, personalize.ErrNoClearCluster)
	_, err = personalize.UserImageEmbeddings(personalize.History{User: "u"}, nil)
	assert.ErrorIs(t, err, personalize.ErrNoImages)
}
