package simd

import (
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFeaturesMatchCPUInfo compares the features with the flags the Linux kernel lists in
// /proc/cpuinfo (it lists avx2, fma, f16c and avx512f only when it saves their register
// state).
func TestFeaturesMatchCPUInfo(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("/proc/cpuinfo flags are read on linux/amd64 only")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(b), "\n") {
		if name, list, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(list) {
				flags[f] = true
			}
			break
		}
	}
	require.NotNil(t, flags, "no flags line in /proc/cpuinfo")
	if strings.Contains(os.Getenv("GODEBUG"), "cpu.") {
		t.Skip("GODEBUG hides CPU features")
	}
	assert.Equal(t, flags["avx2"], AVX2, "avx2")
	assert.Equal(t, flags["fma"], FMA, "fma")
	assert.Equal(t, flags["f16c"], F16C, "f16c")
	assert.Equal(t, flags["avx512f"], AVX512F, "avx512f")
}

// TestHeadersEmbedded checks that every header of the folder is embedded, so that changing
// one rebuilds the packages that include it.
func TestHeadersEmbedded(t *testing.T) {
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".h") {
			n++
			_, err := fs.Stat(Headers, e.Name())
			assert.NoError(t, err, e.Name())
		}
	}
	assert.NotZero(t, n)
}
