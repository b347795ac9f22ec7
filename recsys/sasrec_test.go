package recsys

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSASRecSampleShiftsAndAvoidsTrainingItems(t *testing.T) {
	m := &SASRec{}
	rng := rand.New(rand.NewPCG(1, 2))
	train := []int32{4, 7, 1, 9, 3, 5}
	seen := map[int32]struct{}{}
	for k := 0; k < 50; k++ {
		s := m.sample(sasSeq{}, train, 12, 3, rng, seen)
		// The input is the last MaxLen items before the last one, each shifted by one (row 0 is
		// padding); the target is the next item.
		assert.Equal(t, []int32{2, 10, 4}, s.in)
		assert.Equal(t, []int32{10, 4, 6}, s.pos)
		for _, n := range s.neg {
			assert.NotContains(t, []int32{5, 8, 2, 10, 4, 6}, n, "negative is a training item")
			assert.True(t, n >= 1 && n <= 12)
		}
	}
}
