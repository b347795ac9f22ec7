package w2w

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// WriteOptions configures [WriteRank1LoRA]. The zero value writes F32 factors in kohya's
// layout with the provenance of a reduction.
type WriteOptions struct {
	// DType of the factors: F16, BF16, F32 (default) or F64.
	DType safetensors.DType
	// Format is the file layout: Kohya (the default, which every loader takes) or PEFT
	// (diffusers' unet.…lora_A.weight names, with adapter_config.json written beside).
	Format Convention
	// Metadata is added to the written metadata (and may override it).
	Metadata map[string]string
	// Inputs are files the output must not overwrite (the edited LoRA, a direction file).
	Inputs []string
	// Method names what made the LoRA in the provenance metadata (w2w.method); empty means
	// "reduce", or "edit" when Direction is set.
	Method string
	// Direction is the direction file of an edit and Alpha its strength; when Direction is set
	// the metadata records the file's name, its SHA-256 and α.
	Direction string
	Alpha     float64
}

// Provenance metadata keys written by [WriteRank1LoRA]; sshs_model_hash is kohya's and
// AUTOMATIC1111's hash of the tensor payload ([safetensors.PayloadSHA256]).
const (
	MetaSource           = "w2w.source"            // the input LoRA's file name
	MetaSourceSHA256     = "w2w.source_sha256"     // SHA-256 of the whole input file
	MetaSourceConvention = "w2w.source_convention" // the input's naming convention
	MetaMethod           = "w2w.method"            // reduce, edit, …
	MetaRank             = "w2w.rank"              // the written rank (1)
	MetaDirection        = "w2w.direction"         // an edit's direction file name
	MetaDirectionSHA256  = "w2w.direction_sha256"  // SHA-256 of the direction file
	MetaEditAlpha        = "w2w.edit_alpha"        // an edit's α
	MetaModelHash        = "sshs_model_hash"       // SHA-256 of the tensor payload
)

// WriteRank1LoRA writes r as a rank-1 LoRA atomically: kohya naming and the base layer's shapes
// (or PEFT naming with opts.Format), alpha = 1, kohya metadata, the provenance (input file and
// its SHA-256, method, rank; direction and α for an edit) and sshs_model_hash. It refuses to
// overwrite any of opts.Inputs or r's own source file.
func WriteRank1LoRA(path string, r *Reduced, opts *WriteOptions) error {
	o, err := opts.resolve()
	if err != nil {
		return err
	}
	ts, err := Rank1Tensors(r, o.DType)
	if err != nil {
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	var cfg []byte
	if o.Format == PEFT {
		if ts, cfg, err = peftTensors(r, ts); err != nil {
			return fmt.Errorf("w2w: write %s: %w", path, err)
		}
	}
	meta := Rank1Metadata(r.Family)
	meta["w2w.modules"] = strconv.Itoa(len(r.Modules))
	meta[MetaRank] = "1"
	meta[MetaMethod] = o.Method
	if r.Convention != "" {
		meta[MetaSourceConvention] = string(r.Convention)
	}
	if r.Path != "" {
		meta[MetaSource] = filepath.Base(r.Path)
		if h, err := fileSHA256(r.Path); err == nil {
			meta[MetaSourceSHA256] = h
		}
	}
	if o.Direction != "" {
		meta[MetaDirection] = filepath.Base(o.Direction)
		h, err := fileSHA256(o.Direction)
		if err != nil {
			return fmt.Errorf("w2w: write %s: direction: %w", path, err)
		}
		meta[MetaDirectionSHA256] = h
		meta[MetaEditAlpha] = strconv.FormatFloat(o.Alpha, 'g', -1, 64)
	}
	for k, v := range o.Metadata {
		meta[k] = v
	}
	meta[MetaModelHash] = safetensors.PayloadSHA256(ts)
	inputs := append([]string{r.Path, o.Direction}, o.Inputs...)
	if cfg == nil {
		return writeSafetensors(path, ts, meta, inputs)
	}
	return writePEFT(path, ts, meta, cfg, inputs)
}

// fileSHA256 returns the hex SHA-256 of a file's bytes.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// peftPrefixes maps kohya network prefixes to the diffusers component a PEFT file names.
var peftPrefixes = []struct{ kohya, peft string }{
	{"lora_unet_", "unet."},
	{"lora_te1_", "text_encoder."},
	{"lora_te2_", "text_encoder_2."},
	{"lora_te_", "text_encoder."},
	{"lora_transformer_", "transformer."},
}

// peftCompounds are the module-path words that hold an underscore; kohya's names join every
// word with one, so these are matched first (longest first) to rebuild the dotted path.
var peftCompounds = func() [][]string {
	words := []string{
		"down_blocks", "up_blocks", "mid_block", "transformer_blocks", "single_transformer_blocks",
		"to_q", "to_k", "to_v", "to_out", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out",
		"proj_in", "proj_out", "proj_mlp", "conv_shortcut", "time_emb_proj", "conv_in", "conv_out",
		"text_model", "self_attn", "q_proj", "k_proj", "v_proj", "out_proj", "ff_context",
		"norm_out", "time_embedding", "linear_1", "linear_2", "add_embedding",
	}
	out := make([][]string, len(words))
	for i, w := range words {
		out[i] = strings.Split(w, "_")
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}()

// peftModulePath turns a kohya module name back into the diffusers module path
// (lora_unet_down_blocks_0_attentions_0_proj_in → unet.down_blocks.0.attentions.0.proj_in).
// Kohya's SGM names for SDXL (input_blocks_…) have no diffusers path here: an error wrapping
// [ErrUnsupported].
func peftModulePath(name string) (string, error) {
	for _, p := range peftPrefixes {
		rest, ok := strings.CutPrefix(name, p.kohya)
		if !ok {
			continue
		}
		if strings.HasPrefix(rest, "input_blocks_") || strings.HasPrefix(rest, "output_blocks_") || strings.HasPrefix(rest, "middle_block_") {
			return "", fmt.Errorf("module %q: %w: kohya's SGM block names have no diffusers path for a PEFT file", name, ErrUnsupported)
		}
		words := strings.Split(rest, "_")
		var parts []string
		for i := 0; i < len(words); {
			n := 1
			for _, c := range peftCompounds {
				if i+len(c) <= len(words) && equalWords(words[i:i+len(c)], c) {
					n = len(c)
					break
				}
			}
			parts = append(parts, strings.Join(words[i:i+n], "_"))
			i += n
		}
		return p.peft + strings.Join(parts, "."), nil
	}
	return "", fmt.Errorf("module %q: %w: no diffusers component for a PEFT file", name, ErrUnsupported)
}

func equalWords(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// peftTensors renames kohya rank-1 tensors to diffusers' PEFT layout (<path>.lora_A.weight =
// down, <path>.lora_B.weight = up; no alpha: PEFT scales by lora_alpha/r = 1) and returns the
// matching adapter_config.json.
func peftTensors(r *Reduced, ts []safetensors.Tensor) ([]safetensors.Tensor, []byte, error) {
	paths := map[string]string{}
	targets := map[string]bool{}
	for i := range r.Modules {
		p, err := peftModulePath(r.Modules[i].Name)
		if err != nil {
			return nil, nil, err
		}
		paths[r.Modules[i].Name] = p
		_, local, _ := strings.Cut(p, ".")
		targets[local] = true
	}
	var out []safetensors.Tensor
	for _, t := range ts {
		mod, part, _ := strings.Cut(t.Name, ".")
		switch part {
		case "lora_down.weight":
			t.Name = paths[mod] + ".lora_A.weight"
		case "lora_up.weight":
			t.Name = paths[mod] + ".lora_B.weight"
		default:
			continue
		}
		out = append(out, t)
	}
	tm := make([]string, 0, len(targets))
	for k := range targets {
		tm = append(tm, k)
	}
	sort.Strings(tm)
	cfg, err := json.MarshalIndent(map[string]any{
		"peft_type":         "LORA",
		"r":                 1,
		"lora_alpha":        1,
		"lora_dropout":      0.0,
		"bias":              "none",
		"init_lora_weights": true,
		"target_modules":    tm,
		"use_dora":          false,
		"use_rslora":        false,
	}, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return out, append(cfg, '\n'), nil
}

// writePEFT writes a PEFT LoRA as two files, the weights at path and adapter_config.json beside
// it, each atomically; the configuration is committed first, so the weights never appear
// without it.
func writePEFT(path string, ts []safetensors.Tensor, meta map[string]string, cfg []byte, inputs []string) error {
	cfgPath := filepath.Join(filepath.Dir(path), "adapter_config.json")
	cfgInputs := inputs
	for _, in := range inputs {
		if in != "" {
			// A PEFT input's own configuration is an input too.
			cfgInputs = append(cfgInputs, filepath.Join(filepath.Dir(in), "adapter_config.json"))
		}
	}
	for _, c := range []struct {
		p  string
		in []string
	}{{path, inputs}, {cfgPath, cfgInputs}} {
		if err := atomicfile.CheckInputs(c.p, c.in...); err != nil {
			return fmt.Errorf("w2w: %w", err)
		}
	}
	b, err := safetensors.Encode(ts, meta)
	if err != nil {
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	wf, err := atomicfile.Create(path, &atomicfile.Options{Inputs: inputs})
	if err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	defer wf.Abort()
	if _, err := wf.Write(b); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	if err := atomicfile.WriteFile(context.Background(), cfgPath, cfg, &atomicfile.Options{Inputs: cfgInputs}); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	if err := wf.Commit(); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	return nil
}

// writeSafetensors encodes tensors and metadata and writes them to path atomically, refusing
// to replace any of inputs.
func writeSafetensors(path string, ts []safetensors.Tensor, meta map[string]string, inputs []string) error {
	if err := atomicfile.CheckInputs(path, inputs...); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	b, err := safetensors.Encode(ts, meta)
	if err != nil {
		return fmt.Errorf("w2w: write %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(context.Background(), path, b, &atomicfile.Options{Inputs: inputs}); err != nil {
		return fmt.Errorf("w2w: %w", err)
	}
	return nil
}
