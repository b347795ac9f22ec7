package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// MaxHeaderBytes is the largest JSON header accepted, 100 MB, the limit of the reference
// safetensors implementation (huggingface/safetensors, MAX_HEADER_SIZE).
const MaxHeaderBytes = 100_000_000

// headerLenBytes is the size of the little-endian u64 header length that opens a file.
const headerLenBytes = 8

// metadataKey is the reserved header entry holding string-to-string metadata.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a safetensors file. Begin and End are byte offsets into
// the data buffer, which starts right after the header.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	Begin int64
	End   int64
}

// Elements returns the product of the shape (1 for a scalar).
func (t TensorInfo) Elements() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// File is an open safetensors file. Its tensor bytes are memory-mapped where the platform
// allows, so [File.Raw] returns a view without copying; the view is valid until [File.Close].
type File struct {
	// Path is the file's path ("" for a file parsed from memory).
	Path string
	// Metadata is the header's __metadata__ map (empty when absent).
	Metadata map[string]string
	// Tensors lists the tensors in data-offset order.
	Tensors []TensorInfo

	index   map[string]int
	data    []byte // the tensor data buffer
	dataOff int64  // file offset of data[0]
	unmap   func() error
}

// Open opens and validates a safetensors file, memory-mapping it read-only.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: open %s: %w", path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: stat %s: %w", path, err)
	}
	size := st.Size()
	if size < headerLenBytes {
		return nil, fileErr(path, "", 0, ErrTruncated, "%d bytes, fewer than the 8-byte header length", size)
	}
	var lenBuf [headerLenBytes]byte
	if _, err := io.ReadFull(fh, lenBuf[:]); err != nil {
		return nil, fileErr(path, "", 0, ErrTruncated, "reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if err := checkHeaderLen(path, n, size); err != nil {
		return nil, err
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(fh, hdr); err != nil {
		return nil, fileErr(path, "", headerLenBytes, ErrTruncated, "reading header: %v", err)
	}
	f, err := parseHeader(path, hdr, size-headerLenBytes-int64(n))
	if err != nil {
		return nil, err
	}
	f.dataOff = headerLenBytes + int64(n)
	whole, unmap, err := mapFile(fh, size)
	if err != nil {
		return nil, fmt.Errorf("safetensors: map %s: %w", path, err)
	}
	f.data = whole[f.dataOff:]
	f.unmap = unmap
	return f, nil
}

// Parse parses and validates a whole safetensors file held in memory. The returned
// File refers to b without copying it.
func Parse(b []byte) (*File, error) {
	size := int64(len(b))
	if size < headerLenBytes {
		return nil, fileErr("", "", 0, ErrTruncated, "%d bytes, fewer than the 8-byte header length", size)
	}
	n := binary.LittleEndian.Uint64(b)
	if err := checkHeaderLen("", n, size); err != nil {
		return nil, err
	}
	end := headerLenBytes + int64(n)
	f, err := parseHeader("", b[headerLenBytes:end], size-end)
	if err != nil {
		return nil, err
	}
	f.dataOff = end
	f.data = b[end:]
	return f, nil
}

func checkHeaderLen(path string, n uint64, size int64) error {
	if n > MaxHeaderBytes {
		return fileErr(path, "", 0, ErrHeaderTooLarge, "header length %d above the %d-byte limit", n, MaxHeaderBytes)
	}
	if n < 2 {
		return fileErr(path, "", 0, ErrBadHeader, "header length %d cannot hold a JSON object", n)
	}
	if int64(n) > size-headerLenBytes {
		return fileErr(path, "", 0, ErrTruncated, "header length %d runs past the end of the %d-byte file", n, size)
	}
	return nil
}

type rawTensor struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// parseHeader validates the JSON header against a data buffer of dataLen bytes: a JSON object
// (trailing spaces allowed), unique names, known dtypes, shapes matching byte counts, offsets
// sorted, contiguous from 0 and covering the buffer exactly.
func parseHeader(path string, hdr []byte, dataLen int64) (*File, error) {
	trimmed := bytes.TrimRight(hdr, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fileErr(path, "", headerLenBytes, ErrBadHeader, "header does not start with a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, fileErr(path, "", headerLenBytes, ErrBadHeader, "%v", err)
	}
	f := &File{Path: path, Metadata: map[string]string{}, index: map[string]int{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fileErr(path, "", headerLenBytes+dec.InputOffset(), ErrBadHeader, "%v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fileErr(path, "", headerLenBytes+dec.InputOffset(), ErrBadHeader, "expected a key")
		}
		if seen[name] {
			return nil, fileErr(path, name, headerLenBytes+dec.InputOffset(), ErrBadHeader, "duplicate entry")
		}
		seen[name] = true
		if name == metadataKey {
			var meta map[string]string
			if err := dec.Decode(&meta); err != nil {
				return nil, fileErr(path, name, headerLenBytes+dec.InputOffset(), ErrBadHeader, "metadata must map strings to strings: %v", err)
			}
			for k, v := range meta {
				f.Metadata[k] = v
			}
			continue
		}
		var rt rawTensor
		if err := dec.Decode(&rt); err != nil {
			return nil, fileErr(path, name, headerLenBytes+dec.InputOffset(), ErrBadHeader, "%v", err)
		}
		ti, err := tensorInfo(path, name, rt)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, ti)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fileErr(path, "", headerLenBytes+dec.InputOffset(), ErrBadHeader, "%v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fileErr(path, "", headerLenBytes+dec.InputOffset(), ErrBadHeader, "trailing data after the JSON object")
	}
	sort.SliceStable(f.Tensors, func(i, j int) bool {
		a, b := f.Tensors[i], f.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	var pos int64
	for i, t := range f.Tensors {
		switch {
		case t.Begin < pos:
			return nil, fileErr(path, t.Name, t.Begin, ErrBadOffsets, "data [%d,%d) overlaps the previous tensor ending at %d", t.Begin, t.End, pos)
		case t.Begin > pos:
			return nil, fileErr(path, t.Name, t.Begin, ErrBadOffsets, "hole of %d bytes before the tensor's data", t.Begin-pos)
		case t.End > dataLen:
			return nil, fileErr(path, t.Name, t.Begin, ErrTruncated, "data [%d,%d) runs past the %d-byte data buffer", t.Begin, t.End, dataLen)
		}
		pos = t.End
		f.index[t.Name] = i
	}
	if pos != dataLen {
		return nil, fileErr(path, "", pos, ErrBadOffsets, "tensors cover %d bytes but the data buffer has %d", pos, dataLen)
	}
	return f, nil
}

func tensorInfo(path, name string, rt rawTensor) (TensorInfo, error) {
	d := DType(rt.DType)
	if d.Size() == 0 {
		return TensorInfo{}, fileErr(path, name, -1, ErrBadHeader, "unknown dtype %q", rt.DType)
	}
	if len(rt.DataOffsets) != 2 {
		return TensorInfo{}, fileErr(path, name, -1, ErrBadHeader, "data_offsets must hold two numbers, got %d", len(rt.DataOffsets))
	}
	begin, end := rt.DataOffsets[0], rt.DataOffsets[1]
	if end < begin || end > 1<<62 {
		return TensorInfo{}, fileErr(path, name, -1, ErrBadOffsets, "data_offsets [%d,%d) are not an interval", begin, end)
	}
	shape := make([]int, len(rt.Shape))
	elems := uint64(1)
	for i, s := range rt.Shape {
		if s < 0 || s > 1<<40 {
			return TensorInfo{}, fileErr(path, name, int64(begin), ErrShapeMismatch, "dimension %d is %d", i, s)
		}
		shape[i] = int(s)
		if s != 0 && elems > (1<<62)/uint64(s) {
			return TensorInfo{}, fileErr(path, name, int64(begin), ErrShapeMismatch, "shape %v overflows", rt.Shape)
		}
		elems *= uint64(s)
	}
	if want := elems * uint64(d.Size()); want != end-begin {
		return TensorInfo{}, fileErr(path, name, int64(begin), ErrShapeMismatch, "shape %v of %s needs %d bytes, data_offsets give %d", shape, d, want, end-begin)
	}
	return TensorInfo{Name: name, DType: d, Shape: shape, Begin: int64(begin), End: int64(end)}, nil
}

// Close releases the file's mapping. Views returned by [File.Raw] are invalid afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.data = nil, nil
	return err
}

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// Raw returns the named tensor's bytes without copying them.
func (f *File) Raw(name string) ([]byte, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %w", f.displayPath(), name, os.ErrNotExist)
	}
	return f.data[t.Begin:t.End], nil
}

// Float32 decodes the named tensor into a new float32 slice (row-major).
func (f *File) Float32(name string) ([]float32, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %w", f.displayPath(), name, os.ErrNotExist)
	}
	if !t.DType.Float() {
		return nil, fileErr(f.Path, name, f.dataOff+t.Begin, dtypeErr(t.DType), "")
	}
	out := make([]float32, t.Elements())
	if err := DecodeFloat32(t.DType, f.data[t.Begin:t.End], out); err != nil {
		return nil, fileErr(f.Path, name, f.dataOff+t.Begin, err, "")
	}
	return out, nil
}

// FileOffset returns the absolute file offset of the tensor's first byte.
func (f *File) FileOffset(t TensorInfo) int64 { return f.dataOff + t.Begin }

func (f *File) displayPath() string {
	if f.Path == "" {
		return "<memory>"
	}
	return f.Path
}
