package meta

import (
	"encoding/json"
	"strings"
)

// Format names the tool family a generation text was written by.
type Format string

// The formats the parsers read.
const (
	FormatA1111    Format = "a1111"    // AUTOMATIC1111, Forge, reForge, SD.Next and the nodes that mimic them
	FormatComfyUI  Format = "comfyui"  // ComfyUI prompt (API) and workflow (UI) graphs
	FormatNovelAI  Format = "novelai"  // NovelAI's Comment JSON, v1 to v4.5
	FormatInvokeAI Format = "invokeai" // InvokeAI's invokeai_metadata
	FormatSwarmUI  Format = "swarmui"  // SwarmUI's sui_image_params
	FormatCivitai  Format = "civitai"  // the meta object of Civitai's image API
)

// Generation is the typed view of one generation's parameters. Fields a format does not
// carry stay zero; every field the text holds is also in Params, as written.
type Generation struct {
	Format Format
	// Prompt and NegativePrompt are verbatim: weighting syntax ("(word:1.2)", "[a|b]"),
	// BREAK, LoRA tags and blank lines inside are kept; only the ends are trimmed.
	Prompt, NegativePrompt string
	Steps                  int
	Sampler                string
	Scheduler              string
	CFGScale               float64
	// Seed is the seed as written; seeds past int64 (ComfyUI allows 2^64-1) are in Params
	// only.
	Seed          int64
	Width, Height int
	// Model is the checkpoint's name, ModelHash its hash as written (A1111: the AutoV2, the
	// first 10 hex of the file's SHA-256).
	Model, ModelHash string
	VAE, VAEHash     string
	Denoise          float64
	ClipSkip         int
	// LoRAs are the LoRA (and LyCORIS) networks applied, with their weights and, where the
	// text names them, their hashes and Civitai model version ids.
	LoRAs []LoRA
	// Embeddings are textual inversions named by A1111's "TI hashes".
	Embeddings []Resource
	// Resources are Civitai's civitaiResources: every model the site says it used.
	Resources []Resource
	// Software names the tool and its version where the text says ("v1.10.1",
	// "NovelAI Diffusion V4.5 4BDE2A90", "InvokeAI 6.10.0").
	Software string
	// Params holds every field of the text in order: A1111's "Key: value" pairs, or the
	// top-level scalars of a JSON format, values as written.
	Params []Param
}

// Param is one field of a generation text.
type Param struct{ Key, Value string }

// Param returns the value of the first field with the key, and whether there is one.
func (g *Generation) Param(key string) (string, bool) {
	for _, p := range g.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// LoRA is one LoRA network used by a generation.
type LoRA struct {
	Name   string
	Weight float64
	// Hash is the hash the text gives (A1111's "Lora hashes": the first 12 hex of the
	// SHA-256 of the file's tensor data, Civitai's AutoV3), lower case; "" when none.
	Hash string
	// ModelVersionID is Civitai's model version id when the text gives it; 0 otherwise.
	ModelVersionID int64
}

// Resource is a model a generation names: a checkpoint, LoRA, embedding or VAE.
type Resource struct {
	Type           string // "checkpoint", "lora", "embed", …, as written
	Name           string
	Hash           string
	Weight         float64
	ModelVersionID int64
	ModelID        int64
}

// detect finds the generation among a file's entries. The order settles files that carry
// several: A1111 "parameters" first (ComfyUI's metadata nodes write them beside the graph,
// and they name hashes the graph does not), then InvokeAI, ComfyUI, NovelAI, and the EXIF
// and stealth texts, parsed by what they hold.
func detect(es []Entry) (*Generation, string, error) {
	get := func(key string) (string, bool) {
		for _, e := range es {
			if e.Key == key && e.Source != SourceStealth {
				return e.Text, true
			}
		}
		return "", false
	}
	if t, ok := get("parameters"); ok && strings.TrimSpace(t) != "" {
		g, err := ParseA1111(t)
		return g, t, err
	}
	if t, ok := get("invokeai_metadata"); ok {
		g, err := ParseInvokeAI(t)
		return g, t, err
	}
	if t, ok := get("invokeai_graph"); ok && looksJSON(t) {
		g, err := ParseInvokeAIGraph(t)
		return g, t, err
	}
	if t, ok := get("prompt"); ok && looksJSON(t) {
		g, err := ParseComfyUI(t)
		if err == nil {
			return g, t, nil
		}
		if w, ok := get("workflow"); ok {
			if g, err2 := ParseComfyUIWorkflow(w); err2 == nil {
				return g, w, nil
			}
		}
		return nil, t, err
	}
	if t, ok := get("workflow"); ok && looksJSON(t) {
		g, err := ParseComfyUIWorkflow(t)
		return g, t, err
	}
	if t, ok := get("Comment"); ok && looksJSON(t) {
		src, _ := get("Source")
		g, err := ParseNovelAI(t)
		if g != nil && src != "" {
			g.Software = src
		}
		return g, t, err
	}
	// EXIF: ComfyUI's WebP keeps "prompt:" and "workflow:" in Model and Make.
	var exifPrompt, exifWorkflow string
	for _, e := range es {
		if e.Source != SourceEXIF {
			continue
		}
		if after, ok := strings.CutPrefix(e.Text, "prompt:"); ok {
			exifPrompt = after
		}
		if after, ok := strings.CutPrefix(e.Text, "workflow:"); ok {
			exifWorkflow = after
		}
	}
	if exifPrompt != "" {
		if g, err := ParseComfyUI(exifPrompt); err == nil || exifWorkflow == "" {
			return g, exifPrompt, err
		}
	}
	if exifWorkflow != "" {
		g, err := ParseComfyUIWorkflow(exifWorkflow)
		return g, exifWorkflow, err
	}
	for _, src := range []Source{SourceEXIF, SourceJPEGComment, SourceStealth} {
		for _, e := range es {
			if e.Source != src || (src == SourceEXIF && e.Key != "ExifIFD/UserComment") {
				continue
			}
			if g, err := ParseText(e.Text); g != nil || err != nil {
				if g != nil && src == SourceEXIF && g.Format == FormatNovelAI {
					for _, s := range es {
						if s.Key == "IFD0/Software" {
							g.Software = s.Text
						}
					}
				}
				return g, e.Text, err
			}
		}
	}
	return nil, "", nil
}

// ParseText parses a generation text of any format by its shape: JSON objects by their
// keys (SwarmUI, NovelAI, InvokeAI, ComfyUI graphs, Civitai meta), other text as A1111
// parameters when it has their "Steps: " line. It returns nil and no error for text of no
// known format.
func ParseText(t string) (*Generation, error) {
	s := strings.TrimSpace(t)
	if s == "" {
		return nil, nil
	}
	if s[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &top); err != nil {
			return nil, nil
		}
		switch {
		case top["sui_image_params"] != nil:
			return ParseSwarmUI(s)
		case top["Comment"] != nil:
			var c string
			if json.Unmarshal(top["Comment"], &c) == nil {
				g, err := ParseNovelAI(c)
				if g != nil {
					var src string
					_ = json.Unmarshal(top["Source"], &src)
					if src != "" {
						g.Software = src
					}
				}
				return g, err
			}
			return ParseNovelAI(s)
		case top["v4_prompt"] != nil || (top["uc"] != nil && top["prompt"] != nil):
			return ParseNovelAI(s)
		case top["positive_prompt"] != nil && top["generation_mode"] != nil:
			return ParseInvokeAI(s)
		case top["civitaiResources"] != nil || (top["prompt"] != nil && top["cfgScale"] != nil):
			return ParseCivitaiMeta(s)
		case top["nodes"] != nil && top["links"] != nil:
			return ParseComfyUIWorkflow(s)
		default:
			if g, err := ParseComfyUI(s); err == nil {
				return g, nil
			}
			return nil, nil
		}
	}
	if hasA1111Params(s) {
		return ParseA1111(s)
	}
	return nil, nil
}

func looksJSON(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 1 && s[0] == '{'
}
