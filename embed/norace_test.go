//go:build !race

package embed

const raceEnabled = false

const raceImageBytes = 0

const racePromptStride = 1
