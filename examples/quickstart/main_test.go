package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartDemoPrintsTableOneAsJSON(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, "", 2000, 9, "", true))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "last line is one JSON object")
	for _, k := range []string{"images", "unique_prompts", "loras", "model_tags", "users", "uploaders",
		"avg_images_per_uploader", "avg_models_per_uploader", "avg_images_per_model"} {
		assert.Contains(t, got, k)
	}
	assert.Equal(t, 2000.0, got["images"])
	assert.Contains(t, out.String(), "Filtered")
	assert.Contains(t, out.String(), "user-model")
}

func TestQuickstartMissingData(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, t.TempDir(), 0, 0, "", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ImageGem-images")
}
