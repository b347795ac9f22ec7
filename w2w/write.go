package w2w

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Tensor is one tensor to write: raw little-endian bytes of DType in row-major order.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// FloatTensor encodes float32 values as a tensor of dtype d.
func FloatTensor(name string, d DType, shape []int, values []float32) (Tensor, error) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if n != len(values) {
		return Tensor{}, fmt.Errorf("w2w: tensor %q: %w: shape %v holds %d values, got %d", name, ErrShapeMismatch, shape, n, len(values))
	}
	b, err := EncodeFloat32(d, values)
	if err != nil {
		return Tensor{}, fmt.Errorf("w2w: tensor %q: %w", name, err)
	}
	return Tensor{Name: name, DType: d, Shape: append([]int{}, shape...), Data: b}, nil
}

// safetensorsAlign pads the header so the data buffer starts at a multiple of 8 bytes, as the
// reference writer does, which keeps every F64 tensor naturally aligned.
const safetensorsAlign = 8

// EncodeSafetensors serialises tensors (sorted by name, data in that order) and metadata.
func EncodeSafetensors(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr[metadataKey] = metadata
	}
	var off uint64
	for i, t := range ts {
		if t.Name == metadataKey || t.Name == "" {
			return nil, fmt.Errorf("w2w: tensor %d: %w: reserved or empty name %q", i, ErrBadHeader, t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return nil, fmt.Errorf("w2w: tensor %q: %w: duplicate name", t.Name, ErrBadHeader)
		}
		if t.DType.Size() == 0 {
			return nil, fmt.Errorf("w2w: tensor %q: %w: unknown dtype %q", t.Name, ErrBadHeader, t.DType)
		}
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		if n*t.DType.Size() != len(t.Data) {
			return nil, fmt.Errorf("w2w: tensor %q: %w: shape %v of %s needs %d bytes, have %d", t.Name, ErrShapeMismatch, t.Shape, t.DType, n*t.DType.Size(), len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		end := off + uint64(len(t.Data))
		hdr[t.Name] = map[string]any{"dtype": string(t.DType), "shape": shape, "data_offsets": []uint64{off, end}}
		off = end
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return nil, fmt.Errorf("w2w: encode header: %w", err)
	}
	if pad := (headerLenBytes + len(js)) % safetensorsAlign; pad != 0 {
		js = append(js, bytes.Repeat([]byte{' '}, safetensorsAlign-pad)...)
	}
	if len(js) > MaxHeaderBytes {
		return nil, fmt.Errorf("w2w: %w: header of %d bytes", ErrHeaderTooLarge, len(js))
	}
	out := make([]byte, headerLenBytes, headerLenBytes+len(js)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	out = append(out, js...)
	for _, t := range ts {
		out = append(out, t.Data...)
	}
	return out, nil
}

// WriteSafetensors writes tensors and metadata to path atomically: to a temporary file in the
// same folder, synced, then renamed into place.
func WriteSafetensors(path string, tensors []Tensor, metadata map[string]string) error {
	b, err := EncodeSafetensors(tensors, metadata)
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

// writeAtomic writes b to a temporary file beside path and renames it into place.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	return nil
}
