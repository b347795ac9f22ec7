//go:build unix

package embed

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds the process CPU time per operation (user + system) to a benchmark, a
// figure that a busy machine distorts less than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
