package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonObject decodes a JSON object keeping numbers exact.
func jsonObject(format, text string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("meta: %w: %s: %v", ErrSyntax, format, err)
	}
	if m == nil {
		return nil, fmt.Errorf("meta: %w: %s: not a JSON object", ErrSyntax, format)
	}
	return m, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) (json.Number, bool) {
	n, ok := m[k].(json.Number)
	return n, ok
}

func intOf(m map[string]any, k string) int {
	n, ok := num(m, k)
	if !ok {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return int(i)
	}
	f, _ := n.Float64()
	return int(f)
}

func floatOf(m map[string]any, k string) float64 {
	n, ok := num(m, k)
	if !ok {
		return 0
	}
	f, _ := n.Float64()
	return f
}

func seedOf(m map[string]any, k string) int64 {
	n, ok := num(m, k)
	if !ok {
		if s := str(m, k); s != "" {
			n = json.Number(s)
		}
	}
	i, _ := strconv.ParseInt(string(n), 10, 64)
	return i
}

func obj(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

// scalars lists the top-level scalar fields of a JSON object, sorted by key.
func scalars(m map[string]any) []Param {
	var out []Param
	for _, k := range sortedKeys(m) {
		switch v := m[k].(type) {
		case string:
			out = append(out, Param{k, v})
		case json.Number:
			out = append(out, Param{k, v.String()})
		case bool:
			out = append(out, Param{k, strconv.FormatBool(v)})
		}
	}
	return out
}

// ParseNovelAI reads NovelAI's Comment JSON. v1–v3 carry "prompt" and "uc"; v4 and v4.5 add
// "v4_prompt" and "v4_negative_prompt", whose base captions (and character captions, one per
// line after the base) are the prompts read here.
func ParseNovelAI(text string) (*Generation, error) {
	m, err := jsonObject("NovelAI Comment", text)
	if err != nil {
		return nil, err
	}
	g := &Generation{
		Format:         FormatNovelAI,
		Prompt:         strings.TrimSpace(str(m, "prompt")),
		NegativePrompt: strings.TrimSpace(str(m, "uc")),
		Steps:          intOf(m, "steps"),
		Width:          intOf(m, "width"),
		Height:         intOf(m, "height"),
		CFGScale:       floatOf(m, "scale"),
		Seed:           seedOf(m, "seed"),
		Sampler:        str(m, "sampler"),
		Scheduler:      str(m, "noise_schedule"),
		Params:         scalars(m),
	}
	if s, ok := num(m, "strength"); ok && str(m, "request_type") == "Img2ImgRequest" {
		g.Denoise, _ = s.Float64()
	}
	if p := v4Caption(obj(m, "v4_prompt")); p != "" {
		g.Prompt = p
	}
	if p := v4Caption(obj(m, "v4_negative_prompt")); p != "" {
		g.NegativePrompt = p
	}
	return g, nil
}

func v4Caption(p map[string]any) string {
	c := obj(p, "caption")
	if c == nil {
		return ""
	}
	lines := []string{strings.TrimSpace(str(c, "base_caption"))}
	if chars, ok := c["char_captions"].([]any); ok {
		for _, ch := range chars {
			if cm, ok := ch.(map[string]any); ok {
				if t := strings.TrimSpace(str(cm, "char_caption")); t != "" {
					lines = append(lines, t)
				}
			}
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// ParseInvokeAI reads InvokeAI's invokeai_metadata JSON (3.x and later): the prompts,
// settings, the main model and the LoRAs with their weights.
func ParseInvokeAI(text string) (*Generation, error) {
	m, err := jsonObject("InvokeAI metadata", text)
	if err != nil {
		return nil, err
	}
	g := &Generation{
		Format:         FormatInvokeAI,
		Prompt:         strings.TrimSpace(str(m, "positive_prompt")),
		NegativePrompt: strings.TrimSpace(str(m, "negative_prompt")),
		Steps:          intOf(m, "steps"),
		Width:          intOf(m, "width"),
		Height:         intOf(m, "height"),
		CFGScale:       floatOf(m, "cfg_scale"),
		Seed:           seedOf(m, "seed"),
		Sampler:        str(m, "scheduler"),
		Params:         scalars(m),
	}
	if v := str(m, "app_version"); v != "" {
		g.Software = "InvokeAI " + v
	}
	if d, ok := num(m, "denoising_start"); ok {
		f, _ := d.Float64()
		if f > 0 {
			g.Denoise = 1 - f
		}
	}
	if mod := obj(m, "model"); mod != nil {
		g.Model = str(mod, "name")
		if g.Model == "" {
			g.Model = str(mod, "model_name")
		}
		g.ModelHash = str(mod, "hash")
	}
	if v := obj(m, "vae"); v != nil {
		g.VAE = str(v, "name")
	}
	if loras, ok := m["loras"].([]any); ok {
		for _, l := range loras {
			lm, ok := l.(map[string]any)
			if !ok {
				continue
			}
			mod := obj(lm, "model")
			if mod == nil {
				mod = obj(lm, "lora")
			}
			name := str(mod, "name")
			if name == "" {
				name = str(mod, "model_name")
			}
			if name == "" {
				continue
			}
			g.LoRAs = append(g.LoRAs, LoRA{Name: name, Weight: floatOf(lm, "weight"), Hash: str(mod, "hash")})
		}
	}
	return g, nil
}

// ParseSwarmUI reads SwarmUI's JSON (sui_image_params, sui_models).
func ParseSwarmUI(text string) (*Generation, error) {
	top, err := jsonObject("SwarmUI parameters", text)
	if err != nil {
		return nil, err
	}
	m := obj(top, "sui_image_params")
	if m == nil {
		return nil, fmt.Errorf("meta: %w: SwarmUI parameters: no sui_image_params object", ErrSyntax)
	}
	g := &Generation{
		Format:         FormatSwarmUI,
		Prompt:         strings.TrimSpace(str(m, "prompt")),
		NegativePrompt: strings.TrimSpace(str(m, "negativeprompt")),
		Steps:          intOf(m, "steps"),
		Width:          intOf(m, "width"),
		Height:         intOf(m, "height"),
		CFGScale:       floatOf(m, "cfgscale"),
		Seed:           seedOf(m, "seed"),
		Sampler:        str(m, "sampler"),
		Scheduler:      str(m, "scheduler"),
		Model:          str(m, "model"),
		Params:         scalars(m),
	}
	if v := str(m, "swarm_version"); v != "" {
		g.Software = "SwarmUI " + v
	}
	if models, ok := top["sui_models"].([]any); ok {
		for _, x := range models {
			mm, ok := x.(map[string]any)
			if !ok {
				continue
			}
			h := strings.TrimPrefix(strings.ToLower(str(mm, "hash")), "0x")
			switch str(mm, "param") {
			case "model":
				if g.ModelHash == "" {
					g.ModelHash = h
				}
			case "loras":
				g.LoRAs = append(g.LoRAs, LoRA{Name: trimModelExt(str(mm, "name")), Weight: 1, Hash: h})
			}
		}
	}
	if loras, ok := m["loras"].([]any); ok {
		weights, _ := m["loraweights"].([]any)
		for i, l := range loras {
			name, _ := l.(string)
			w := 1.0
			if i < len(weights) {
				switch x := weights[i].(type) {
				case string:
					w, _ = strconv.ParseFloat(x, 64)
				case json.Number:
					w, _ = x.Float64()
				}
			}
			g.LoRAs = mergeWeights(g.LoRAs, LoRA{Name: trimModelExt(name), Weight: w})
		}
	}
	return g, nil
}

func mergeWeights(ls []LoRA, l LoRA) []LoRA {
	for i := range ls {
		if ls[i].Name == l.Name {
			ls[i].Weight = l.Weight
			return ls
		}
	}
	return append(ls, l)
}

// ParseCivitaiResources reads Civitai's civitaiResources list (in the image API's meta and in
// the "Civitai resources" field of parameters written by the site's generator).
func ParseCivitaiResources(text string) ([]Resource, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	var list []map[string]any
	if err := d.Decode(&list); err != nil {
		return nil, fmt.Errorf("meta: %w: civitaiResources: %v", ErrSyntax, err)
	}
	out := make([]Resource, 0, len(list))
	for _, r := range list {
		if r == nil {
			continue
		}
		w := 0.0
		if _, ok := num(r, "weight"); ok {
			w = floatOf(r, "weight")
		} else if t := str(r, "type"); t == "lora" || t == "lycoris" || t == "embed" {
			w = 1
		}
		name := str(r, "modelName")
		if name == "" {
			name = str(r, "name")
		}
		out = append(out, Resource{
			Type:           str(r, "type"),
			Name:           name,
			Hash:           strings.ToLower(str(r, "hash")),
			Weight:         w,
			ModelVersionID: int64(intOf(r, "modelVersionId")),
			ModelID:        int64(intOf(r, "modelId")),
		})
	}
	return out, nil
}

// ParseCivitaiMeta reads the meta object of Civitai's image API (prompt, negativePrompt,
// cfgScale, …, resources and civitaiResources); LoRAs come from the resources of type
// "lora", with their model version ids.
func ParseCivitaiMeta(text string) (*Generation, error) {
	m, err := jsonObject("Civitai meta", text)
	if err != nil {
		return nil, err
	}
	g := &Generation{
		Format:         FormatCivitai,
		Prompt:         strings.TrimSpace(str(m, "prompt")),
		NegativePrompt: strings.TrimSpace(str(m, "negativePrompt")),
		Steps:          intOf(m, "steps"),
		CFGScale:       floatOf(m, "cfgScale"),
		Seed:           seedOf(m, "seed"),
		Sampler:        str(m, "sampler"),
		ClipSkip:       intOf(m, "clipSkip"),
		Model:          str(m, "Model"),
		ModelHash:      strings.ToLower(str(m, "Model hash")),
		Params:         scalars(m),
	}
	if w, h, ok := strings.Cut(str(m, "Size"), "x"); ok {
		g.Width, _ = strconv.Atoi(w)
		g.Height, _ = strconv.Atoi(h)
	}
	if raw, ok := m["civitaiResources"]; ok {
		b, _ := json.Marshal(raw)
		if g.Resources, err = ParseCivitaiResources(string(b)); err != nil {
			return g, err
		}
	}
	if rs, ok := m["resources"].([]any); ok {
		for _, x := range rs {
			r, ok := x.(map[string]any)
			if !ok || str(r, "type") != "lora" {
				continue
			}
			w := 1.0
			if _, ok := num(r, "weight"); ok {
				w = floatOf(r, "weight")
			}
			g.LoRAs = append(g.LoRAs, LoRA{Name: str(r, "name"), Weight: w, Hash: strings.ToLower(str(r, "hash"))})
		}
	}
	for _, r := range g.Resources {
		if r.Type == "lora" || r.Type == "lycoris" || r.Type == "locon" || r.Type == "dora" {
			g.LoRAs = append(g.LoRAs, LoRA{Name: r.Name, Weight: r.Weight, Hash: r.Hash, ModelVersionID: r.ModelVersionID})
		}
	}
	return g, nil
}
