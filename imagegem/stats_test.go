package imagegem

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsFixtureByHand(t *testing.T) {
	r := openFixture(t)
	s, err := r.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(6), s.Images, "distinct imageId, not 11 rows")
	assert.Equal(t, int64(3), s.UniquePrompts, `"a red car", "a dog", "bad words"; "" is not a prompt`)
	assert.Equal(t, int64(6), s.LoRAs, "versions 100..105; 999 is only in the images table")
	assert.Equal(t, int64(5), s.ModelTags, "car, vehicle, dog, cute, nsfw")
	assert.Equal(t, int64(4), s.Users, "u1, u2, u4, u5")
	assert.Equal(t, int64(3), s.Uploaders)
	assert.Equal(t, "u1", s.TopUploader)
	// Excluding u1: u2 uploaded 1 version and made 1 image (14); u3 uploaded 2 and made none.
	assert.InDelta(t, 1.5, s.AvgModelsPerUploader, 1e-12)
	assert.InDelta(t, 0.5, s.AvgImagesPerUploader, 1e-12)
	// Links to versions in the models table: 2+1+3+1+1+1 = 9 over 6 versions.
	assert.InDelta(t, 9.0/6.0, s.AvgImagesPerModel, 1e-12)
}

func TestFilteredStatsFixtureByHand(t *testing.T) {
	r := openFixture(t)
	s, err := r.FilteredStats(context.Background(), SafetyFilter{Prompts: []string{"bad words", "never used"}})
	require.NoError(t, err)
	// Images 14 and 15 go. Version 104 loses its only image and goes; 105 never had one and
	// stays; 103 keeps image 13.
	assert.Equal(t, int64(4), s.Images)
	assert.Equal(t, int64(2), s.UniquePrompts)
	assert.Equal(t, int64(5), s.LoRAs)
	assert.Equal(t, int64(4), s.ModelTags, "nsfw went with version 104")
	assert.Equal(t, int64(3), s.Users, "u2 made only image 14")
	assert.Equal(t, int64(3), s.Uploaders, "u3 keeps version 105")
	assert.Equal(t, "u1", s.TopUploader)
	// Excluding u1: u2 1 version, 0 images left; u3 1 version, 0 images.
	assert.InDelta(t, 1.0, s.AvgModelsPerUploader, 1e-12)
	assert.InDelta(t, 0.0, s.AvgImagesPerUploader, 1e-12)
	// Links left: 10→100,101; 11→100; 12→100,101,102; 13→103 = 7 over 5 versions.
	assert.InDelta(t, 7.0/5.0, s.AvgImagesPerModel, 1e-12)
}
