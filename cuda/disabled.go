//go:build !cuda

package cuda

import (
	"context"
	"fmt"
)

// errDisabled explains how to enable the package.
var errDisabled = fmt.Errorf("%w: built without the cuda build tag; rebuild with -tags cuda "+
	"on a machine with an NVIDIA GPU and the CUDA 11.x/12.x headers and libraries "+
	"(scripts/cuda-toolkit.sh installs them on Debian; make cuda-build)", ErrUnavailable)

// Available reports whether a CUDA device can be used: never, without the cuda tag.
func Available() error { return errDisabled }

// TopTriplets computes the top singular triplet of every module. Without the cuda tag it
// returns ErrUnavailable.
func TopTriplets(ctx context.Context, in []Factors, out []Triplet) error {
	if err := checkFactors(in); err != nil {
		return err
	}
	return errDisabled
}

// Flatten scatters triplets into n flattened vectors of length d. Without the cuda tag it
// returns ErrUnavailable.
func Flatten(ctx context.Context, trips []Triplet, place []Placement, n, d int, out []float32) error {
	return errDisabled
}

// Gram computes g = X·Xᵀ for the row-major n×d matrix x. Without the cuda tag it returns
// ErrUnavailable.
func Gram(ctx context.Context, x []float32, n, d int, g []float64) error { return errDisabled }

// MulT computes out = X·Bᵀ for row-major X (n×d) and B (m×d). Without the cuda tag it
// returns ErrUnavailable.
func MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	return errDisabled
}

// Combine computes out = C·X for row-major C (m×n) and X (n×d). Without the cuda tag it
// returns ErrUnavailable.
func Combine(ctx context.Context, c []float64, m int, x []float32, n, d int, out []float32) error {
	return errDisabled
}
