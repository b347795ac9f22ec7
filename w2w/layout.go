package w2w

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Selection is a layer-selection strategy of paper §5.3.1: which modules enter the vectors.
type Selection string

// Layer selections.
const (
	SelectAll     Selection = "all"       // every module
	SelectFF      Selection = "ff"        // feed-forward modules only
	SelectAttnV   Selection = "attn_v"    // attention value projections only
	SelectFFAttnV Selection = "ff+attn_v" // both
)

// keeps reports whether the selection includes a module of kind k.
func (s Selection) keeps(k Kind) bool {
	switch s {
	case SelectAll, "":
		return true
	case SelectFF:
		return k == FF
	case SelectAttnV:
		return k == AttnV
	case SelectFFAttnV:
		return k == FF || k == AttnV
	}
	return false
}

// LayoutModule is one module's place in a flattened vector.
type LayoutModule struct {
	Name      string    `json:"name"`
	Component Component `json:"component"`
	Kind      Kind      `json:"kind"`
	Attn      int       `json:"attn,omitempty"`
	Out       int       `json:"out"`
	In        int       `json:"in"`
	Kernel    []int     `json:"kernel,omitempty"`
	// Rank is 1 for rank-1 layouts and the fixed rank otherwise.
	Rank int `json:"rank"`
	// Offset is the index of the module's first coordinate; the module takes Out·Rank up
	// coordinates then Rank·In down coordinates.
	Offset int `json:"offset"`
	// Ref is the sign reference of a rank-1 module: the leading eigenvector of Σ u·uᵀ over the
	// population the layout was built from. Each flattened module is oriented so u·Ref ≥ 0.
	Ref []float32 `json:"-"`
}

// Size returns the number of coordinates the module takes.
func (m *LayoutModule) Size() int { return m.Rank * (m.Out + m.In) }

// Layout is the manifest shared by all vectors of a space: ordered modules and their shapes,
// for one base family (paper §4.3, "flatten and concatenate").
type Layout struct {
	Family    Family         `json:"family"`
	Selection Selection      `json:"selection"`
	FixedRank int            `json:"fixed_rank,omitempty"`
	Modules   []LayoutModule `json:"modules"`
	Dim       int            `json:"dim"`

	index map[string]int
}

// LayoutOptions configures [NewLayout] and [NewFixedRankLayout]. The zero value keeps all
// modules of every component.
type LayoutOptions struct {
	Selection Selection
	// Components, when set, keeps only modules of these networks (for example only UNet).
	Components []Component
	// RefIterations bounds the power iterations of each sign reference (0 means 100).
	RefIterations int
}

func (o *LayoutOptions) keeps(c Component, k Kind) bool {
	if !o.Selection.keeps(k) {
		return false
	}
	if len(o.Components) == 0 {
		return true
	}
	for _, x := range o.Components {
		if x == c {
			return true
		}
	}
	return false
}

const defaultRefIterations = 100

// refTolerance ends the power iteration when the reference moves less than this (in norm).
const refTolerance = 1e-9

// validate checks a layout read from a file before its offsets are computed.
func (l *Layout) validate() error {
	total := 0
	for i, m := range l.Modules {
		if m.Out <= 0 || m.In <= 0 || m.Rank <= 0 || m.Out > 1<<24 || m.In > 1<<28 || m.Rank > 1<<16 {
			return fmt.Errorf("%w: module %d (%q) is %dx%d of rank %d", ErrLayout, i, m.Name, m.Out, m.In, m.Rank)
		}
		total += m.Size()
		if total > 1<<40 {
			return fmt.Errorf("%w: layout too large", ErrLayout)
		}
	}
	return nil
}

func (l *Layout) finish() {
	l.index = make(map[string]int, len(l.Modules))
	off := 0
	for i := range l.Modules {
		l.Modules[i].Offset = off
		off += l.Modules[i].Size()
		l.index[l.Modules[i].Name] = i
	}
	l.Dim = off
}

// Find returns the index of the named module, or -1.
func (l *Layout) Find(name string) int {
	if l.index == nil {
		l.finish()
	}
	i, ok := l.index[name]
	if !ok {
		return -1
	}
	return i
}

// NewLayout builds the rank-1 layout of a population of reduced LoRAs: the union of their
// selected modules in name order, with shapes checked for agreement, and one sign reference
// per module computed from every LoRA that has it. All LoRAs must share one base family.
func NewLayout(ctx context.Context, loras []*Reduced, opts *LayoutOptions) (*Layout, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if len(loras) == 0 {
		return nil, fmt.Errorf("w2w: layout: %w: no LoRAs", ErrLayout)
	}
	lay := &Layout{Family: loras[0].Family, Selection: o.Selection}
	byName := map[string]int{}
	members := map[string][]*Rank1Module{}
	for _, r := range loras {
		if r.Family != lay.Family {
			return nil, fmt.Errorf("w2w: layout: %s: %w: family %s, the population's is %s", r.Path, ErrLayout, r.Family, lay.Family)
		}
		for i := range r.Modules {
			m := &r.Modules[i]
			if !o.keeps(m.Component, m.Kind) {
				continue
			}
			if j, ok := byName[m.Name]; ok {
				lm := lay.Modules[j]
				if lm.Out != m.Out || lm.In != m.In {
					return nil, fmt.Errorf("w2w: layout: %s: module %q: %w: %dx%d, other LoRAs have %dx%d", r.Path, m.Name, ErrLayout, m.Out, m.In, lm.Out, lm.In)
				}
			} else {
				byName[m.Name] = len(lay.Modules)
				lay.Modules = append(lay.Modules, LayoutModule{Name: m.Name, Component: m.Component, Kind: m.Kind, Attn: m.Attn, Out: m.Out, In: m.In, Kernel: m.Kernel, Rank: 1})
			}
			members[m.Name] = append(members[m.Name], m)
		}
	}
	if len(lay.Modules) == 0 {
		return nil, fmt.Errorf("w2w: layout: %w: selection %q keeps no module", ErrLayout, lay.Selection)
	}
	sort.Slice(lay.Modules, func(i, j int) bool { return lay.Modules[i].Name < lay.Modules[j].Name })
	lay.finish()
	iters := o.RefIterations
	err = parallelFor(ctx, len(lay.Modules), CPU{}.workers(), func(i int) error {
		lay.Modules[i].Ref = signReference(members[lay.Modules[i].Name], iters)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lay, nil
}

// signReference returns the leading eigenvector of Σ u·uᵀ over the modules (by power
// iteration without forming the matrix), oriented so its largest-magnitude entry is positive.
// Modules with σ = 0 carry no direction and are skipped.
func signReference(ms []*Rank1Module, iters int) []float32 {
	var us [][]float32
	for _, m := range ms {
		if m.Sigma > 0 {
			us = append(us, m.U)
		}
	}
	if len(us) == 0 {
		return nil
	}
	n := len(us[0])
	x := make([]float64, n)
	// Start from the members folded onto the first one's hemisphere.
	for _, u := range us {
		s := 1.0
		if dotMixed(u, us[0]) < 0 {
			s = -1
		}
		for i, v := range u {
			x[i] += s * float64(v)
		}
	}
	if normalize(x) == 0 {
		for i, v := range us[0] {
			x[i] = float64(v)
		}
		normalize(x)
	}
	y := make([]float64, n)
	for it := 0; it < iters; it++ {
		for i := range y {
			y[i] = 0
		}
		for _, u := range us {
			c := 0.0
			for i, v := range u {
				c += float64(v) * x[i]
			}
			for i, v := range u {
				y[i] += c * float64(v)
			}
		}
		if normalize(y) == 0 {
			break
		}
		diff := 0.0
		for i := range y {
			d := y[i] - x[i]
			diff += d * d
		}
		x, y = y, x
		if math.Sqrt(diff) < refTolerance {
			break
		}
	}
	best, bi := -1.0, 0
	for i, v := range x {
		if a := math.Abs(v); a > best {
			best, bi = a, i
		}
	}
	ref := make([]float32, n)
	s := 1.0
	if x[bi] < 0 {
		s = -1
	}
	for i, v := range x {
		ref[i] = float32(s * v)
	}
	return ref
}

func dotMixed(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Flatten writes r's vector into dst (length Dim): for each module √σ·u then √σ·v, oriented
// by the module's sign reference; modules r lacks are zero. mask[i] reports whether module i
// was present. Modules of r outside the layout are ignored; r is not modified.
func (l *Layout) Flatten(r *Reduced, dst []float32) (mask []bool, err error) {
	if l.FixedRank != 0 {
		return nil, fmt.Errorf("w2w: flatten %s: %w: a fixed-rank layout flattens LoRAs (FlattenLoRA)", r.Path, ErrLayout)
	}
	if len(dst) != l.Dim {
		return nil, fmt.Errorf("w2w: flatten %s: %w: destination has %d values, layout %d", r.Path, ErrLayout, len(dst), l.Dim)
	}
	for i := range dst {
		dst[i] = 0
	}
	return l.match(r, func(lm *LayoutModule, m *Rank1Module) {
		s := math.Sqrt(m.Sigma)
		if lm.Ref != nil && dotMixed(m.U, lm.Ref) < 0 {
			s = -s
		}
		seg := dst[lm.Offset : lm.Offset+lm.Size()]
		for j, x := range m.U {
			seg[j] = float32(s * float64(x))
		}
		for j, x := range m.V {
			seg[lm.Out+j] = float32(s * float64(x))
		}
	})
}

// match checks a reduced LoRA against a rank-1 layout and calls place for each of its
// modules the layout holds, returning the layout's module mask. Every backend's Flatten
// goes through it, so they accept and reject the same inputs.
func (l *Layout) match(r *Reduced, place func(lm *LayoutModule, m *Rank1Module)) (mask []bool, err error) {
	if r.Family != l.Family {
		return nil, fmt.Errorf("w2w: flatten %s: %w: family %s, layout %s", r.Path, ErrLayout, r.Family, l.Family)
	}
	mask = make([]bool, len(l.Modules))
	for k := range r.Modules {
		m := &r.Modules[k]
		i := l.Find(m.Name)
		if i < 0 {
			continue
		}
		lm := &l.Modules[i]
		if lm.Out != m.Out || lm.In != m.In || len(m.U) != m.Out || len(m.V) != m.In {
			return nil, fmt.Errorf("w2w: flatten %s: module %q: %w: %dx%d (u %d, v %d values), layout %dx%d", r.Path, m.Name, ErrLayout, m.Out, m.In, len(m.U), len(m.V), lm.Out, lm.In)
		}
		if lm.Ref != nil && len(lm.Ref) != lm.Out {
			return nil, fmt.Errorf("w2w: flatten %s: module %q: %w: sign reference has %d values for %d outputs", r.Path, m.Name, ErrLayout, len(lm.Ref), lm.Out)
		}
		mask[i] = true
		place(lm, m)
	}
	return mask, nil
}

// Unflatten turns a rank-1 vector back into a reduced LoRA: each module's up segment a and
// down segment b give σ = ‖a‖·‖b‖, u = a/‖a‖, v = b/‖b‖ (the σ·u·vᵀ = a·bᵀ they encode).
// Modules whose segment is zero are left out when mask is nil or false for them.
func (l *Layout) Unflatten(x []float32, mask []bool) (*Reduced, error) {
	if l.FixedRank != 0 {
		return nil, fmt.Errorf("w2w: unflatten: %w: fixed-rank layouts are not unflattened to rank 1", ErrLayout)
	}
	if len(x) != l.Dim {
		return nil, fmt.Errorf("w2w: unflatten: %w: vector has %d values, layout %d", ErrLayout, len(x), l.Dim)
	}
	out := &Reduced{Family: l.Family, Convention: Kohya}
	for i := range l.Modules {
		lm := &l.Modules[i]
		seg := x[lm.Offset : lm.Offset+lm.Size()]
		a, b := f64(seg[:lm.Out]), f64(seg[lm.Out:])
		na, nb := normalize(a), normalize(b)
		if (na == 0 || nb == 0) && (mask == nil || !mask[i]) {
			continue
		}
		m := Rank1Module{Name: lm.Name, Component: lm.Component, Kind: lm.Kind, Attn: lm.Attn, Out: lm.Out, In: lm.In, Kernel: lm.Kernel, Sigma: na * nb}
		m.Energy = m.Sigma * m.Sigma
		m.U, m.V = make([]float32, lm.Out), make([]float32, lm.In)
		for j, v := range a {
			m.U[j] = float32(v)
		}
		for j, v := range b {
			m.V[j] = float32(v)
		}
		out.Modules = append(out.Modules, m)
	}
	return out, nil
}

// NewFixedRankLayout builds the fixed-rank alternative of §5.3.1: only LoRAs whose every
// selected module has rank r enter, with their raw factors (up·√scale, then down·√scale)
// instead of a rank-1 reduction. It returns the layout and the indices of the LoRAs kept.
// Raw factors are defined only up to an invertible r×r change of basis, so this layout is
// meaningful for LoRAs fine-tuned from one shared initialisation.
func NewFixedRankLayout(loras []*LoRA, rank int, opts *LayoutOptions) (*Layout, []int, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, nil, err
	}
	if rank <= 0 {
		return nil, nil, fmt.Errorf("w2w: fixed-rank layout: %w: rank %d", ErrLayout, rank)
	}
	var keep []int
	lay := &Layout{Selection: o.Selection, FixedRank: rank}
	byName := map[string]bool{}
	for idx, l := range loras {
		ok := true
		for _, m := range l.Modules {
			if o.keeps(m.Component, m.Kind) && (m.Rank != rank || m.Kron != nil || m.Algo != "") {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if len(keep) == 0 {
			lay.Family = l.Family
		} else if l.Family != lay.Family {
			return nil, nil, fmt.Errorf("w2w: fixed-rank layout: %s: %w: family %s, the population's is %s", l.Path, ErrLayout, l.Family, lay.Family)
		}
		keep = append(keep, idx)
		for _, m := range l.Modules {
			if !o.keeps(m.Component, m.Kind) || byName[m.Name] {
				continue
			}
			byName[m.Name] = true
			lay.Modules = append(lay.Modules, LayoutModule{Name: m.Name, Component: m.Component, Kind: m.Kind, Attn: m.Attn, Out: m.Out, In: m.In, Kernel: m.Kernel, Rank: rank})
		}
	}
	if len(lay.Modules) == 0 {
		return nil, nil, fmt.Errorf("w2w: fixed-rank layout: %w: no LoRA of rank %d with selected modules", ErrLayout, rank)
	}
	sort.Slice(lay.Modules, func(i, j int) bool { return lay.Modules[i].Name < lay.Modules[j].Name })
	lay.finish()
	return lay, keep, nil
}

// FlattenLoRA writes a LoRA's raw factors into dst under a fixed-rank layout.
func (l *Layout) FlattenLoRA(lo *LoRA, dst []float32) (mask []bool, err error) {
	if l.FixedRank == 0 {
		return nil, fmt.Errorf("w2w: flatten %s: %w: a rank-1 layout flattens reduced LoRAs (Flatten)", lo.Path, ErrLayout)
	}
	if len(dst) != l.Dim {
		return nil, fmt.Errorf("w2w: flatten %s: %w: destination has %d values, layout %d", lo.Path, ErrLayout, len(dst), l.Dim)
	}
	for i := range dst {
		dst[i] = 0
	}
	mask = make([]bool, len(l.Modules))
	for k := range lo.Modules {
		m := &lo.Modules[k]
		i := l.Find(m.Name)
		if i < 0 {
			continue
		}
		lm := &l.Modules[i]
		if m.Rank != l.FixedRank || m.Kron != nil || m.Algo != "" || lm.Out != m.Out || lm.In != m.In || len(m.Up) != m.Out*m.Rank || len(m.Down) != m.Rank*m.In {
			return nil, fmt.Errorf("w2w: flatten %s: module %q: %w: rank %d %dx%d, layout rank %d %dx%d", lo.Path, m.Name, ErrLayout, m.Rank, m.Out, m.In, l.FixedRank, lm.Out, lm.In)
		}
		mask[i] = true
		s := float32(math.Sqrt(math.Abs(m.Scale())))
		sign := float32(1)
		if m.Scale() < 0 {
			sign = -1
		}
		seg := dst[lm.Offset : lm.Offset+lm.Size()]
		for j, x := range m.Up {
			seg[j] = sign * s * x
		}
		for j, x := range m.Down {
			seg[lm.Out*lm.Rank+j] = s * x
		}
	}
	return mask, nil
}

// f64 converts a float32 slice to a new float64 slice.
func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
