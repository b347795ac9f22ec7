package personalize

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/imagegem/imagegem-go/w2w"
)

// DefaultHoldOut is the share of the labelled LoRAs kept out of training to measure the
// classifier's accuracy (stratified by label).
const DefaultHoldOut = 0.2

// DirectionOptions configures [Population.LearnDirection].
type DirectionOptions struct {
	// Classifier configures the linear model (nil: w2w's default, logistic regression).
	Classifier *w2w.DirectionOptions
	// HoldOut is the share of each label kept out for the held-out accuracy (0 means
	// DefaultHoldOut; negative means none, and the accuracy is then NaN).
	HoldOut float64
	// Seed draws the held-out LoRAs.
	Seed uint64
}

func (o *DirectionOptions) resolve() (DirectionOptions, error) {
	var r DirectionOptions
	if o != nil {
		r = *o
	}
	if r.HoldOut >= 0.9 || math.IsNaN(r.HoldOut) {
		return r, invalid("DirectionOptions", "HoldOut", "%v is not below 0.9", r.HoldOut)
	}
	if r.HoldOut == 0 {
		r.HoldOut = DefaultHoldOut
	}
	return r, nil
}

// Direction is a user's preference direction in a population's space, with the spread of
// the population along it (the unit of α) and where the groups lie on it.
type Direction struct {
	*w2w.Direction
	// Spread is the standard deviation of the population's projections onto Vector, in raw
	// weight units: α = 1 moves a LoRA by one spread.
	Spread float64
	// Mean is the population's mean projection; Preferred and NotPreferred are the mean
	// projections of the two labelled groups, all in raw units relative to the space mean.
	Mean, Preferred, NotPreferred float64
	// HeldOutAccuracy is the accuracy on the held-out labelled LoRAs of a direction fitted
	// on the others, with the threshold along it that best separates the training LoRAs;
	// NaN without a held-out set. Accuracy (embedded) is the training accuracy of the
	// final direction, fitted on every labelled LoRA.
	HeldOutAccuracy float64
	// HeldOut counts the held-out LoRAs.
	HeldOut int
	// gain is g of Projection: ⟨x − mean, Vector⟩ = Σ_k c_k·gain_k for x in the space.
	gain []float64
}

// Z expresses a raw projection in spreads from the population mean.
func (d *Direction) Z(raw float64) float64 { return (raw - d.Mean) / d.Spread }

// LearnDirection fits the preference direction on the labelled LoRAs (+1, −1; 0 is left
// out) with w2w.Space.Direction, measures the held-out accuracy, and the population's
// spread along the direction.
func (p *Population) LearnDirection(ctx context.Context, labels []int, opts *DirectionOptions) (*Direction, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if len(labels) != p.N() {
		return nil, fmt.Errorf("%w: %d labels for %d LoRAs", ErrLabels, len(labels), p.N())
	}
	m := p.Space.M()
	var idx []int
	for i, y := range labels {
		switch y {
		case 0:
		case 1, -1:
			idx = append(idx, i)
		default:
			return nil, fmt.Errorf("%w: label %d of lora %q is not 1, -1 or 0", ErrLabels, y, p.IDs[i])
		}
	}
	coef, ys := p.rows(idx, labels)
	wd, err := p.Space.Direction(ctx, coef, len(idx), ys, o.Classifier)
	if err != nil {
		return nil, fmt.Errorf("personalize: direction: %w", err)
	}
	d := &Direction{Direction: wd, HeldOutAccuracy: math.NaN()}
	d.gain = p.gain(wd.Vector)
	proj := p.Projections(d)
	var sum, ss float64
	for _, x := range proj {
		sum += x
	}
	d.Mean = sum / float64(len(proj))
	for _, x := range proj {
		ss += (x - d.Mean) * (x - d.Mean)
	}
	d.Spread = math.Sqrt(ss / float64(len(proj)))
	if d.Spread == 0 {
		return nil, fmt.Errorf("personalize: direction: %w: the population does not vary along it", ErrLabels)
	}
	var np, nn int
	for _, i := range idx {
		if labels[i] > 0 {
			d.Preferred += proj[i]
			np++
		} else {
			d.NotPreferred += proj[i]
			nn++
		}
	}
	d.Preferred /= float64(np)
	d.NotPreferred /= float64(nn)
	if o.HoldOut > 0 {
		train, test := holdOut(idx, labels, o.HoldOut, o.Seed)
		if len(test) > 0 {
			tc, ty := p.rows(train, labels)
			w, _, err := w2w.TrainDirection(tc, len(train), m, ty, o.Classifier)
			if err != nil {
				return nil, fmt.Errorf("personalize: held-out direction: %w", err)
			}
			d.HeldOutAccuracy = heldOutAccuracy(p.Coef, m, w, train, test, labels)
			d.HeldOut = len(test)
		}
	}
	return d, nil
}

// rows gathers the coefficient rows and labels of idx.
func (p *Population) rows(idx []int, labels []int) ([]float64, []int) {
	m := p.Space.M()
	coef := make([]float64, 0, len(idx)*m)
	ys := make([]int, 0, len(idx))
	for _, i := range idx {
		coef = append(coef, p.Coef[i*m:(i+1)*m]...)
		ys = append(ys, labels[i])
	}
	return coef, ys
}

// holdOut splits idx into train and test, drawing share of each label (at least one, and
// never the last of a label) into test.
func holdOut(idx, labels []int, share float64, seed uint64) (train, test []int) {
	rng := rand.New(rand.NewPCG(seed, 0x5e1d))
	for _, y := range []int{1, -1} {
		var g []int
		for _, i := range idx {
			if labels[i] == y {
				g = append(g, i)
			}
		}
		rng.Shuffle(len(g), func(a, b int) { g[a], g[b] = g[b], g[a] })
		k := int(math.Round(share * float64(len(g))))
		k = min(max(k, 1), len(g)-1)
		if len(g) < 2 {
			k = 0
		}
		test = append(test, g[:k]...)
		train = append(train, g[k:]...)
	}
	sort.Ints(train)
	sort.Ints(test)
	return train, test
}

// heldOutAccuracy scores w on the test rows with the threshold along w that best separates
// the training rows (the midpoint of the best split of their sorted projections).
func heldOutAccuracy(coef []float64, m int, w []float64, train, test, labels []int) float64 {
	score := func(i int) float64 {
		s := 0.0
		for k, x := range w {
			s += x * coef[i*m+k]
		}
		return s
	}
	type pt struct {
		s float64
		y int
	}
	pts := make([]pt, len(train))
	for a, i := range train {
		pts[a] = pt{score(i), labels[i]}
	}
	sort.Slice(pts, func(a, b int) bool { return pts[a].s < pts[b].s })
	// Threshold between pts[k-1] and pts[k]: below is −1, at or above +1.
	neg := 0
	pos := 0
	for _, q := range pts {
		if q.y > 0 {
			pos++
		}
	}
	best, bestK := pos, 0 // k = 0: everything +1
	for k := 1; k <= len(pts); k++ {
		if pts[k-1].y < 0 {
			neg++
		} else {
			pos--
		}
		if neg+pos > best {
			best, bestK = neg+pos, k
		}
	}
	var th float64
	switch {
	case bestK == 0:
		th = math.Inf(-1)
	case bestK == len(pts):
		th = math.Inf(1)
	default:
		th = (pts[bestK-1].s + pts[bestK].s) / 2
	}
	correct := 0
	for _, i := range test {
		if (score(i) >= th) == (labels[i] > 0) {
			correct++
		}
	}
	return float64(correct) / float64(len(test))
}

// gain returns g with g_k = ⟨V_k, std ⊙ v⟩, so that a vector x of the space projects onto
// v as ⟨x − mean, v⟩ = Σ_k c_k·g_k.
func (p *Population) gain(v []float32) []float64 {
	sp := p.Space
	d := sp.Dim()
	g := make([]float64, sp.M())
	for k := range g {
		row := sp.Components[k*d : (k+1)*d]
		s := 0.0
		for j, x := range row {
			y := float64(v[j])
			if sp.Std != nil {
				y *= float64(sp.Std[j])
			}
			s += float64(x) * y
		}
		g[k] = s
	}
	return g
}

// Projections returns every LoRA's projection onto the direction's Vector (raw units,
// relative to the space mean, within the space).
func (p *Population) Projections(d *Direction) []float64 {
	m := p.Space.M()
	if d.gain == nil {
		d.gain = p.gain(d.Vector)
	}
	out := make([]float64, p.N())
	for i := range out {
		s := 0.0
		for k, g := range d.gain {
			s += g * p.Coef[i*m+k]
		}
		out[i] = s
	}
	return out
}

// Projection returns a LoRA's projection onto the direction, ⟨θ − mean, v⟩ in raw units,
// from its flattened vector (the part outside the space included).
func (p *Population) Projection(r *w2w.Reduced, d *Direction) (float64, error) {
	lay := p.Space.Layout
	x := make([]float32, lay.Dim)
	if err := flattenInto(lay, r, r.Path, x); err != nil {
		return 0, err
	}
	s := 0.0
	for j, v := range d.Vector {
		s += float64(v) * (float64(x[j]) - float64(p.Space.Mean[j]))
	}
	return s, nil
}

// Placement says where a LoRA lies along a direction before and after an edit, in spreads
// from the population mean, next to the two labelled groups.
type Placement struct {
	Before, After           float64
	Preferred, NotPreferred float64
	// Side names the stretch the edited LoRA lands in: "beyond preferred", "between the
	// groups" or "beyond not preferred".
	Side string
}

// place builds the placement of raw projections before and after.
func (d *Direction) place(before, after float64) Placement {
	pl := Placement{Before: d.Z(before), After: d.Z(after), Preferred: d.Z(d.Preferred), NotPreferred: d.Z(d.NotPreferred)}
	hi, lo := pl.Preferred, pl.NotPreferred
	sign := 1.0
	if hi < lo {
		sign = -1
	}
	switch a := pl.After * sign; {
	case a >= hi*sign:
		pl.Side = "beyond preferred"
	case a <= lo*sign:
		pl.Side = "beyond not preferred"
	default:
		pl.Side = "between the groups"
	}
	return pl
}

// EditOptions configures [Population.Edit].
type EditOptions struct {
	// KeepResidual keeps the part of the LoRA outside the space (w2w.EditOptions); by
	// default the LoRA is replaced by its projection onto the space, as weights2weights does.
	KeepResidual bool
	Backend      w2w.Backend
}

// Edit moves a LoRA along directions: θ_edit = θ + Σ_k α_k·s_k·v_k, where s_k is the
// population's spread along v_k, so α is in spreads (α = 1 moves the LoRA by one standard
// deviation of the population along the direction). One direction is the single-user edit
// of §4.3; several are the multi-direction form (one LoRA, several users: M_k = M_0 +
// λ_k·d_k). The placement of the LoRA along each direction before and after is returned.
func (p *Population) Edit(ctx context.Context, base *w2w.Reduced, dirs []*Direction, alphas []float64, opts *EditOptions) (*w2w.Reduced, []Placement, error) {
	var o EditOptions
	if opts != nil {
		o = *opts
	}
	if len(dirs) == 0 || len(dirs) != len(alphas) {
		return nil, nil, fmt.Errorf("personalize: edit: %w: %d directions and %d strengths", ErrInvalidOptions, len(dirs), len(alphas))
	}
	lay := p.Space.Layout
	if base == nil {
		return nil, nil, fmt.Errorf("personalize: edit: %w: no base LoRA", ErrInvalidOptions)
	}
	if base.Family != lay.Family {
		return nil, nil, fmt.Errorf("%w: base lora %s is %s, the space is %s", ErrFamily, base.Path, base.Family, lay.Family)
	}
	x := make([]float32, lay.Dim)
	if err := flattenInto(lay, base, base.Path, x); err != nil {
		return nil, nil, err
	}
	u := make([]float64, lay.Dim)
	for k, d := range dirs {
		if len(d.Vector) != lay.Dim {
			return nil, nil, fmt.Errorf("personalize: edit: %w: direction %d has %d values, the layout %d", ErrLayout, k, len(d.Vector), lay.Dim)
		}
		if math.IsNaN(alphas[k]) || math.IsInf(alphas[k], 0) {
			return nil, nil, invalid("Edit", "alpha", "strength %d is %v", k, alphas[k])
		}
		s := alphas[k] * d.Spread
		for j, v := range d.Vector {
			u[j] += s * float64(v)
		}
	}
	norm := 0.0
	for _, v := range u {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	v := make([]float32, lay.Dim)
	if norm > 0 {
		for j := range u {
			v[j] = float32(u[j] / norm)
		}
	}
	ed, err := p.Space.Edit(ctx, base, v, norm, &w2w.EditOptions{KeepResidual: o.KeepResidual, Backend: o.Backend})
	if err != nil {
		return nil, nil, fmt.Errorf("personalize: edit: %w", err)
	}
	pls := make([]Placement, len(dirs))
	for k, d := range dirs {
		before, err := p.Projection(base, d)
		if err != nil {
			return nil, nil, err
		}
		after, err := p.Projection(ed, d)
		if err != nil {
			return nil, nil, err
		}
		pls[k] = d.place(before, after)
	}
	return ed, pls, nil
}
