//go:build !cuda

package cuda

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStubReportsUnavailable(t *testing.T) {
	ctx := context.Background()
	err := Available()
	assert.True(t, errors.Is(err, ErrUnavailable))
	assert.Contains(t, err.Error(), "-tags cuda", "says how to enable it")

	in := []Factors{{Up: make([]float32, 6), Down: make([]float32, 8), Out: 3, In: 4, Rank: 2, Scale: 1}}
	assert.ErrorIs(t, TopTriplets(ctx, in, make([]Triplet, 1)), ErrUnavailable)
	assert.ErrorIs(t, Flatten(ctx, nil, nil, 1, 1, make([]float32, 1)), ErrUnavailable)
	assert.ErrorIs(t, Gram(ctx, make([]float32, 4), 2, 2, make([]float64, 4)), ErrUnavailable)
	assert.ErrorIs(t, MulT(ctx, make([]float32, 4), 2, 2, make([]float32, 4), 2, make([]float64, 4)), ErrUnavailable)
	assert.ErrorIs(t, Combine(ctx, make([]float64, 4), 2, make([]float32, 4), 2, 2, make([]float32, 4)), ErrUnavailable)

	// Shape errors are reported before availability, so callers see their own mistakes.
	bad := []Factors{{Up: make([]float32, 5), Down: make([]float32, 8), Out: 3, In: 4, Rank: 2}}
	err = TopTriplets(ctx, bad, make([]Triplet, 1))
	assert.False(t, errors.Is(err, ErrUnavailable))
	assert.Contains(t, err.Error(), "factors 0")
}
