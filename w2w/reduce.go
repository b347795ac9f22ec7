package w2w

import (
	"context"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/internal/progress"
)

// Rank1Module is one module reduced to rank 1 (paper §4.3): ΔW ≈ Sigma·U·Vᵀ.
type Rank1Module struct {
	Name      string
	Component Component
	Kind      Kind
	Attn      int
	Out, In   int
	Kernel    []int
	// Sigma is the top singular value of ΔW = (alpha/r)·Up·Down; U (Out) and V (In) are unit.
	Sigma float64
	// Energy is ‖ΔW‖²_F; Energy − Sigma² is what rank 1 discards.
	Energy float64
	U, V   []float32
}

// Discarded returns the fraction of ‖ΔW‖²_F that the rank-1 truncation loses (0 when ΔW = 0).
func (m *Rank1Module) Discarded() float64 {
	if m.Energy <= 0 {
		return 0
	}
	return math.Max(0, m.Energy-m.Sigma*m.Sigma) / m.Energy
}

// Factors returns the rank-1 LoRA factors with σ split evenly: up = √σ·u (Out) and
// down = √σ·v (In), so that up·downᵀ = σ·u·vᵀ.
func (m *Rank1Module) Factors() (up, down []float32) {
	s := float32(math.Sqrt(m.Sigma))
	up = make([]float32, len(m.U))
	down = make([]float32, len(m.V))
	for i, x := range m.U {
		up[i] = s * x
	}
	for i, x := range m.V {
		down[i] = s * x
	}
	return up, down
}

// Flip negates U and V, which leaves the module unchanged.
func (m *Rank1Module) Flip() {
	for i := range m.U {
		m.U[i] = -m.U[i]
	}
	for i := range m.V {
		m.V[i] = -m.V[i]
	}
}

// Reduced is a LoRA reduced to rank 1 per module.
type Reduced struct {
	Path       string
	Family     Family
	Convention Convention
	Metadata   map[string]string
	// Modules are sorted by name, as in the source LoRA.
	Modules []Rank1Module
}

// Module returns the named module.
func (r *Reduced) Module(name string) (*Rank1Module, bool) {
	for i := range r.Modules {
		if r.Modules[i].Name == name {
			return &r.Modules[i], true
		}
	}
	return nil, false
}

// ReduceOptions configures [Reduce]. The zero value uses the default backend.
type ReduceOptions struct {
	// Backend runs the batched reduction; nil means [DefaultBackend].
	Backend Backend
	// Progress, when set, is called as modules are reduced: stage "reduce", Done modules of
	// Total.
	Progress func(Progress)
}

// reduceBatch bounds how many modules go to the backend at once so progress is reported
// between batches. Each batch ends when its slowest module does, leaving workers idle, so
// batches are large (an SDXL LoRA of 700 modules makes three). A backend that works best on
// other sizes (a GPU fills its multiprocessors only with hundreds of modules per launch)
// says so through [BatchSizer].
const reduceBatch = 256

// BatchSizer is implemented by backends that want a different number of modules per
// TopTriplets call than [Reduce]'s default of 256.
type BatchSizer interface {
	// ReduceBatch returns the number of modules per call (≥ 1).
	ReduceBatch() int
}

// reduceBatchSize returns the number of modules per TopTriplets call for be.
func reduceBatchSize(be Backend) int {
	if bs, ok := be.(BatchSizer); ok {
		return max(1, bs.ReduceBatch())
	}
	return reduceBatch
}

// Reduce computes the rank-1 reduction of every module of l through its thin factors (paper
// §4.3, "we reduce each LoRA to rank 1 by SVD"), never forming ΔW. The signs of U and V are
// provisional: each module is oriented so that the largest-magnitude entry of U is positive.
// A [Layout] re-orients them consistently across a population before flattening.
func Reduce(ctx context.Context, l *LoRA, opts *ReduceOptions) (*Reduced, error) {
	o := opts.resolve()
	be := o.Backend
	out := &Reduced{Path: l.Path, Family: l.Family, Convention: l.Convention, Metadata: l.Metadata}
	out.Modules = make([]Rank1Module, len(l.Modules))
	mods := make([]*Module, len(l.Modules))
	for i := range l.Modules {
		mods[i] = &l.Modules[i]
	}
	batch := reduceBatchSize(be)
	for b := 0; b < len(mods); b += batch {
		e := min(b+batch, len(mods))
		if err := reduceModules(ctx, be, mods[b:e], out.Modules[b:e]); err != nil {
			return nil, fmt.Errorf("w2w: reduce %s (%s backend): %w", l.Path, be.Name(), err)
		}
		progress.Func(o.Progress).Report(Progress{Stage: "reduce", Done: e, Total: len(mods)})
	}
	return out, nil
}

// reduceModules reduces mods into out (same length) with one backend call. Plain LoRA
// modules are one factor each; LoKr modules reduce their two Kronecker factors and combine
// them: the top triplet of kron(W1, W2) is (σ₁σ₂, u₁⊗u₂, v₁⊗v₂) and
// ‖kron(W1, W2)‖²_F = ‖W1‖²_F·‖W2‖²_F.
func reduceModules(ctx context.Context, be Backend, mods []*Module, out []Rank1Module) error {
	type job struct {
		mod  int
		part int // 0 plain, 1 and 2 the Kronecker factors
	}
	var jobs []job
	var in []ScaledFactor
	for i, m := range mods {
		out[i] = Rank1Module{Name: m.Name, Component: m.Component, Kind: m.Kind, Attn: m.Attn, Out: m.Out, In: m.In, Kernel: m.Kernel}
		if m.Kron != nil {
			for p := 0; p < 2; p++ {
				jobs = append(jobs, job{i, p + 1})
				in = append(in, ScaledFactor{Factor: m.Kron[p], Scale: 1})
			}
			continue
		}
		jobs = append(jobs, job{i, 0})
		in = append(in, ScaledFactor{Factor: Factor{Rows: m.Out, Cols: m.In, Rank: m.Rank, A: m.Up, B: m.Down}, Scale: m.Scale()})
	}
	res := make([]Triplet, len(in))
	if err := be.TopTriplets(ctx, in, res); err != nil {
		return err
	}
	for k := 0; k < len(jobs); k++ {
		j := jobs[k]
		rm := &out[j.mod]
		if j.part == 0 {
			t := res[k]
			rm.Sigma, rm.Energy, rm.U, rm.V = t.Sigma, t.Energy, t.U, t.V
		} else {
			t1, t2 := res[k], res[k+1]
			k++
			s := mods[j.mod].Scale()
			rm.Sigma = math.Abs(s) * t1.Sigma * t2.Sigma
			rm.Energy = s * s * t1.Energy * t2.Energy
			rm.U = kron32(t1.U, t2.U)
			rm.V = kron32(t1.V, t2.V)
			if s < 0 {
				for i := range rm.U {
					rm.U[i] = -rm.U[i]
				}
			}
		}
		orientByLargest(rm)
	}
	return nil
}

// kron32 returns the Kronecker product of two vectors.
func kron32(a, b []float32) []float32 {
	out := make([]float32, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x*y)
		}
	}
	return out
}

// orientByLargest flips a module so the largest-magnitude entry of U is positive: a
// deterministic per-file rule, used only until a population reference is applied.
func orientByLargest(m *Rank1Module) {
	best, bi := float32(-1), -1
	for i, x := range m.U {
		if a := float32(math.Abs(float64(x))); a > best {
			best, bi = a, i
		}
	}
	if bi >= 0 && m.U[bi] < 0 {
		m.Flip()
	}
}
