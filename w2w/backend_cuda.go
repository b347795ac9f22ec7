//go:build cuda

package w2w

import (
	"context"
	"fmt"

	"github.com/imagegem/imagegem-go/cuda"
)

// CUDA is the GPU backend of package cuda (build tag cuda). When the package is built with
// the tag and a device is present, it becomes the default backend at start-up; otherwise the
// CPU backend stays the default.
type CUDA struct{}

func init() {
	if cuda.Available() == nil {
		SetDefaultBackend(CUDA{})
	}
}

// ReduceBatch sends [Reduce] whole LoRAs (up to 4,096 modules) per launch: a launch runs one
// thread block per module, and the GPU needs hundreds of them to be busy.
func (CUDA) ReduceBatch() int { return 4096 }

// Name returns "cuda".
func (CUDA) Name() string { return "cuda" }

// TopTriplets runs the batched rank-1 kernels of package cuda.
func (CUDA) TopTriplets(ctx context.Context, in []ScaledFactor, out []Triplet) error {
	fs := make([]cuda.Factors, len(in))
	for i, f := range in {
		fs[i] = cuda.Factors{Up: f.A, Down: f.B, Out: f.Rows, In: f.Cols, Rank: f.Rank, Scale: f.Scale}
	}
	ts := make([]cuda.Triplet, len(in))
	for i := range out {
		ts[i].U, ts[i].V = out[i].U, out[i].V
	}
	if err := cuda.TopTriplets(ctx, fs, ts); err != nil {
		return err
	}
	for i, t := range ts {
		out[i] = Triplet{Sigma: t.Sigma, Energy: t.Energy, U: t.U, V: t.V}
	}
	return nil
}

// Flatten scatters the rank-1 factors into the vectors on the GPU, with the layout's sign
// references applied exactly as [Layout.Flatten] does. Fixed-rank layouts run on the CPU.
func (CUDA) Flatten(ctx context.Context, lay *Layout, rs []*Reduced, dst []float32) ([][]bool, error) {
	if lay.FixedRank != 0 {
		return CPU{}.Flatten(ctx, lay, rs, dst)
	}
	if len(dst) != len(rs)*lay.Dim {
		return nil, fmt.Errorf("w2w: flatten: %w: destination has %d values for %d vectors of %d", ErrLayout, len(dst), len(rs), lay.Dim)
	}
	var (
		trips []cuda.Triplet
		place []cuda.Placement
	)
	masks := make([][]bool, len(rs))
	for v, r := range rs {
		mask, err := lay.match(r, func(lm *LayoutModule, m *Rank1Module) {
			trips = append(trips, cuda.Triplet{Sigma: m.Sigma, Energy: m.Energy, U: m.U, V: m.V})
			place = append(place, cuda.Placement{Vector: v, Offset: lm.Offset, Ref: lm.Ref})
		})
		if err != nil {
			return nil, err
		}
		masks[v] = mask
	}
	if err := cuda.Flatten(ctx, trips, place, len(rs), lay.Dim, dst); err != nil {
		return nil, err
	}
	return masks, nil
}

// Gram computes X·Xᵀ with cuBLAS.
func (CUDA) Gram(ctx context.Context, x []float32, n, d int, g []float64) error {
	return cuda.Gram(ctx, x, n, d, g)
}

// MulT computes X·Bᵀ with cuBLAS.
func (CUDA) MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	return cuda.MulT(ctx, x, n, d, b, m, out)
}

// Combine computes C·X with cuBLAS.
func (CUDA) Combine(ctx context.Context, c []float64, m int, x []float32, n, d int, out []float32) error {
	return cuda.Combine(ctx, c, m, x, n, d, out)
}
