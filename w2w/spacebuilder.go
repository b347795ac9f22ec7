package w2w

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/imagegem/imagegem-go/internal/progress"
	"gonum.org/v1/gonum/mat"
)

// PCA methods of spaces built by a [SpaceBuilder].
const (
	// PCASketch is the one-pass randomized sketch of Tropp et al. 2017 ([SpaceBuilder]).
	PCASketch PCAMethod = "sketch"
	// PCASketch2 is the two-pass variant: a co-range sketch, then exact coordinates in its
	// basis.
	PCASketch2 PCAMethod = "sketch-2pass"
)

// ErrSketch reports builders, checkpoints or passes that do not fit together: another seed,
// layout or sketch size, a LoRA the first pass did not see, a second pass left incomplete.
var ErrSketch = errors.New("sketch mismatch")

// Defaults of [SpaceBuilderOptions].
const (
	// defaultBuilderBatch is the number of LoRAs folded into the sketches by one product: W
	// (l×d) is read and written once per batch, so larger batches cost fewer passes over it.
	defaultBuilderBatch = 16
	// combineChunkBytes bounds the temporary rows of one sketch update (64 MiB of float32).
	combineChunkBytes = 64 << 20
	// inPlaceColBlock is the column block of the in-place products of Finish and NextPass.
	inPlaceColBlock = 8192
	// sketchRankFloor drops singular values below this fraction of the largest when the
	// sketches are orthonormalised: they are rounding noise of a rank-deficient population.
	sketchRankFloor = 1e-7
)

// Salts of the random streams: Ω's row j comes from PCG(seed^omegaSalt, j), ψ of the LoRA
// with key h from PCG(seed^psiSalt, h).
const (
	omegaSalt = 0x6f6d656761000001
	psiSalt   = 0x7073690000000002
)

// SpaceBuilderOptions configures [NewSpaceBuilder]. The zero value keeps DefaultComponents
// components from one pass with Tropp et al.'s sketch sizes on the default backend.
type SpaceBuilderOptions struct {
	// Components is m, the number of principal components kept (0 means DefaultComponents;
	// Finish refuses more than N−1).
	Components int
	// Passes is 1 (the default: every LoRA is read once) or 2 (a second reading of the same
	// population, after [SpaceBuilder.NextPass], for the accuracy of an exact projection).
	Passes int
	// RangeSketch is k, the columns of the range test matrix Ω of one pass (0 means 2m+1).
	RangeSketch int
	// CoRangeSketch is l, the rows of the co-range test matrix Ψ (0 means 2k+1, with k's
	// default in two passes as well).
	CoRangeSketch int
	// Seed makes the test matrices; builders meant to merge share it.
	Seed uint64
	// Batch is the number of LoRAs folded into the sketches at once (0 means 16).
	Batch int
	// Backend runs the sketch products; nil means [DefaultBackend].
	Backend Backend
	// Progress, when set, is called at each stage of NextPass and Finish ("test matrix",
	// "basis", "orthonormalise", "solve", "components").
	Progress func(Progress)
}

// resolve validates the options for vectors of length d and fills their defaults.
func (o *SpaceBuilderOptions) resolve(d int) (SpaceBuilderOptions, error) {
	var r SpaceBuilderOptions
	if o != nil {
		r = *o
	}
	const typ = "SpaceBuilderOptions"
	switch {
	case r.Components < 0:
		return r, invalid(typ, "Components", "%d < 0", r.Components)
	case r.Components == 0:
		r.Components = DefaultComponents
	}
	switch r.Passes {
	case 0:
		r.Passes = 1
	case 1, 2:
	default:
		return r, invalid(typ, "Passes", "%d is not 1 or 2", r.Passes)
	}
	m := r.Components
	switch {
	case r.RangeSketch < 0:
		return r, invalid(typ, "RangeSketch", "%d < 0", r.RangeSketch)
	case r.RangeSketch == 0:
		r.RangeSketch = 2*m + 1
	case r.RangeSketch < m:
		return r, invalid(typ, "RangeSketch", "k = %d is smaller than the %d components", r.RangeSketch, m)
	}
	k := r.RangeSketch
	switch {
	case r.CoRangeSketch < 0:
		return r, invalid(typ, "CoRangeSketch", "%d < 0", r.CoRangeSketch)
	case r.CoRangeSketch == 0:
		r.CoRangeSketch = 2*k + 1
	case r.Passes == 1 && r.CoRangeSketch < k:
		return r, invalid(typ, "CoRangeSketch", "l = %d is smaller than k = %d", r.CoRangeSketch, k)
	case r.CoRangeSketch < m:
		return r, invalid(typ, "CoRangeSketch", "l = %d is smaller than the %d components", r.CoRangeSketch, m)
	}
	if r.Passes == 2 {
		r.RangeSketch = 0 // no range sketch in two passes
	}
	if d > 0 && r.CoRangeSketch > d {
		return r, invalid(typ, "CoRangeSketch", "l = %d exceeds the vectors' length %d", r.CoRangeSketch, d)
	}
	switch {
	case r.Batch < 0:
		return r, invalid(typ, "Batch", "%d < 0", r.Batch)
	case r.Batch == 0:
		r.Batch = defaultBuilderBatch
	}
	r.Backend = pickBackend(r.Backend)
	return r, nil
}

// SkippedLoRA is an input the builder refused, with the reason.
type SkippedLoRA struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// SpaceBuilder builds a [Space] from a stream of LoRAs with memory that does not grow with
// their number N, except for k (one pass) or l (second pass) numbers per LoRA; see the
// package documentation, "Streaming spaces". It is not safe for concurrent use; builders
// over parts of a population run side by side and [SpaceBuilder.Merge].
type SpaceBuilder struct {
	lay *Layout
	o   SpaceBuilderOptions
	d   int
	// pass is 1 or 2; done is set by Finish, broken by a failed update.
	pass   int
	done   bool
	broken error

	omega []float32 // k×d, one pass; nil until the first batch
	// w is the co-range sketch W = Ψ·X (l×d) in pass 1 and the basis P (its first r rows) in
	// pass 2.
	w      []float32
	sum    []float64 // Σ x_i over pass 1
	psiSum []float64 // Σ ψ_i over pass 1
	n      int       // LoRAs of pass 1
	keys   []uint64  // their keys, in order
	// rows holds k numbers per LoRA in pass 1 of one pass (its row of Y = X·Ωᵀ) and r per
	// LoRA in pass 2 (its coordinates P·(x − μ)).
	rows []float64

	// Pass 2.
	r       int
	pmu     []float64      // P·μ
	want    map[uint64]int // pass-1 keys and their counts
	seen2   map[uint64]int
	keys2   []uint64
	n2      int
	basisID uint64

	batch     []float32
	batchKeys []uint64
	nb        int
	skipped   []SkippedLoRA
}

// NewSpaceBuilder returns an empty builder for LoRAs flattened under the rank-1 layout lay.
// The layout's sign references orient every LoRA; build it from a sample of the population
// first ([NewLayout] over a seeded random sample of the population).
func NewSpaceBuilder(lay *Layout, opts *SpaceBuilderOptions) (*SpaceBuilder, error) {
	if lay == nil || lay.Dim <= 0 {
		return nil, fmt.Errorf("w2w: space builder: %w: no layout", ErrLayout)
	}
	if lay.FixedRank != 0 {
		return nil, fmt.Errorf("w2w: space builder: %w: a fixed-rank layout is not streamed (build its space in memory)", ErrLayout)
	}
	o, err := opts.resolve(lay.Dim)
	if err != nil {
		return nil, err
	}
	d := lay.Dim
	b := &SpaceBuilder{lay: lay, o: o, d: d, pass: 1}
	b.w = make([]float32, o.CoRangeSketch*d)
	b.sum = make([]float64, d)
	b.psiSum = make([]float64, o.CoRangeSketch)
	b.batch = make([]float32, o.Batch*d)
	return b, nil
}

// Layout returns the builder's layout.
func (b *SpaceBuilder) Layout() *Layout { return b.lay }

// Options returns the builder's resolved options.
func (b *SpaceBuilder) Options() SpaceBuilderOptions { return b.o }

// N returns the number of LoRAs added in the current pass.
func (b *SpaceBuilder) N() int {
	if b.pass == 2 {
		return b.n2 + b.nb
	}
	return b.n + b.nb
}

// Pass returns the current pass, 1 or 2.
func (b *SpaceBuilder) Pass() int { return b.pass }

// Skipped returns the inputs refused so far by [SpaceBuilder.AddFile] (they survive a
// checkpoint).
func (b *SpaceBuilder) Skipped() []SkippedLoRA { return append([]SkippedLoRA(nil), b.skipped...) }

func (b *SpaceBuilder) usable() error {
	switch {
	case b.broken != nil:
		return fmt.Errorf("w2w: space builder: %w: an earlier update failed (%v); resume from a checkpoint", ErrSketch, b.broken)
	case b.done:
		return fmt.Errorf("w2w: space builder: %w: already finished", ErrSketch)
	}
	return nil
}

// AddFile reads, reduces and adds the LoRA at path. A file that cannot be read, is not a
// LoRA of the layout's family or does not fit the layout is recorded in
// [SpaceBuilder.Skipped] and its error returned, leaving the builder as it was, so a stream
// goes on past it.
func (b *SpaceBuilder) AddFile(ctx context.Context, path string) error {
	if err := b.usable(); err != nil {
		return err
	}
	r, err := ReduceFile(ctx, path, &ReduceOptions{Backend: b.o.Backend})
	if err == nil {
		err = b.Add(ctx, r)
	}
	if err != nil && ctx.Err() == nil && b.broken == nil {
		b.skipped = append(b.skipped, SkippedLoRA{Path: path, Err: err.Error()})
	}
	return err
}

// AddLoRA reduces l to rank 1 and adds it.
func (b *SpaceBuilder) AddLoRA(ctx context.Context, l *LoRA) error {
	if err := b.usable(); err != nil {
		return err
	}
	r, err := Reduce(ctx, l, &ReduceOptions{Backend: b.o.Backend})
	if err != nil {
		return err
	}
	return b.Add(ctx, r)
}

// Add flattens the reduced LoRA r under the layout (oriented by its sign references) and
// folds it into the sketches. A LoRA of another family, with a module shaped otherwise than
// the layout says, with no module of the layout or with non-finite values is refused and
// the builder left as it was.
func (b *SpaceBuilder) Add(ctx context.Context, r *Reduced) error {
	if err := b.usable(); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("w2w: space builder: %w: nil LoRA", ErrLayout)
	}
	row := b.batch[b.nb*b.d : (b.nb+1)*b.d]
	masks, err := b.o.Backend.Flatten(ctx, b.lay, []*Reduced{r}, row)
	if err != nil {
		return err
	}
	present := false
	for _, ok := range masks[0] {
		present = present || ok
	}
	if !present {
		return fmt.Errorf("w2w: space builder: %s: %w: none of its %d modules is in the layout", r.Path, ErrLayout, len(r.Modules))
	}
	return b.queue(ctx, r.Path, row)
}

// AddVector adds a vector already flattened under the layout (length Dim).
func (b *SpaceBuilder) AddVector(ctx context.Context, x []float32) error {
	if err := b.usable(); err != nil {
		return err
	}
	if len(x) != b.d {
		return fmt.Errorf("w2w: space builder: %w: vector of %d values, layout %d", ErrLayout, len(x), b.d)
	}
	row := b.batch[b.nb*b.d : (b.nb+1)*b.d]
	copy(row, x)
	return b.queue(ctx, "", row)
}

// queue checks the row in batch slot nb and keeps it, flushing a full batch.
func (b *SpaceBuilder) queue(ctx context.Context, path string, row []float32) error {
	for j, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("w2w: space builder: %s: %w: coordinate %d is %v", path, ErrNonFinite, j, v)
		}
	}
	key := rowKey(row)
	if b.pass == 2 {
		if b.seen2[key] >= b.want[key] {
			return fmt.Errorf("w2w: space builder: %s: %w: the first pass did not see this LoRA (or saw it fewer times)", path, ErrSketch)
		}
		b.seen2[key]++
	}
	b.batchKeys = append(b.batchKeys, key)
	b.nb++
	if b.nb < b.o.Batch {
		return nil
	}
	if err := b.flush(ctx); err != nil {
		if b.broken == nil { // not folded in: the builder is as it was before this LoRA
			b.nb--
			b.batchKeys = b.batchKeys[:b.nb]
			if b.pass == 2 {
				b.seen2[key]--
			}
		}
		return err
	}
	return nil
}

// rowKey is a 64-bit hash of a vector's float32 bits (a multiply-xorshift over pairs of
// values), the identity that chooses the LoRA's column of Ψ.
func rowKey(x []float32) uint64 {
	h := uint64(0x243f6a8885a308d3) ^ uint64(len(x))
	i := 0
	for ; i+1 < len(x); i += 2 {
		w := uint64(math.Float32bits(x[i])) | uint64(math.Float32bits(x[i+1]))<<32
		h = (h ^ w) * 0x9e3779b97f4a7c15
		h ^= h >> 31
	}
	if i < len(x) {
		h = (h ^ uint64(math.Float32bits(x[i]))) * 0x9e3779b97f4a7c15
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// psi returns the LoRA's column of the co-range test matrix Ψ.
func (b *SpaceBuilder) psi(key uint64, dst []float64) {
	rng := rand.New(rand.NewPCG(b.o.Seed^psiSalt, key))
	for j := range dst {
		dst[j] = rng.NormFloat64()
	}
}

// ensureOmega generates the range test matrix Ω (k×d) from the seed, row by row.
func (b *SpaceBuilder) ensureOmega(ctx context.Context) error {
	if b.omega != nil || b.o.RangeSketch == 0 {
		return nil
	}
	progress.Func(b.o.Progress).Report(Progress{Stage: "test matrix"})
	k, d := b.o.RangeSketch, b.d
	om := make([]float32, k*d)
	err := parallelFor(ctx, k, CPU{}.workers(), func(j int) error {
		rng := rand.New(rand.NewPCG(b.o.Seed^omegaSalt, uint64(j)))
		row := om[j*d : (j+1)*d]
		for i := range row {
			row[i] = float32(rng.NormFloat64())
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.omega = om
	return nil
}

// flush folds the queued rows into the sketches. The products run to their end even when
// ctx is cancelled meanwhile (a batch takes at most a few seconds), so the sketches are never
// half-updated; a cancelled context is checked before.
func (b *SpaceBuilder) flush(ctx context.Context) error {
	if b.nb == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.ensureOmega(ctx); err != nil {
		return err
	}
	run := context.WithoutCancel(ctx)
	nb, d := b.nb, b.d
	x := b.batch[:nb*d]
	be := b.o.Backend
	var err error
	if b.pass == 2 {
		err = b.flushPass2(run, x, nb)
	} else {
		err = b.flushPass1(run, x, nb)
	}
	if err != nil {
		b.broken = err
		return fmt.Errorf("w2w: space builder (%s backend): %w", be.Name(), err)
	}
	b.nb = 0
	b.batchKeys = b.batchKeys[:0]
	return nil
}

func (b *SpaceBuilder) flushPass1(ctx context.Context, x []float32, nb int) error {
	d, l, k := b.d, b.o.CoRangeSketch, b.o.RangeSketch
	be := b.o.Backend
	var yb []float64
	if k > 0 {
		yb = make([]float64, nb*k)
		if err := be.MulT(ctx, x, nb, d, b.omega, k, yb); err != nil {
			return err
		}
	}
	psiT := make([]float64, l*nb) // Ψ_b, l×nb
	col := make([]float64, l)
	for i := 0; i < nb; i++ {
		b.psi(b.batchKeys[i], col)
		for j, v := range col {
			psiT[j*nb+i] = v
		}
	}
	if err := addCombine(ctx, be, psiT, l, x, nb, d, b.w); err != nil {
		return err
	}
	err := parallelFor(ctx, (d+centreColBlock-1)/centreColBlock, CPU{}.workers(), func(t int) error {
		c0 := t * centreColBlock
		c1 := min(c0+centreColBlock, d)
		s := b.sum[c0:c1]
		for i := 0; i < nb; i++ {
			row := x[i*d+c0 : i*d+c1]
			row = row[:len(s)]
			for j, v := range row {
				s[j] += float64(v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := 0; i < nb; i++ {
		for j := 0; j < l; j++ {
			b.psiSum[j] += psiT[j*nb+i]
		}
	}
	b.rows = append(b.rows, yb...)
	b.keys = append(b.keys, b.batchKeys...)
	b.n += nb
	return nil
}

func (b *SpaceBuilder) flushPass2(ctx context.Context, x []float32, nb int) error {
	r := b.r
	yb := make([]float64, nb*r)
	if err := b.o.Backend.MulT(ctx, x, nb, b.d, b.w[:r*b.d], r, yb); err != nil {
		return err
	}
	for i := 0; i < nb; i++ {
		for j := 0; j < r; j++ {
			yb[i*r+j] -= b.pmu[j]
		}
	}
	b.rows = append(b.rows, yb...)
	b.keys2 = append(b.keys2, b.batchKeys...)
	b.n2 += nb
	return nil
}

// addCombine adds C·X to out (m×d) for C m×n (row-major) and X n×d, through the backend's
// Combine on chunks of output rows.
func addCombine(ctx context.Context, be Backend, c []float64, m int, x []float32, n, d int, out []float32) error {
	rc := max(1, min(m, combineChunkBytes/4/max(d, 1)))
	tmp := make([]float32, rc*d)
	for r0 := 0; r0 < m; r0 += rc {
		r1 := min(r0+rc, m)
		t := tmp[:(r1-r0)*d]
		if err := be.Combine(ctx, c[r0*n:r1*n], r1-r0, x, n, d, t); err != nil {
			return err
		}
		err := parallelFor(ctx, r1-r0, CPU{}.workers(), func(i int) error {
			dst := out[(r0+i)*d : (r0+i+1)*d]
			src := t[i*d : (i+1)*d]
			src = src[:len(dst)]
			for j, v := range src {
				dst[j] += v
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// combineColumns writes C·W[:rows] (m×d, C m×rows) into dst (m×d) column block by column
// block; dst may be w itself when m ≤ rows (each block is read before it is written).
func combineColumns(ctx context.Context, be Backend, c []float64, m int, w []float32, rows, d int, dst []float32) error {
	cb := min(inPlaceColBlock, d)
	in := make([]float32, rows*cb)
	out := make([]float32, m*cb)
	for c0 := 0; c0 < d; c0 += cb {
		width := min(cb, d-c0)
		for r := 0; r < rows; r++ {
			copy(in[r*width:(r+1)*width], w[r*d+c0:r*d+c0+width])
		}
		if err := be.Combine(ctx, c, m, in[:rows*width], rows, width, out[:m*width]); err != nil {
			return err
		}
		for r := 0; r < m; r++ {
			copy(dst[r*d+c0:r*d+c0+width], out[r*width:(r+1)*width])
		}
	}
	return nil
}

// mean returns μ = Σx/N (float64 and float32).
func (b *SpaceBuilder) mean() ([]float64, []float32) {
	mu := make([]float64, b.d)
	m32 := make([]float32, b.d)
	for j, s := range b.sum {
		mu[j] = s / float64(b.n)
		m32[j] = float32(mu[j])
	}
	return mu, m32
}

// centreCoRange subtracts (Σψ)·μᵀ from W in place: W becomes Ψ·(X − 1μᵀ).
func (b *SpaceBuilder) centreCoRange(ctx context.Context, mu []float64) error {
	d := b.d
	return parallelFor(ctx, b.o.CoRangeSketch, CPU{}.workers(), func(j int) error {
		row := b.w[j*d : (j+1)*d]
		s := b.psiSum[j]
		mu := mu[:len(row)]
		for i := range row {
			row[i] = float32(float64(row[i]) - s*mu[i])
		}
		return nil
	})
}

// orthonormaliseRows replaces the first rows of w (rows×d) by an orthonormal basis of their
// span (through the Gram matrix's eigenvectors) and returns its size.
func orthonormaliseRows(ctx context.Context, be Backend, w []float32, rows, d int) (int, error) {
	g := make([]float64, rows*rows)
	if err := be.Gram(ctx, w[:rows*d], rows, d, g); err != nil {
		return 0, err
	}
	lam, E, err := topEigen(g, rows, rows)
	if err != nil {
		return 0, err
	}
	r := 0
	for r < len(lam) && lam[r] > sketchRankFloor*sketchRankFloor*lam[0] {
		r++
	}
	if r == 0 {
		return 0, fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	coef := make([]float64, r*rows)
	for j := 0; j < r; j++ {
		s := 1 / math.Sqrt(lam[j])
		for i := 0; i < rows; i++ {
			coef[j*rows+i] = E.At(i, j) * s
		}
	}
	return r, combineColumns(ctx, be, coef, r, w, rows, d, w)
}

// NextPass ends the first of two passes: the co-range sketch, centred, becomes the basis P
// of the second pass, in which every LoRA of the first must be added again (in any order, by
// any builder made from a checkpoint of this one).
func (b *SpaceBuilder) NextPass(ctx context.Context) error {
	if err := b.usable(); err != nil {
		return err
	}
	if b.o.Passes != 2 || b.pass != 1 {
		return fmt.Errorf("w2w: space builder: %w: NextPass in pass %d of %d", ErrSketch, b.pass, b.o.Passes)
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	if b.n < 2 {
		return fmt.Errorf("w2w: space builder: %w: %d LoRAs in the first pass, need 2", ErrLayout, b.n)
	}
	progress.Func(b.o.Progress).Report(Progress{Stage: "basis"})
	mu, m32 := b.mean()
	run := context.WithoutCancel(ctx)
	if err := b.centreCoRange(run, mu); err != nil {
		return err
	}
	r, err := orthonormaliseRows(run, b.o.Backend, b.w, b.o.CoRangeSketch, b.d)
	if err != nil {
		b.broken = err
		return fmt.Errorf("w2w: space builder: %w", err)
	}
	b.r = r
	b.pmu = make([]float64, r)
	if err := b.o.Backend.MulT(run, m32, 1, b.d, b.w[:r*b.d], r, b.pmu); err != nil {
		b.broken = err
		return fmt.Errorf("w2w: space builder: %w", err)
	}
	b.startPass2()
	return nil
}

// startPass2 sets the second pass's bookkeeping from the first pass's keys.
func (b *SpaceBuilder) startPass2() {
	b.pass = 2
	b.rows = nil
	b.want = map[uint64]int{}
	for _, k := range b.keys {
		b.want[k]++
	}
	b.seen2 = map[uint64]int{}
	for _, k := range b.keys2 {
		b.seen2[k]++
	}
	b.basisID = rowKey(b.w[:b.r*b.d])
}

// Finish computes the space. The builder is spent afterwards (its buffers are reused);
// save a checkpoint first to keep it.
func (b *SpaceBuilder) Finish(ctx context.Context) (*Space, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	if b.o.Passes == 2 && b.pass == 1 {
		return nil, fmt.Errorf("w2w: space builder: %w: the first of two passes is not ended (NextPass)", ErrSketch)
	}
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	m := b.o.Components
	if b.n < 2 || m > b.n-1 {
		return nil, fmt.Errorf("w2w: space builder: %w: %d components of %d LoRAs (at most N−1)", ErrInvalidOptions, m, b.n)
	}
	var sp *Space
	var err error
	if b.pass == 2 {
		if b.n2 != b.n {
			return nil, fmt.Errorf("w2w: space builder: %w: the second pass saw %d of the first pass's %d LoRAs", ErrSketch, b.n2, b.n)
		}
		sp, err = b.finishTwoPass(ctx)
	} else {
		sp, err = b.finishOnePass(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("w2w: space builder (%s backend): %w", b.o.Backend.Name(), err)
	}
	b.done = true
	b.w, b.omega, b.batch, b.rows = nil, nil, nil, nil
	return sp, nil
}

func (b *SpaceBuilder) finishOnePass(ctx context.Context) (*Space, error) {
	be, d, k, l, n := b.o.Backend, b.d, b.o.RangeSketch, b.o.CoRangeSketch, b.n
	rep := progress.Func(b.o.Progress)
	mu, m32 := b.mean()
	// Yc = Y − 1·(Ω·μ)ᵀ.
	om := make([]float64, k)
	if err := be.MulT(ctx, m32, 1, d, b.omega, k, om); err != nil {
		return nil, err
	}
	b.omega = nil
	rep.Report(Progress{Stage: "orthonormalise"})
	yc := mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			yc.Set(i, j, b.rows[i*k+j]-om[j])
		}
	}
	q, err := orthonormalBasis(yc)
	if err != nil {
		return nil, err
	}
	r := q.RawMatrix().Cols
	// Ψ·Q (l×r), ψ regenerated from the keys.
	pq := mat.NewDense(l, r, nil)
	col := make([]float64, l)
	for i := 0; i < n; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		b.psi(b.keys[i], col)
		qi := q.RawRowView(i)
		for j, pv := range col {
			row := pq.RawRowView(j)
			for c, qv := range qi {
				row[c] += pv * qv
			}
		}
	}
	// X̂ = (ΨQ)⁺·(W − Σψ·μᵀ) = C·W − (C·Σψ)·μᵀ, into W's first r rows.
	rep.Report(Progress{Stage: "solve"})
	c, err := pseudoInverse(pq)
	if err != nil {
		return nil, err
	}
	coef := c.RawMatrix().Data // r×l
	if err := combineColumns(ctx, be, coef, r, b.w, l, d, b.w); err != nil {
		return nil, err
	}
	cs := make([]float64, r)
	for j := 0; j < r; j++ {
		for i := 0; i < l; i++ {
			cs[j] += coef[j*l+i] * b.psiSum[i]
		}
	}
	xh := b.w[:r*d]
	err = parallelFor(ctx, r, CPU{}.workers(), func(j int) error {
		row := xh[j*d : (j+1)*d]
		for i := range row {
			row[i] = float32(float64(row[i]) - cs[j]*mu[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.topComponents(ctx, xh, r, m32, PCASketch)
}

// topComponents returns the space of the top m right singular vectors of z (rows×d, the
// small factor of the approximation, whose singular values are the population's).
func (b *SpaceBuilder) topComponents(ctx context.Context, z []float32, rows int, mean []float32, method PCAMethod) (*Space, error) {
	be, d, m := b.o.Backend, b.d, b.o.Components
	progress.Func(b.o.Progress).Report(Progress{Stage: "components"})
	g := make([]float64, rows*rows)
	if err := be.Gram(ctx, z, rows, d, g); err != nil {
		return nil, err
	}
	lam, E, err := topEigen(g, rows, m)
	if err != nil {
		return nil, err
	}
	if len(lam) == 0 {
		return nil, fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	sp := &Space{Layout: b.lay, Mean: mean, N: b.n, Method: method}
	return sp, sp.componentsFrom(ctx, be, lam, E, z, rows, d, &SpaceOptions{Progress: nil})
}

func (b *SpaceBuilder) finishTwoPass(ctx context.Context) (*Space, error) {
	be, d, r, n, m := b.o.Backend, b.d, b.r, b.n, b.o.Components
	progress.Func(b.o.Progress).Report(Progress{Stage: "components"})
	// B = rows (n×r); BᵀB = H Λ Hᵀ; components = Λ^{-1/2}·Hᵀ·(Bᵀ·B)… = Hᵀ·P.
	g := make([]float64, r*r)
	for i := 0; i < n; i++ {
		row := b.rows[i*r : (i+1)*r]
		for a, va := range row {
			if va == 0 {
				continue
			}
			ga := g[a*r : a*r+a+1]
			for c := range ga {
				ga[c] += va * row[c]
			}
		}
	}
	mirrorLower(g, r)
	lam, E, err := topEigen(g, r, m)
	if err != nil {
		return nil, err
	}
	if len(lam) == 0 {
		return nil, fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	k := len(lam)
	coef := make([]float64, k*r)
	sp := &Space{Layout: b.lay, N: n, Method: PCASketch2, Singular: make([]float64, k)}
	for j := 0; j < k; j++ {
		sp.Singular[j] = math.Sqrt(lam[j])
		for i := 0; i < r; i++ {
			coef[j*r+i] = E.At(i, j)
		}
	}
	_, sp.Mean = b.mean()
	sp.Components = make([]float32, k*d)
	if err := combineColumns(ctx, be, coef, k, b.w, r, d, sp.Components); err != nil {
		return nil, err
	}
	return sp, nil
}

// mirrorLower copies the lower triangle of the r×r matrix g over its upper triangle.
func mirrorLower(g []float64, r int) {
	for i := 0; i < r; i++ {
		for j := i + 1; j < r; j++ {
			g[i*r+j] = g[j*r+i]
		}
	}
}

// orthonormalBasis returns an orthonormal basis (n×r) of the column space of y through its
// thin SVD, dropping directions below sketchRankFloor of the largest.
func orthonormalBasis(y *mat.Dense) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(y, mat.SVDThin) {
		return nil, fmt.Errorf("%w: SVD of the range sketch did not converge", ErrUnsupported)
	}
	s := svd.Values(nil)
	r := 0
	for r < len(s) && s[r] > sketchRankFloor*s[0] {
		r++
	}
	if r == 0 {
		return nil, fmt.Errorf("%w: the vectors do not vary", ErrLayout)
	}
	var u mat.Dense
	svd.UTo(&u)
	n, _ := y.Dims()
	q := mat.NewDense(n, r, nil)
	q.Copy(u.Slice(0, n, 0, r))
	return q, nil
}

// pseudoInverse returns A⁺ (c×r) of the r×c matrix a, dropping singular values below
// sketchRankFloor of the largest.
func pseudoInverse(a *mat.Dense) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, fmt.Errorf("%w: SVD of Ψ·Q did not converge", ErrUnsupported)
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	rows, cols := a.Dims()
	out := mat.NewDense(cols, rows, nil)
	for t, sv := range s {
		if sv <= sketchRankFloor*s[0] {
			break
		}
		for i := 0; i < cols; i++ {
			vi := v.At(i, t) / sv
			row := out.RawRowView(i)
			for j := 0; j < rows; j++ {
				row[j] += vi * u.At(j, t)
			}
		}
	}
	return out, nil
}

// Merge folds other, a builder over a disjoint part of the same population (same layout,
// seed, sketch sizes and pass; in the second pass, the same basis), into b. other is spent.
func (b *SpaceBuilder) Merge(ctx context.Context, other *SpaceBuilder) error {
	if err := b.usable(); err != nil {
		return err
	}
	if other == nil || other == b {
		return fmt.Errorf("w2w: space builder: merge: %w: a builder merges with another", ErrSketch)
	}
	if err := other.usable(); err != nil {
		return err
	}
	if err := b.compatible(other.lay, other.o, "merge"); err != nil {
		return err
	}
	if b.pass != other.pass || (b.pass == 2 && (b.basisID != other.basisID || b.n != other.n)) {
		return fmt.Errorf("w2w: space builder: merge: %w: pass %d and pass %d (the second pass merges builders of one basis)", ErrSketch, b.pass, other.pass)
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	if err := other.flush(ctx); err != nil {
		return err
	}
	if b.pass == 2 {
		for _, k := range other.keys2 {
			if b.seen2[k] >= b.want[k] {
				return fmt.Errorf("w2w: space builder: merge: %w: the parts share a LoRA of the second pass", ErrSketch)
			}
			b.seen2[k]++
		}
		b.rows = append(b.rows, other.rows...)
		b.keys2 = append(b.keys2, other.keys2...)
		b.n2 += other.n2
	} else {
		d := b.d
		err := parallelFor(context.WithoutCancel(ctx), b.o.CoRangeSketch, CPU{}.workers(), func(j int) error {
			dst, src := b.w[j*d:(j+1)*d], other.w[j*d:(j+1)*d]
			for i := range dst {
				dst[i] += src[i]
			}
			return nil
		})
		if err != nil {
			return err
		}
		for j, v := range other.sum {
			b.sum[j] += v
		}
		for j, v := range other.psiSum {
			b.psiSum[j] += v
		}
		b.rows = append(b.rows, other.rows...)
		b.keys = append(b.keys, other.keys...)
		b.n += other.n
	}
	b.skipped = append(b.skipped, other.skipped...)
	other.done = true
	other.w, other.omega, other.batch, other.rows = nil, nil, nil, nil
	return nil
}

// compatible checks that a layout and options describe the same sketch as b's.
func (b *SpaceBuilder) compatible(lay *Layout, o SpaceBuilderOptions, what string) error {
	if got, want := layoutDigest(lay), layoutDigest(b.lay); got != want {
		return fmt.Errorf("w2w: space builder: %s: %w: another layout (%d modules, %d coordinates, digest %016x; this builder's %d, %d, %016x)", what, ErrLayout, len(lay.Modules), lay.Dim, got, len(b.lay.Modules), b.lay.Dim, want)
	}
	type field struct {
		name      string
		got, want uint64
	}
	for _, f := range []field{
		{"seed", o.Seed, b.o.Seed},
		{"components", uint64(o.Components), uint64(b.o.Components)},
		{"passes", uint64(o.Passes), uint64(b.o.Passes)},
		{"range sketch k", uint64(o.RangeSketch), uint64(b.o.RangeSketch)},
		{"co-range sketch l", uint64(o.CoRangeSketch), uint64(b.o.CoRangeSketch)},
	} {
		if f.got != f.want {
			return fmt.Errorf("w2w: space builder: %s: %w: %s %d, this builder's %d", what, ErrSketch, f.name, f.got, f.want)
		}
	}
	return nil
}

// layoutDigest is a 64-bit hash of a layout: family, selection, module names, shapes and
// sign references.
func layoutDigest(l *Layout) uint64 {
	h := uint64(0xcbf29ce484222325)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * 0x100000001b3
		}
		h = (h ^ 0xff) * 0x100000001b3
	}
	add(string(l.Family))
	add(string(l.Selection))
	for _, m := range l.Modules {
		add(m.Name)
		add(fmt.Sprint(m.Out, "x", m.In, "r", m.Rank))
		h ^= rowKey(m.Ref)
	}
	return h
}

// Close releases the builder's buffers; it is spent afterwards.
func (b *SpaceBuilder) Close() error {
	b.done = true
	b.w, b.omega, b.batch, b.rows, b.sum = nil, nil, nil, nil, nil
	return nil
}
