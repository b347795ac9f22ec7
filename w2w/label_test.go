package w2w

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnimeRealisticLabel(t *testing.T) {
	cases := []struct {
		name   string
		images []ImageScores
		want   int
	}{
		{"realistic", []ImageScores{{0.25, 0.27, 0.20}, {0.22, 0.26, 0.19}}, LabelRealistic},
		{"anime", []ImageScores{{0.21, 0.20, 0.25}}, LabelAnime},
		{"both high", []ImageScores{{0.30, 0.27, 0.25}}, LabelNone},
		{"neither", []ImageScores{{0.30, 0.21, 0.20}}, LabelNone},
		{"no person", []ImageScores{{0.19, 0.30, 0.10}}, LabelNone},
		{"empty", nil, LabelNone},
		// The person filter drops the anime-looking image without a person.
		{"filtered", []ImageScores{{0.10, 0.10, 0.40}, {0.20, 0.26, 0.10}}, LabelRealistic},
		// Thresholds are inclusive.
		{"boundary", []ImageScores{{0.20, 0.26, 0.2399}}, LabelRealistic},
	}
	for _, c := range cases {
		got, reason, err := AnimeRealisticLabel(c.images, nil)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s: %s", c.name, reason)
		assert.NotEmpty(t, reason)
	}
	got, _, _ := AnimeRealisticLabel([]ImageScores{{0.5, 0.22, 0.1}}, &LabelOptions{RealisticMin: 0.2})
	assert.Equal(t, LabelRealistic, got)
}
