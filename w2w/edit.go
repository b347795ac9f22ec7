package w2w

import (
	"context"
	"fmt"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// EditOptions configures [Space.Edit]. The zero value edits the LoRA's projection onto the
// space, as weights2weights does.
type EditOptions struct {
	// KeepResidual adds back the part of the LoRA outside the space, so α = 0 returns the
	// LoRA itself rather than its projection.
	KeepResidual bool
	Backend      Backend
}

// Edit moves a LoRA along a direction (paper §4.3, θ_edit = θ + α·v): the LoRA is flattened
// under the space's layout (signs oriented by its references), projected onto the space and
// back, moved by α·v and unflattened to rank 1.
//
// The unit of α: v is a unit vector in the flattened rank-1 space, whose coordinates are the
// factors √σ·u and √σ·v of every module, so α is a Euclidean length in those coordinates;
// ‖θ‖ of a LoRA is √(Σ 2σ_k) over its modules. The paper's edit strengths 6000–7500 are in
// weights2weights' own units (its unnormalised, standardised PCA coordinates) and do not carry
// over; choose α relative to the spread of the population along v (for example a few standard
// deviations of the training coefficients on Direction.Coef).
//
// Modules of r outside the layout are kept unchanged; modules of the layout that r lacks
// stay absent, so the edited LoRA has exactly r's module names.
func (s *Space) Edit(ctx context.Context, r *Reduced, v []float32, alpha float64, opts *EditOptions) (*Reduced, error) {
	o := opts.resolve()
	lay := s.Layout
	if len(v) != lay.Dim {
		return nil, fmt.Errorf("w2w: edit %s: %w: direction has %d values, layout %d", r.Path, ErrLayout, len(v), lay.Dim)
	}
	x := make([]float32, lay.Dim)
	mask, err := lay.Flatten(r, x)
	if err != nil {
		return nil, err
	}
	coef, err := s.Project(ctx, x, 1, &ProjectOptions{Backend: o.Backend})
	if err != nil {
		return nil, err
	}
	proj, err := s.BackProject(coef)
	if err != nil {
		return nil, err
	}
	for j := range x {
		base := proj[j]
		if o.KeepResidual {
			base = x[j]
		}
		x[j] = base + float32(alpha)*v[j]
	}
	return mergeEdited(r, lay, x, mask)
}

// EditVector moves a LoRA along v without a space: θ + α·v on its flattened vector, oriented
// by the layout's sign references. It is [Space.Edit] with KeepResidual for callers that hold
// only a layout and a direction (a direction file).
func EditVector(r *Reduced, lay *Layout, v []float32, alpha float64) (*Reduced, error) {
	if len(v) != lay.Dim {
		return nil, fmt.Errorf("w2w: edit %s: %w: direction has %d values, layout %d", r.Path, ErrLayout, len(v), lay.Dim)
	}
	x := make([]float32, lay.Dim)
	mask, err := lay.Flatten(r, x)
	if err != nil {
		return nil, err
	}
	for j := range x {
		x[j] += float32(alpha) * v[j]
	}
	return mergeEdited(r, lay, x, mask)
}

// mergeEdited unflattens x and puts its modules in place of r's, keeping r's other modules.
func mergeEdited(r *Reduced, lay *Layout, x []float32, mask []bool) (*Reduced, error) {
	for i := range mask {
		if !mask[i] {
			seg := x[lay.Modules[i].Offset : lay.Modules[i].Offset+lay.Modules[i].Size()]
			for j := range seg {
				seg[j] = 0
			}
		}
	}
	ed, err := lay.Unflatten(x, mask)
	if err != nil {
		return nil, err
	}
	out := &Reduced{Path: r.Path, Family: r.Family, Convention: r.Convention, Metadata: r.Metadata}
	for _, m := range r.Modules {
		if i := lay.Find(m.Name); i >= 0 {
			em, ok := ed.Module(m.Name)
			if !ok {
				continue
			}
			out.Modules = append(out.Modules, *em)
			continue
		}
		out.Modules = append(out.Modules, m)
	}
	return out, nil
}

// Kohya metadata values per family: ss_base_model_version as sd-scripts writes it and the
// Stability AI model-spec architecture (sai_model_spec 1.0.0).
var familyMeta = map[Family][2]string{
	SD1:  {"sd_v1", "stable-diffusion-v1/lora"},
	SD2:  {"sd_v2", "stable-diffusion-v2-768-v/lora"},
	SDXL: {"sdxl_base_v1-0", "stable-diffusion-xl-v1-base/lora"},
	Flux: {"flux1", "flux-1-dev/lora"},
}

// Rank1Tensors returns the tensors of a rank-1 LoRA in kohya's layout, whatever the input's
// convention: <name>.lora_up.weight, <name>.lora_down.weight and <name>.alpha = 1, so loaders
// apply up·down unscaled. Shapes are the base layer's: Out×1 and 1×In for a linear layer;
// [Out, 1, 1, 1] and [1, in, kh, kw] for a convolution (In = in·kh·kw), including SD1.x's 1×1
// proj_in/proj_out. A module without a kohya name (an index-named cloneofsimo module the
// family table could not name) is an error wrapping [ErrUnmappedModule].
func Rank1Tensors(r *Reduced, dt safetensors.DType) ([]safetensors.Tensor, error) {
	if dt == "" {
		dt = safetensors.F32
	}
	var ts []safetensors.Tensor
	for i := range r.Modules {
		m := &r.Modules[i]
		if !kohyaName.MatchString(m.Name) {
			return nil, fmt.Errorf("module %q: %w", m.Name, ErrUnmappedModule)
		}
		up, down := m.Factors()
		upShape, downShape := []int{m.Out, 1}, []int{1, m.In}
		if m.Kernel != nil {
			kh, kw := m.Kernel[0], m.Kernel[1]
			if kh <= 0 || kw <= 0 || m.In%(kh*kw) != 0 {
				return nil, fmt.Errorf("module %q: %w: %d inputs do not fold into a %dx%d kernel", m.Name, ErrShapeMismatch, m.In, kh, kw)
			}
			upShape, downShape = []int{m.Out, 1, 1, 1}, []int{1, m.In / (kh * kw), kh, kw}
		}
		for _, t := range []struct {
			key   string
			shape []int
			v     []float32
		}{{m.Name + ".lora_up.weight", upShape, up}, {m.Name + ".lora_down.weight", downShape, down}, {m.Name + ".alpha", nil, []float32{1}}} {
			tt, err := safetensors.FloatTensor(t.key, dt, t.shape, t.v)
			if err != nil {
				return nil, err
			}
			ts = append(ts, tt)
		}
	}
	return ts, nil
}

// Rank1Metadata returns kohya metadata for a rank-1 LoRA of the family.
func Rank1Metadata(f Family) map[string]string {
	meta := map[string]string{
		"ss_network_dim":           "1",
		"ss_network_alpha":         "1",
		"ss_network_module":        "networks.lora",
		"modelspec.sai_model_spec": "1.0.0",
	}
	if fm, ok := familyMeta[f]; ok {
		meta["ss_base_model_version"] = fm[0]
		meta["modelspec.architecture"] = fm[1]
	}
	return meta
}
