package personalize

import (
	"context"
	"fmt"

	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/imagegem/imagegem-go/w2w"
)

// Progress is one progress report (the module's shared shape). Population building reports
// stage "population" (LoRAs projected so far); the batch form reports stage "users".
type Progress = progress.Progress

// LoRA is one LoRA of the population a user's preference labels: its id (the model version
// id in a release), its rank-1 reduction and the ids of its example images in the
// embedding store.
type LoRA struct {
	ID       string
	Reduced  *w2w.Reduced
	Examples []uint64
}

// Population is a weights2weights space with the LoRAs that preferences label: each LoRA's
// coefficients in the space and the mean of its example images' embeddings. It is built
// once and serves every user.
type Population struct {
	Space   *w2w.Space
	Vectors Vectors
	// IDs are the LoRAs' ids in order; Coef holds their coefficients (len(IDs)×Space.M()).
	IDs  []string
	Coef []float64
	// Examples are the example image ids of each LoRA; ExampleMean is the mean of their
	// unit embeddings (len(IDs)×Vectors.Dim()), zero for a LoRA without examples.
	Examples    [][]uint64
	ExampleMean []float32
	// gain maps a direction's weight-space vector to PCA coordinates: see projector.
}

// PopulationOptions configures [NewPopulation].
type PopulationOptions struct {
	// Projection chooses the backend of the projections (nil: w2w's default).
	Projection *w2w.ProjectOptions
	// Progress receives stage "population" reports (LoRAs done out of all).
	Progress func(Progress)
}

// NewPopulation projects every LoRA onto the space and averages its example embeddings.
// A LoRA of another family than the space is ErrFamily, one that shares no module with the
// layout or whose modules have other shapes is ErrLayout; an example image missing from the
// store is ErrMissingVector. Each error names the LoRA.
func NewPopulation(ctx context.Context, space *w2w.Space, vecs Vectors, loras []LoRA, opts *PopulationOptions) (*Population, error) {
	var o PopulationOptions
	if opts != nil {
		o = *opts
	}
	report := progress.Func(o.Progress)
	if space == nil || space.Layout == nil || vecs == nil {
		return nil, fmt.Errorf("personalize: population: %w: a space and a vector store are required", ErrInvalidOptions)
	}
	if len(loras) < 2 {
		return nil, fmt.Errorf("personalize: population: %w: %d LoRAs, at least 2 are needed", ErrLabels, len(loras))
	}
	lay := space.Layout
	d, dim := lay.Dim, vecs.Dim()
	p := &Population{Space: space, Vectors: vecs, ExampleMean: make([]float32, len(loras)*dim)}
	const batch = 64
	x := make([]float32, batch*d)
	for b := 0; b < len(loras); b += batch {
		e := min(b+batch, len(loras))
		for i := b; i < e; i++ {
			if err := flattenInto(lay, loras[i].Reduced, loras[i].ID, x[(i-b)*d:(i-b+1)*d]); err != nil {
				return nil, err
			}
		}
		c, err := space.Project(ctx, x[:(e-b)*d], e-b, o.Projection)
		if err != nil {
			return nil, fmt.Errorf("personalize: population: %w", err)
		}
		p.Coef = append(p.Coef, c...)
		for i := b; i < e; i++ {
			l := loras[i]
			p.IDs = append(p.IDs, l.ID)
			p.Examples = append(p.Examples, l.Examples)
			if len(l.Examples) == 0 {
				continue
			}
			v, err := lookup(vecs, l.Examples, "lora "+l.ID)
			if err != nil {
				return nil, err
			}
			meanOfUnitRows(v, dim, p.ExampleMean[i*dim:(i+1)*dim])
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		report.Report(Progress{Stage: "population", Done: e, Total: len(loras)})
	}
	return p, nil
}

// flattenInto flattens r under the layout into dst, checking the family and that r shares
// at least one module with the layout.
func flattenInto(lay *w2w.Layout, r *w2w.Reduced, id string, dst []float32) error {
	if r == nil {
		return fmt.Errorf("personalize: lora %q: %w: no reduced LoRA", id, ErrInvalidOptions)
	}
	if r.Family != lay.Family {
		return fmt.Errorf("%w: lora %q (%s) is %s, the space is %s", ErrFamily, id, r.Path, r.Family, lay.Family)
	}
	mask, err := lay.Flatten(r, dst)
	if err != nil {
		return fmt.Errorf("personalize: lora %q: %w", id, err)
	}
	for _, ok := range mask {
		if ok {
			return nil
		}
	}
	return fmt.Errorf("personalize: lora %q (%s): %w: none of its %d modules is in the space's layout of %d modules", id, r.Path, ErrLayout, len(r.Modules), len(lay.Modules))
}

// meanOfUnitRows writes the mean of the rows of v (each scaled to unit length) into dst.
func meanOfUnitRows(v []float32, dim int, dst []float32) {
	n := len(v) / dim
	acc := make([]float64, dim)
	for i := 0; i < n; i++ {
		row := v[i*dim : (i+1)*dim]
		s := 0.0
		for _, x := range row {
			s += float64(x) * float64(x)
		}
		if s == 0 {
			continue
		}
		inv := 1 / sqrt(s)
		for j, x := range row {
			acc[j] += float64(x) * inv
		}
	}
	for j := range dst {
		dst[j] = float32(acc[j] / float64(n))
	}
}

// N is the number of LoRAs.
func (p *Population) N() int { return len(p.IDs) }

// Index returns the position of the LoRA with the id, or -1.
func (p *Population) Index(id string) int {
	for i, x := range p.IDs {
		if x == id {
			return i
		}
	}
	return -1
}
