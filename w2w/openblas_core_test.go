//go:build openblas && cgo && amd64

package w2w

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/cpu"
)

// TestOpenBLASKernelSet checks that OpenBLAS does not run its generic SSE3 kernels on a CPU
// with AVX2+FMA or AVX-512 (its detection falls back to them on CPU models it does not know).
func TestOpenBLASKernelSet(t *testing.T) {
	if os.Getenv("OPENBLAS_CORETYPE") != "" {
		t.Skip("OPENBLAS_CORETYPE chooses the kernels")
	}
	t.Logf("OpenBLAS kernels: %s", openblasCore)
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		assert.NotEqual(t, "Prescott", openblasCore)
	}
}
