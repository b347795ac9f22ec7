//go:build unix

package w2w

import "syscall"

// processCPUSeconds returns the user and system CPU time of the process so far; benchmarks
// report CPU seconds per operation beside wall time, which stays meaningful on a shared
// machine.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
