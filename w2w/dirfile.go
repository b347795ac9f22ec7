package w2w

import (
	"encoding/json"
	"fmt"
)

// Direction files hold a direction in the module layout of a rank-1 LoRA:
// <module>.lora_up.weight (Out×1) and <module>.lora_down.weight (1×In) are the direction's up
// and down parts, w2w.sign_reference.<module> (Out) the layout's sign references, and the
// metadata the layout itself.
const (
	directionFormat = "w2w-direction/1"
	signRefPrefix   = w2wKeyPrefix + "sign_reference."
)

// WriteDirection writes a direction vector v of layout lay, atomically, refusing to overwrite
// any of inputs. meta is added to the file's metadata.
func WriteDirection(path string, lay *Layout, v []float32, meta map[string]string, inputs []string) error {
	if lay.FixedRank != 0 {
		return fmt.Errorf("w2w: write direction %s: %w: only rank-1 layouts", path, ErrLayout)
	}
	if len(v) != lay.Dim {
		return fmt.Errorf("w2w: write direction %s: %w: %d values, layout %d", path, ErrLayout, len(v), lay.Dim)
	}
	if err := checkNotInput(path, inputs); err != nil {
		return err
	}
	lj, err := json.Marshal(lay)
	if err != nil {
		return fmt.Errorf("w2w: write direction %s: %w", path, err)
	}
	md := map[string]string{spaceFormatKey: directionFormat, spaceLayoutKey: string(lj)}
	for k, x := range meta {
		md[k] = x
	}
	var ts []Tensor
	for _, m := range lay.Modules {
		seg := v[m.Offset : m.Offset+m.Size()]
		up, err := FloatTensor(m.Name+".lora_up.weight", F32, []int{m.Out, 1}, seg[:m.Out])
		if err != nil {
			return err
		}
		down, err := FloatTensor(m.Name+".lora_down.weight", F32, []int{1, m.In}, seg[m.Out:])
		if err != nil {
			return err
		}
		ts = append(ts, up, down)
		if m.Ref != nil {
			ref, err := FloatTensor(signRefPrefix+m.Name, F32, []int{m.Out}, m.Ref)
			if err != nil {
				return err
			}
			ts = append(ts, ref)
		}
	}
	return WriteSafetensors(path, ts, md)
}

// ReadDirection reads a direction file: its layout (with sign references), the direction
// vector and the metadata.
func ReadDirection(path string) (*Layout, []float32, map[string]string, error) {
	f, err := OpenSafetensors(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	if f.Metadata[spaceFormatKey] != directionFormat {
		return nil, nil, nil, fileErr(path, "", -1, ErrLayout, "not a w2w direction file (metadata %s=%q)", spaceFormatKey, f.Metadata[spaceFormatKey])
	}
	lay := &Layout{}
	if err := json.Unmarshal([]byte(f.Metadata[spaceLayoutKey]), lay); err != nil {
		return nil, nil, nil, fileErr(path, "", -1, ErrLayout, "layout metadata: %v", err)
	}
	if err := lay.validate(); err != nil {
		return nil, nil, nil, fileErr(path, "", -1, err, "layout metadata")
	}
	lay.finish()
	var stored int64
	for _, t := range f.Tensors {
		stored += int64(t.Elements())
	}
	if lay.Dim <= 0 || int64(lay.Dim) > stored {
		return nil, nil, nil, fileErr(path, "", -1, ErrLayout, "layout of %d coordinates, the file stores %d values", lay.Dim, stored)
	}
	v := make([]float32, lay.Dim)
	for i := range lay.Modules {
		m := &lay.Modules[i]
		if m.Rank != 1 || m.Out <= 0 || m.In <= 0 {
			return nil, nil, nil, fileErr(path, m.Name, -1, ErrLayout, "module of rank %d, %dx%d", m.Rank, m.Out, m.In)
		}
		for _, part := range []struct {
			key string
			off int
			n   int
		}{{m.Name + ".lora_up.weight", m.Offset, m.Out}, {m.Name + ".lora_down.weight", m.Offset + m.Out, m.In}} {
			x, err := f.Float32(part.key)
			if err != nil {
				return nil, nil, nil, err
			}
			if len(x) != part.n {
				return nil, nil, nil, fileErr(path, part.key, -1, ErrShapeMismatch, "%d values, layout needs %d", len(x), part.n)
			}
			copy(v[part.off:], x)
		}
		if _, ok := f.Info(signRefPrefix + m.Name); ok {
			if m.Ref, err = f.Float32(signRefPrefix + m.Name); err != nil {
				return nil, nil, nil, err
			}
			if len(m.Ref) != m.Out {
				return nil, nil, nil, fileErr(path, signRefPrefix+m.Name, -1, ErrShapeMismatch, "%d values for %d outputs", len(m.Ref), m.Out)
			}
		}
	}
	meta := map[string]string{}
	for k, x := range f.Metadata {
		if k != spaceLayoutKey {
			meta[k] = x
		}
	}
	return lay, v, meta, nil
}
