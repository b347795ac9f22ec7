package w2w

import (
	"encoding/json"
	"fmt"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// Direction files hold a direction in the module layout of a rank-1 LoRA:
// <module>.lora_up.weight (Out×1) and <module>.lora_down.weight (1×In) are the direction's up
// and down parts, w2w.sign_reference.<module> (Out) the layout's sign references, and the
// metadata the layout itself.
const (
	directionFormat = "w2w-direction/1"
	signRefPrefix   = w2wKeyPrefix + "sign_reference."
)

// DirectionFile is the content of a direction file: a direction in weight space under a
// rank-1 layout, with the layout's sign references and free-form metadata.
type DirectionFile struct {
	// Layout is the rank-1 layout the vector is flattened under.
	Layout *Layout
	// Vector holds Layout.Dim coordinates.
	Vector []float32
	// Metadata holds the file's metadata apart from the layout itself (the classifier, the
	// inputs, anything the writer added).
	Metadata map[string]string
}

// WriteDirection writes d to path atomically, refusing to overwrite any of inputs.
func WriteDirection(path string, d *DirectionFile, inputs ...string) error {
	if d == nil || d.Layout == nil {
		return fmt.Errorf("w2w: write direction %s: %w: no layout", path, ErrLayout)
	}
	lay, v, meta := d.Layout, d.Vector, d.Metadata
	if lay.FixedRank != 0 {
		return fmt.Errorf("w2w: write direction %s: %w: only rank-1 layouts", path, ErrLayout)
	}
	if len(v) != lay.Dim {
		return fmt.Errorf("w2w: write direction %s: %w: %d values, layout %d", path, ErrLayout, len(v), lay.Dim)
	}
	if err := atomicfile.CheckInputs(path, inputs...); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	lj, err := json.Marshal(lay)
	if err != nil {
		return fmt.Errorf("w2w: write direction %s: %w", path, err)
	}
	md := map[string]string{spaceFormatKey: directionFormat, spaceLayoutKey: string(lj)}
	for k, x := range meta {
		md[k] = x
	}
	var ts []safetensors.Tensor
	for _, m := range lay.Modules {
		seg := v[m.Offset : m.Offset+m.Size()]
		up, err := safetensors.FloatTensor(m.Name+".lora_up.weight", safetensors.F32, []int{m.Out, 1}, seg[:m.Out])
		if err != nil {
			return err
		}
		down, err := safetensors.FloatTensor(m.Name+".lora_down.weight", safetensors.F32, []int{1, m.In}, seg[m.Out:])
		if err != nil {
			return err
		}
		ts = append(ts, up, down)
		if m.Ref != nil {
			ref, err := safetensors.FloatTensor(signRefPrefix+m.Name, safetensors.F32, []int{m.Out}, m.Ref)
			if err != nil {
				return err
			}
			ts = append(ts, ref)
		}
	}
	return writeSafetensors(path, ts, md, inputs)
}

// ReadDirection reads a direction file written by [WriteDirection].
func ReadDirection(path string) (*DirectionFile, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Metadata[spaceFormatKey] != directionFormat {
		return nil, fileErr(path, "", -1, ErrLayout, "not a w2w direction file (metadata %s=%q)", spaceFormatKey, f.Metadata[spaceFormatKey])
	}
	lay := &Layout{}
	if err := json.Unmarshal([]byte(f.Metadata[spaceLayoutKey]), lay); err != nil {
		return nil, fileErr(path, "", -1, ErrLayout, "layout metadata: %v", err)
	}
	if err := lay.validate(); err != nil {
		return nil, fileErr(path, "", -1, err, "layout metadata")
	}
	lay.finish()
	var stored int64
	for _, t := range f.Tensors {
		stored += int64(t.Elements())
	}
	if lay.Dim <= 0 || int64(lay.Dim) > stored {
		return nil, fileErr(path, "", -1, ErrLayout, "layout of %d coordinates, the file stores %d values", lay.Dim, stored)
	}
	v := make([]float32, lay.Dim)
	for i := range lay.Modules {
		m := &lay.Modules[i]
		if m.Rank != 1 || m.Out <= 0 || m.In <= 0 {
			return nil, fileErr(path, m.Name, -1, ErrLayout, "module of rank %d, %dx%d", m.Rank, m.Out, m.In)
		}
		for _, part := range []struct {
			key string
			off int
			n   int
		}{{m.Name + ".lora_up.weight", m.Offset, m.Out}, {m.Name + ".lora_down.weight", m.Offset + m.Out, m.In}} {
			x, err := f.Float32(part.key)
			if err != nil {
				return nil, err
			}
			if len(x) != part.n {
				return nil, fileErr(path, part.key, -1, ErrShapeMismatch, "%d values, layout needs %d", len(x), part.n)
			}
			copy(v[part.off:], x)
		}
		if _, ok := f.Info(signRefPrefix + m.Name); ok {
			if m.Ref, err = f.Float32(signRefPrefix + m.Name); err != nil {
				return nil, err
			}
			if len(m.Ref) != m.Out {
				return nil, fileErr(path, signRefPrefix+m.Name, -1, ErrShapeMismatch, "%d values for %d outputs", len(m.Ref), m.Out)
			}
		}
	}
	meta := map[string]string{}
	for k, x := range f.Metadata {
		if k != spaceLayoutKey {
			meta[k] = x
		}
	}
	return &DirectionFile{Layout: lay, Vector: v, Metadata: meta}, nil
}
