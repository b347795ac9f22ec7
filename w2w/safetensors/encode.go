package safetensors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
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
		return Tensor{}, fmt.Errorf("safetensors: tensor %q: %w: shape %v holds %d values, got %d", name, ErrShapeMismatch, shape, n, len(values))
	}
	b, err := EncodeFloat32(d, values)
	if err != nil {
		return Tensor{}, fmt.Errorf("safetensors: tensor %q: %w", name, err)
	}
	return Tensor{Name: name, DType: d, Shape: append([]int{}, shape...), Data: b}, nil
}

// safetensorsAlign pads the header so the data buffer starts at a multiple of 8 bytes, as the
// reference writer does, which keeps every F64 tensor naturally aligned.
const safetensorsAlign = 8

// sortedTensors returns the tensors in the order [Encode] lays their data out: by name.
func sortedTensors(tensors []Tensor) []Tensor {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts
}

// PayloadSHA256 returns the hex SHA-256 of the data section [Encode] writes for tensors: every
// byte after the header. That is the hash kohya sd-scripts stores as sshs_model_hash
// (train_util.addnet_hash_safetensors) and AUTOMATIC1111 computes for a safetensors LoRA
// (modules/hashes.py, addnet_hash_safetensors: skip the 8-byte length and the header, hash the
// rest); it does not depend on the metadata, so it can be stored in it.
func PayloadSHA256(tensors []Tensor) string {
	h := sha256.New()
	for _, t := range sortedTensors(tensors) {
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Encode serialises tensors (sorted by name, data in that order) and metadata.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	ts := sortedTensors(tensors)
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr[metadataKey] = metadata
	}
	var off uint64
	for i, t := range ts {
		if t.Name == metadataKey || t.Name == "" {
			return nil, fmt.Errorf("safetensors: tensor %d: %w: reserved or empty name %q", i, ErrBadHeader, t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return nil, fmt.Errorf("safetensors: tensor %q: %w: duplicate name", t.Name, ErrBadHeader)
		}
		if t.DType.Size() == 0 {
			return nil, fmt.Errorf("safetensors: tensor %q: %w: unknown dtype %q", t.Name, ErrBadHeader, t.DType)
		}
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		if n*t.DType.Size() != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q: %w: shape %v of %s needs %d bytes, have %d", t.Name, ErrShapeMismatch, t.Shape, t.DType, n*t.DType.Size(), len(t.Data))
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
		return nil, fmt.Errorf("safetensors: encode header: %w", err)
	}
	if pad := (headerLenBytes + len(js)) % safetensorsAlign; pad != 0 {
		js = append(js, bytes.Repeat([]byte{' '}, safetensorsAlign-pad)...)
	}
	if len(js) > MaxHeaderBytes {
		return nil, fmt.Errorf("safetensors: %w: header of %d bytes", ErrHeaderTooLarge, len(js))
	}
	out := make([]byte, headerLenBytes, headerLenBytes+len(js)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	out = append(out, js...)
	for _, t := range ts {
		out = append(out, t.Data...)
	}
	return out, nil
}

// WriteFile writes tensors and metadata to path atomically (a temporary file in the same
// folder, synced, renamed into place, mode 0644), refusing a path that names any of inputs
// with an error wrapping [ErrOverwritesInput]. On error the destination is left as it was.
func WriteFile(path string, tensors []Tensor, metadata map[string]string, inputs ...string) error {
	b, err := Encode(tensors, metadata)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(context.Background(), path, b, &atomicfile.Options{Inputs: inputs}); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}
