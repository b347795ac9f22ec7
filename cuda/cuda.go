package cuda

import (
	"errors"
	"fmt"
)

// ErrUnavailable is returned by every function when the package was built without the cuda
// tag or no CUDA device can be used.
var ErrUnavailable = errors.New("cuda: unavailable")

// Factors is one LoRA module's update ΔW = Scale·Up·Down given by its thin factors.
type Factors struct {
	Up    []float32 // Out×Rank, row-major
	Down  []float32 // Rank×In, row-major
	Out   int
	In    int
	Rank  int
	Scale float64
}

// Triplet is the top singular triplet of a module: ΔW ≈ Sigma·U·Vᵀ with unit U (Out) and V
// (In). Energy is ‖ΔW‖²_F, so Energy − Sigma² is what a rank-1 truncation discards.
type Triplet struct {
	Sigma  float64
	Energy float64
	U, V   []float32
}

// Placement says where Flatten writes one triplet: √σ·sign·U at Offset of vector Vector,
// then √σ·sign·V right after it. sign is +1 or −1 so that ⟨sign·U, Ref⟩ ≥ 0; with a nil Ref
// it is +1.
type Placement struct {
	Vector int
	Offset int
	Ref    []float32
}

func checkFactors(in []Factors) error {
	for i, f := range in {
		if f.Out <= 0 || f.In <= 0 || f.Rank <= 0 {
			return fmt.Errorf("cuda: factors %d: non-positive shape %d×%d rank %d", i, f.Out, f.In, f.Rank)
		}
		if len(f.Up) != f.Out*f.Rank || len(f.Down) != f.Rank*f.In {
			return fmt.Errorf("cuda: factors %d: Up has %d values and Down %d, want %d (Out×Rank) and %d (Rank×In)", i, len(f.Up), len(f.Down), f.Out*f.Rank, f.Rank*f.In)
		}
	}
	return nil
}
