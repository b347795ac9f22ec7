// Package progress defines the one progress report that every long operation of the library
// sends. Packages re-export it as a type alias (recsys.Progress, w2w.Progress, …) so that users
// never import this internal package.
//
// # Contract
//
// A long operation takes an optional callback of type Func in its options and calls it from
// the goroutine that runs the operation (never from several at once). Returning from the
// callback never stops the work: cancel the operation's context instead. A nil Func is never
// called.
package progress

// Progress is one report from a long operation.
type Progress struct {
	// Stage names the step being reported, in lower case ("fit", "epoch", "evaluate",
	// "reduce", "mst", …); each package documents its stage names.
	Stage string
	// Done counts the units of the stage finished so far, out of Total. Total is 0 when the
	// stage does not know its size in advance.
	Done, Total int
	// Loss is the stage's training loss when it reports one (the mean loss of the epoch that
	// just ended), and 0 otherwise.
	Loss float64
}

// Func receives progress reports. See the package documentation for the contract.
type Func func(Progress)

// Report calls f with p when f is not nil.
func (f Func) Report(p Progress) {
	if f != nil {
		f(p)
	}
}
