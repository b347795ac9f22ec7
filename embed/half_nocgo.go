//go:build !cgo || !amd64

package embed

// Without cgo (or off amd64) the store decodes rows through the table alone.

const (
	halfKernel  = false
	halfGeneric = 0
)

var halfLevel = halfGeneric

func halfLevels() []int { return []int{halfGeneric} }

func rowAddr([]byte) uint64 { return 0 }

func decodeRows(int, []uint64, int, []float32) {}
