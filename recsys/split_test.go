package recsys

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLeaveOneLast(t *testing.T) {
	in, err := NewInteractions([][]int32{{0, 1, 2, 3}, {4, 0}, {2, 3, 4}}, 5)
	require.NoError(t, err)
	s, err := LeaveOneLast(in)
	require.NoError(t, err)
	assert.Equal(t, [][]int32{{0, 1}, {4, 0}, {2}}, s.Train)
	assert.Equal(t, []int32{2, -1, 3}, s.Valid)
	assert.Equal(t, []int32{3, -1, 4}, s.Test)
	assert.Equal(t, []int32{0, 1, 2}, s.History(0, StageTest))
	assert.Equal(t, []int32{0, 1}, s.History(0, StageValid))
	assert.Equal(t, int32(2), s.Target(0, StageValid))
	// The history handed out for the test stage does not alias the training slice.
	h := s.History(2, StageTest)
	h[0] = 9
	assert.Equal(t, int32(2), s.Train[2][0])
}

func TestLeaveOneLastOneShortUser(t *testing.T) {
	in, err := NewInteractions([][]int32{{0, 1}}, 2)
	require.NoError(t, err)
	_, err = LeaveOneLast(in)
	assert.ErrorContains(t, err, "recsys: leave-one-last split")
	_, err = LeaveOneLast(nil)
	assert.ErrorIs(t, err, ErrEmpty)
}
