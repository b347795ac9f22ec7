package w2w

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// streamTensor is one tensor of a file written by writeStream: exactly one of f32, f64 and
// u64 holds its values.
type streamTensor struct {
	name  string
	shape []int
	f32   []float32
	f64   []float64
	u64   []uint64
}

func (t *streamTensor) dtype() safetensors.DType {
	switch {
	case t.f64 != nil:
		return safetensors.F64
	case t.u64 != nil:
		return safetensors.U64
	}
	return safetensors.F32
}

func (t *streamTensor) bytes() int64 {
	if t.f32 != nil || (t.f64 == nil && t.u64 == nil) {
		return 4 * int64(len(t.f32))
	}
	return 8 * int64(len(t.f64)+len(t.u64))
}

// safetensorsAlign is the alignment of the data buffer: the header is padded with spaces so
// that 8 + header length is a multiple of it, as the reference implementation does.
const safetensorsAlign = 8

// writeStream writes a safetensors file tensor by tensor, in the order given, through
// internal/atomicfile, without holding an encoded copy in memory (a space of 1,000 SDXL
// components is 14 GB).
func writeStream(ctx context.Context, path string, ts []streamTensor, meta map[string]string, inputs []string) error {
	hdr := map[string]any{}
	if len(meta) > 0 {
		hdr["__metadata__"] = meta
	}
	var off int64
	for i := range ts {
		t := &ts[i]
		n := 1
		for _, s := range t.shape {
			n *= s
		}
		if int64(n)*int64(t.dtype().Size()) != t.bytes() {
			return fmt.Errorf("w2w: write %s: tensor %q: %w: shape %v, %d bytes", path, t.name, ErrShapeMismatch, t.shape, t.bytes())
		}
		end := off + t.bytes()
		hdr[t.name] = map[string]any{"dtype": string(t.dtype()), "shape": t.shape, "data_offsets": []int64{off, end}}
		off = end
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	for (8+len(js))%safetensorsAlign != 0 {
		js = append(js, ' ')
	}
	err = atomicfile.Write(ctx, path, &atomicfile.Options{Inputs: inputs}, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
		if _, err := bw.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := bw.Write(js); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		for i := range ts {
			t := &ts[i]
			emit := func(final bool) error {
				if len(buf) >= cap(buf)-8 || (final && len(buf) > 0) {
					_, err := bw.Write(buf)
					buf = buf[:0]
					return err
				}
				return nil
			}
			for _, v := range t.f32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if err := emit(false); err != nil {
					return err
				}
			}
			for _, v := range t.f64 {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
				if err := emit(false); err != nil {
					return err
				}
			}
			for _, v := range t.u64 {
				buf = binary.LittleEndian.AppendUint64(buf, v)
				if err := emit(false); err != nil {
					return err
				}
			}
			if err := emit(true); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	return nil
}

// Metadata keys and tensor names of a saved space.
const (
	spaceFormatKey   = "w2w.format"
	spaceFormat      = "w2w-space/1"
	spaceLayoutKey   = "w2w.layout"
	spaceNKey        = "w2w.n"
	spaceMethodKey   = "w2w.method"
	spaceMean        = "mean"
	spaceStd         = "std"
	spaceComponents  = "components"
	spaceSingular    = "singular_values"
	spaceRefPrefix   = "sign_reference."
	spaceFormatError = "not a w2w space file"
)

// layoutTensors returns the sign references of lay as tensors.
func layoutTensors(lay *Layout) []streamTensor {
	var ts []streamTensor
	for _, m := range lay.Modules {
		if m.Ref != nil {
			ts = append(ts, streamTensor{name: spaceRefPrefix + m.Name, shape: []int{len(m.Ref)}, f32: m.Ref})
		}
	}
	return ts
}

// Save writes the space (layout, sign references, mean, std, components, singular values) as
// a safetensors file, atomically, streaming the components from memory (no copy is made, so
// a space of 1,000 components of 3.56M coordinates saves in its own 14 GB).
func (s *Space) Save(path string) error {
	return s.SaveContext(context.Background(), path)
}

// SaveContext is [Space.Save] that stops when ctx is cancelled, leaving no file behind.
func (s *Space) SaveContext(ctx context.Context, path string) error {
	lj, err := json.Marshal(s.Layout)
	if err != nil {
		return fmt.Errorf("w2w: save space %s: %w", path, err)
	}
	if len(s.Mean) != s.Layout.Dim || len(s.Components) != s.M()*s.Dim() || (s.Std != nil && len(s.Std) != s.Dim()) {
		return fmt.Errorf("w2w: save space %s: %w: mean %d, std %d, components %d values for %d×%d", path, ErrLayout, len(s.Mean), len(s.Std), len(s.Components), s.M(), s.Layout.Dim)
	}
	meta := map[string]string{spaceFormatKey: spaceFormat, spaceLayoutKey: string(lj), spaceNKey: strconv.Itoa(s.N), spaceMethodKey: string(s.Method)}
	// Components first: its data then starts 8-byte aligned in the file and maps as float32.
	ts := []streamTensor{{name: spaceComponents, shape: []int{s.M(), s.Dim()}, f32: nonNil32(s.Components)}}
	ts = append(ts, streamTensor{name: spaceMean, shape: []int{s.Dim()}, f32: s.Mean})
	if s.Std != nil {
		ts = append(ts, streamTensor{name: spaceStd, shape: []int{s.Dim()}, f32: s.Std})
	}
	ts = append(ts, streamTensor{name: spaceSingular, shape: []int{s.M()}, f64: nonNil64(s.Singular)})
	ts = append(ts, layoutTensors(s.Layout)...)
	return writeStream(ctx, path, ts, meta, nil)
}

func nonNil32(x []float32) []float32 {
	if x == nil {
		return []float32{}
	}
	return x
}

func nonNil64(x []float64) []float64 {
	if x == nil {
		return []float64{}
	}
	return x
}

// readLayout reads and validates the layout metadata and sign references of a space or
// checkpoint file.
func readLayout(f *safetensors.File, path string) (*Layout, error) {
	bad := func(tensor string, format string, args ...any) error {
		return fileErr(path, tensor, -1, ErrLayout, format, args...)
	}
	lay := &Layout{}
	if err := json.Unmarshal([]byte(f.Metadata[spaceLayoutKey]), lay); err != nil {
		return nil, bad("", "layout metadata: %v", err)
	}
	if err := lay.validate(); err != nil {
		return nil, fileErr(path, "", -1, err, "layout metadata")
	}
	if lay.FixedRank == 0 {
		for i, m := range lay.Modules {
			if m.Rank != 1 {
				return nil, bad("", "module %d (%q) of a rank-1 layout has rank %d", i, m.Name, m.Rank)
			}
		}
	}
	want := 0
	for _, m := range lay.Modules {
		want += m.Size()
	}
	lay.finish()
	var stored int64
	for _, t := range f.Tensors {
		stored += int64(t.Elements())
	}
	if lay.Dim != want || want <= 0 || int64(want) > stored {
		return nil, bad("", "layout of %d coordinates is inconsistent", want)
	}
	if len(lay.index) != len(lay.Modules) {
		return nil, bad("", "layout names a module twice")
	}
	for i := range lay.Modules {
		m := &lay.Modules[i]
		if _, ok := f.Info(spaceRefPrefix + m.Name); !ok {
			continue
		}
		ref, err := f.Float32(spaceRefPrefix + m.Name)
		if err != nil {
			return nil, err
		}
		if len(ref) != m.Out {
			return nil, bad(spaceRefPrefix+m.Name, "%d values, module has %d outputs", len(ref), m.Out)
		}
		m.Ref = ref
	}
	return lay, nil
}

// LoadSpace reads a space written by [Space.Save]. Float32 components stored little-endian
// and aligned (as Save writes them, and older files where they happen to be aligned) are
// memory-mapped, not read: the returned space's Components are then read-only, valid until
// [Space.Close], and cost no memory until touched.
func LoadSpace(path string) (*Space, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	bad := func(tensor string, format string, args ...any) error {
		return fileErr(path, tensor, -1, ErrLayout, format, args...)
	}
	if f.Metadata[spaceFormatKey] != spaceFormat {
		return nil, bad("", "%s (metadata %s=%q)", spaceFormatError, spaceFormatKey, f.Metadata[spaceFormatKey])
	}
	lay, err := readLayout(f, path)
	if err != nil {
		return nil, err
	}
	s := &Space{Layout: lay}
	s.N, _ = strconv.Atoi(f.Metadata[spaceNKey])
	s.Method = PCAMethod(f.Metadata[spaceMethodKey])
	if s.Mean, err = f.Float32(spaceMean); err != nil {
		return nil, err
	}
	if len(s.Mean) != lay.Dim {
		return nil, bad(spaceMean, "%d values, layout has %d", len(s.Mean), lay.Dim)
	}
	if _, ok := f.Info(spaceStd); ok {
		if s.Std, err = f.Float32(spaceStd); err != nil {
			return nil, err
		}
		if len(s.Std) != lay.Dim {
			return nil, bad(spaceStd, "%d values, layout has %d", len(s.Std), lay.Dim)
		}
	}
	st, ok := f.Info(spaceSingular)
	if !ok {
		return nil, bad(spaceSingular, "missing")
	}
	if st.DType == safetensors.F64 {
		raw, _ := f.Raw(spaceSingular)
		s.Singular = make([]float64, len(raw)/8)
		for i := range s.Singular {
			s.Singular[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	} else {
		sv, err := f.Float32(spaceSingular)
		if err != nil {
			return nil, err
		}
		s.Singular = f64(sv)
	}
	ct, ok := f.Info(spaceComponents)
	if !ok {
		return nil, bad(spaceComponents, "missing")
	}
	if len(ct.Shape) != 2 || ct.Elements() != len(s.Singular)*lay.Dim {
		return nil, bad(spaceComponents, "shape %v for %d components of length %d", ct.Shape, len(s.Singular), lay.Dim)
	}
	if view, ok := float32View(f, ct); ok {
		s.Components = view
		s.mapped = f
		keep = true
		return s, nil
	}
	if s.Components, err = f.Float32(spaceComponents); err != nil {
		return nil, err
	}
	return s, nil
}

// float32View returns the tensor's float32 values in place when they are F32, little-endian
// like the machine and 4-byte aligned.
func float32View(f *safetensors.File, t safetensors.TensorInfo) ([]float32, bool) {
	if t.DType != safetensors.F32 || !littleEndian() {
		return nil, false
	}
	raw, err := f.Raw(t.Name)
	if err != nil || len(raw) == 0 || len(raw)%4 != 0 || uintptr(unsafe.Pointer(&raw[0]))%4 != 0 {
		return nil, len(raw) == 0 && err == nil && t.Elements() == 0
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4), true
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// Close releases the file mapping of a space read by [LoadSpace]; its Components are invalid
// afterwards. Closing a space built in memory does nothing.
func (s *Space) Close() error {
	if s.mapped == nil {
		return nil
	}
	err := s.mapped.Close()
	s.mapped, s.Components = nil, nil
	return err
}
