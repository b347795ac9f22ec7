//go:build race

package embed

// raceEnabled trims the slowest parity inputs under the race detector (CI), which makes
// pixel loops 10-20 times slower; plain `go test` checks every image.
const raceEnabled = true

// raceImageBytes skips files larger than this under the race detector.
const raceImageBytes = 300 << 10

// racePromptStride checks every 5th corpus prompt under the race detector.
const racePromptStride = 5
