package w2w

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// Metadata keys and tensor names of a builder checkpoint.
const (
	checkpointFormat   = "w2w-space-builder/1"
	checkpointSketch   = "w2w.sketch"
	checkpointState    = "w2w.state"
	checkpointW        = "sketch.w"
	checkpointSum      = "sketch.sum"
	checkpointPsiSum   = "sketch.psi_sum"
	checkpointKeys     = "sketch.keys"
	checkpointRows     = "sketch.rows"
	checkpointKeys2    = "sketch.keys2"
	checkpointPMu      = "sketch.basis_mean"
	checkpointNotSpace = "not a w2w space builder checkpoint"
)

// sketchParams are the options that make a sketch: builders and checkpoints merge and
// resume only when they agree on all of them.
type sketchParams struct {
	Seed          uint64 `json:"seed"`
	Components    int    `json:"components"`
	Passes        int    `json:"passes"`
	RangeSketch   int    `json:"range_sketch"`
	CoRangeSketch int    `json:"co_range_sketch"`
}

// builderState is the progress of a checkpointed builder.
type builderState struct {
	Pass    int           `json:"pass"`
	N       int           `json:"n"`
	N2      int           `json:"n2"`
	Basis   int           `json:"basis"`
	Skipped []SkippedLoRA `json:"skipped,omitempty"`
}

// Save writes the builder's state (sketches, sums, keys, rows, skipped inputs, layout and
// sketch parameters, never the test matrices) to path atomically, so that a long build can
// resume from it ([LoadSpaceBuilder]) or another worker can merge it.
func (b *SpaceBuilder) Save(ctx context.Context, path string) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	lj, err := json.Marshal(b.lay)
	if err != nil {
		return fmt.Errorf("w2w: save checkpoint %s: %w", path, err)
	}
	pj, _ := json.Marshal(sketchParams{b.o.Seed, b.o.Components, b.o.Passes, b.o.RangeSketch, b.o.CoRangeSketch})
	sj, _ := json.Marshal(builderState{Pass: b.pass, N: b.n, N2: b.n2, Basis: b.r, Skipped: b.skipped})
	meta := map[string]string{spaceFormatKey: checkpointFormat, spaceLayoutKey: string(lj), checkpointSketch: string(pj), checkpointState: string(sj)}
	d := b.d
	rowsW, width, nrows := b.o.CoRangeSketch, b.o.RangeSketch, b.n
	if b.pass == 2 {
		rowsW, width, nrows = b.r, b.r, b.n2
	}
	ts := []streamTensor{
		{name: checkpointW, shape: []int{rowsW, d}, f32: b.w[:rowsW*d]},
		{name: checkpointSum, shape: []int{d}, f64: b.sum},
		{name: checkpointPsiSum, shape: []int{b.o.CoRangeSketch}, f64: b.psiSum},
		{name: checkpointKeys, shape: []int{b.n}, u64: nonNilU64(b.keys)},
		{name: checkpointRows, shape: []int{nrows, width}, f64: nonNil64(b.rows)},
	}
	if b.pass == 2 {
		ts = append(ts, streamTensor{name: checkpointKeys2, shape: []int{b.n2}, u64: nonNilU64(b.keys2)},
			streamTensor{name: checkpointPMu, shape: []int{b.r}, f64: b.pmu})
	}
	ts = append(ts, layoutTensors(b.lay)...)
	return writeStream(ctx, path, ts, meta, nil)
}

func nonNilU64(x []uint64) []uint64 {
	if x == nil {
		return []uint64{}
	}
	return x
}

// LoadSpaceBuilder resumes a builder from a checkpoint written by [SpaceBuilder.Save]. When
// lay is not nil the checkpoint must be of that layout (sign references included); when
// opts is not nil its seed, components, passes and sketch sizes must be the checkpoint's
// (zero fields meaning the defaults, as in [NewSpaceBuilder]). Either mismatch is refused
// with an error naming the file. Batch, Backend and Progress come from opts.
func LoadSpaceBuilder(ctx context.Context, path string, lay *Layout, opts *SpaceBuilderOptions) (*SpaceBuilder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bad := func(tensor string, format string, args ...any) error {
		return fileErr(path, tensor, -1, ErrSketch, format, args...)
	}
	if f.Metadata[spaceFormatKey] != checkpointFormat {
		return nil, fileErr(path, "", -1, ErrLayout, "%s (metadata %s=%q)", checkpointNotSpace, spaceFormatKey, f.Metadata[spaceFormatKey])
	}
	flay, err := readLayout(f, path)
	if err != nil {
		return nil, err
	}
	if flay.FixedRank != 0 {
		return nil, fileErr(path, "", -1, ErrLayout, "a fixed-rank layout")
	}
	var p sketchParams
	if err := json.Unmarshal([]byte(f.Metadata[checkpointSketch]), &p); err != nil {
		return nil, bad("", "sketch metadata %s: %v", checkpointSketch, err)
	}
	var st builderState
	if err := json.Unmarshal([]byte(f.Metadata[checkpointState]), &st); err != nil {
		return nil, bad("", "state metadata %s: %v", checkpointState, err)
	}
	if p.Components <= 0 || p.RangeSketch < 0 || p.CoRangeSketch <= 0 || p.CoRangeSketch > flay.Dim || p.RangeSketch > 1<<20 {
		return nil, bad("", "sketch parameters %+v", p)
	}
	var fo SpaceBuilderOptions
	if opts != nil {
		fo = *opts
	}
	fo.Seed, fo.Components, fo.Passes, fo.RangeSketch, fo.CoRangeSketch = p.Seed, p.Components, p.Passes, p.RangeSketch, p.CoRangeSketch
	if p.Passes == 2 {
		fo.RangeSketch = 0 // two passes keep no range sketch
	}
	b, err := NewSpaceBuilder(flay, &fo)
	if err != nil {
		return nil, fileErr(path, "", -1, err, "sketch parameters")
	}
	if b.o.RangeSketch != p.RangeSketch || b.o.CoRangeSketch != p.CoRangeSketch {
		return nil, bad("", "sketch parameters %+v are not those of a builder", p)
	}
	if lay != nil {
		if err := b.compatible(lay, b.o, "checkpoint "+path); err != nil {
			return nil, err
		}
		b.lay = lay
	}
	if opts != nil {
		want, err := opts.resolve(flay.Dim)
		if err != nil {
			return nil, err
		}
		if err := b.compatible(b.lay, want, "checkpoint "+path); err != nil {
			return nil, err
		}
	}
	d, l, k := b.d, b.o.CoRangeSketch, b.o.RangeSketch
	if st.Pass != 1 && st.Pass != 2 || st.Pass > p.Passes || st.N < 0 || st.N2 < 0 || st.N2 > st.N || st.N > 1<<40 ||
		st.Pass == 1 && (st.N2 != 0 || st.Basis != 0) || st.Pass == 2 && (st.Basis <= 0 || st.Basis > l) {
		return nil, bad("", "state %+v", st)
	}
	rowsW, width, nrows := l, k, st.N
	if st.Pass == 2 {
		rowsW, width, nrows = st.Basis, st.Basis, st.N2
	}
	get := func(name string, dt safetensors.DType, shape ...int) ([]byte, error) {
		t, ok := f.Info(name)
		if !ok {
			return nil, bad(name, "missing")
		}
		if t.DType != dt || len(t.Shape) != len(shape) {
			return nil, fileErr(path, name, f.FileOffset(t), ErrSketch, "%s %v, want %s %v", t.DType, t.Shape, dt, shape)
		}
		for i := range shape {
			if t.Shape[i] != shape[i] {
				return nil, fileErr(path, name, f.FileOffset(t), ErrSketch, "shape %v, want %v", t.Shape, shape)
			}
		}
		return f.Raw(name)
	}
	raw, err := get(checkpointW, safetensors.F32, rowsW, d)
	if err != nil {
		return nil, err
	}
	if err := safetensors.DecodeFloat32(safetensors.F32, raw, b.w[:rowsW*d]); err != nil {
		return nil, fileErr(path, checkpointW, -1, err, "")
	}
	for i, v := range b.w[:rowsW*d] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fileErr(path, checkpointW, -1, ErrNonFinite, "value %d is %v", i, v)
		}
	}
	f64s := func(name string, dst []float64, shape ...int) error {
		raw, err := get(name, safetensors.F64, shape...)
		if err != nil {
			return err
		}
		for i := range dst {
			v := math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fileErr(path, name, -1, ErrNonFinite, "value %d is %v", i, v)
			}
			dst[i] = v
		}
		return nil
	}
	u64s := func(name string, n int) ([]uint64, error) {
		raw, err := get(name, safetensors.U64, n)
		if err != nil {
			return nil, err
		}
		out := make([]uint64, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(raw[8*i:])
		}
		return out, nil
	}
	if err := f64s(checkpointSum, b.sum, d); err != nil {
		return nil, err
	}
	if err := f64s(checkpointPsiSum, b.psiSum, l); err != nil {
		return nil, err
	}
	if b.keys, err = u64s(checkpointKeys, st.N); err != nil {
		return nil, err
	}
	if t, ok := f.Info(checkpointRows); ok && t.Elements() != nrows*width {
		return nil, fileErr(path, checkpointRows, f.FileOffset(t), ErrSketch, "shape %v, want [%d %d]", t.Shape, nrows, width)
	}
	rows := make([]float64, nrows*width)
	if err := f64s(checkpointRows, rows, nrows, width); err != nil {
		return nil, err
	}
	b.n, b.skipped = st.N, st.Skipped
	if st.Pass == 2 {
		b.r, b.n2 = st.Basis, st.N2
		if b.keys2, err = u64s(checkpointKeys2, st.N2); err != nil {
			return nil, err
		}
		b.pmu = make([]float64, b.r)
		if err := f64s(checkpointPMu, b.pmu, b.r); err != nil {
			return nil, err
		}
		b.startPass2()
		for k, c := range b.seen2 {
			if c > b.want[k] {
				return nil, bad(checkpointKeys2, "the second pass holds a LoRA the first did not see")
			}
		}
	}
	b.rows = rows
	return b, nil
}
