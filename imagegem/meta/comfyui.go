package meta

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// comfyNode is one node of a ComfyUI API graph ("prompt"): its class and inputs, where an
// input is a literal or a link [node id, output slot].
type comfyNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

type comfyGraph map[string]*comfyNode

// maxGraphDepth bounds how far links are followed from the sampler, so that a cycle in a
// hostile graph ends.
const maxGraphDepth = 64

// ParseComfyUI reads a ComfyUI API graph (the "prompt" chunk) by following it: from the
// output nodes back to the last sampler, from the sampler's positive and negative inputs to
// the text encoders, from its model input through LoRA loaders to the checkpoint, from its
// latent input to the size. Node ids and the order of nodes do not matter.
func ParseComfyUI(text string) (*Generation, error) {
	var g comfyGraph
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		return nil, fmt.Errorf("meta: %w: ComfyUI prompt: %v", ErrSyntax, err)
	}
	for id, n := range g {
		if n == nil || n.ClassType == "" {
			return nil, fmt.Errorf("meta: %w: ComfyUI prompt: node %q has no class_type", ErrSyntax, id)
		}
	}
	return g.generation()
}

func (g comfyGraph) generation() (*Generation, error) {
	final := g.finalSampler()
	if final == "" {
		return nil, fmt.Errorf("meta: %w: ComfyUI graph: no sampler node", ErrSyntax)
	}
	// The settings and prompts are the first pass's (the base of a base+refiner graph, the
	// low-resolution pass of a hires fix); the size is the final latent's.
	sampler := g.baseSampler(final)
	gen := &Generation{Format: FormatComfyUI}
	gen.Params = append(gen.Params, Param{"sampler_node", sampler + ":" + g[sampler].ClassType})
	if final != sampler {
		gen.Params = append(gen.Params, Param{"final_sampler_node", final + ":" + g[final].ClassType})
	}
	// The settings, on the sampler or on the nodes SamplerCustomAdvanced takes them from.
	num := func(n string, keys ...string) (json.RawMessage, bool) {
		for _, k := range keys {
			if v, ok := g.literal(n, k, 0); ok {
				return v, true
			}
		}
		return nil, false
	}
	settings := []string{sampler}
	for _, in := range []string{"noise", "sampler", "sigmas", "guider"} {
		if id, ok := g.link(sampler, in); ok {
			settings = append(settings, id)
		}
	}
	for _, n := range settings {
		if v, ok := num(n, "seed", "noise_seed"); ok && gen.Seed == 0 {
			if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				gen.Params = append(gen.Params, Param{"seed", string(v)})
				if u <= 1<<63-1 {
					gen.Seed = int64(u)
				}
			}
		}
		if v, ok := num(n, "steps"); ok && gen.Steps == 0 {
			gen.Steps, _ = strconv.Atoi(string(v))
		}
		if v, ok := num(n, "cfg"); ok && gen.CFGScale == 0 {
			gen.CFGScale, _ = strconv.ParseFloat(string(v), 64)
		}
		if v, ok := num(n, "sampler_name"); ok && gen.Sampler == "" {
			_ = json.Unmarshal(v, &gen.Sampler)
		}
		if v, ok := num(n, "scheduler"); ok && gen.Scheduler == "" {
			_ = json.Unmarshal(v, &gen.Scheduler)
		}
		if v, ok := num(n, "denoise"); ok && gen.Denoise == 0 {
			gen.Denoise, _ = strconv.ParseFloat(string(v), 64)
		}
	}
	pos, neg := "positive", "negative"
	cond := sampler
	if id, ok := g.link(sampler, "guider"); ok {
		cond = id
		if _, ok := g.link(id, "conditioning"); ok { // BasicGuider
			pos = "conditioning"
		}
	}
	gen.Prompt = strings.TrimSpace(strings.Join(g.texts(cond, pos, 0), "\n"))
	gen.NegativePrompt = strings.TrimSpace(strings.Join(g.texts(cond, neg, 0), "\n"))
	g.models(sampler, "model", gen, 0)
	if cond != sampler {
		g.models(cond, "model", gen, 0)
	}
	g.size(final, gen)
	for _, p := range []struct{ k, v string }{{"steps", strconv.Itoa(gen.Steps)}, {"cfg", strconv.FormatFloat(gen.CFGScale, 'g', -1, 64)},
		{"sampler_name", gen.Sampler}, {"scheduler", gen.Scheduler}, {"model", gen.Model}} {
		if p.v != "" && p.v != "0" {
			gen.Params = append(gen.Params, Param{p.k, p.v})
		}
	}
	return gen, nil
}

func isSampler(class string) bool {
	return strings.HasPrefix(class, "KSampler") || strings.HasPrefix(class, "SamplerCustom") ||
		class == "SamplerCustomAdvanced" || strings.Contains(class, "Sampler (") // "KSampler (Efficient)" and kin
}

func isOutput(class string) bool {
	return strings.HasPrefix(class, "Save") || strings.HasPrefix(class, "Preview") || strings.Contains(class, "SaveImage")
}

// finalSampler returns the sampler nearest to an output node going back along links (the
// refiner of a base+refiner graph), or, with no output node, the sampler no other sampler
// feeds from; ties go to the smallest id.
func (g comfyGraph) finalSampler() string {
	ids := g.ids()
	var outs []string
	for _, id := range ids {
		if isOutput(g[id].ClassType) {
			outs = append(outs, id)
		}
	}
	if len(outs) > 0 {
		seen := map[string]bool{}
		frontier := outs
		for depth := 0; depth < maxGraphDepth && len(frontier) > 0; depth++ {
			var next []string
			for _, id := range frontier {
				if seen[id] {
					continue
				}
				seen[id] = true
				n := g[id]
				if n == nil {
					continue
				}
				if isSampler(n.ClassType) {
					return id
				}
				for _, k := range sortedKeys(n.Inputs) {
					if l, ok := g.link(id, k); ok {
						next = append(next, l)
					}
				}
			}
			frontier = next
		}
	}
	for _, id := range ids {
		if isSampler(g[id].ClassType) {
			return id
		}
	}
	return ""
}

// baseSampler follows the latent input of a sampler back to the first sampler of the chain.
func (g comfyGraph) baseSampler(id string) string {
	base, cur := id, id
	for depth := 0; depth < maxGraphDepth; depth++ {
		next, ok := g.link(cur, "latent_image")
		if !ok {
			if next, ok = g.link(cur, "samples"); !ok {
				return base
			}
		}
		if isSampler(g[next].ClassType) {
			base = next
		}
		cur = next
	}
	return base
}

func (g comfyGraph) ids() []string {
	ids := make([]string, 0, len(g))
	for id := range g {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, ea := strconv.Atoi(ids[i])
		b, eb := strconv.Atoi(ids[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return ids[i] < ids[j]
	})
	return ids
}

// link returns the node an input links to.
func (g comfyGraph) link(id, input string) (string, bool) {
	n := g[id]
	if n == nil {
		return "", false
	}
	raw, ok := n.Inputs[input]
	if !ok || len(raw) == 0 || raw[0] != '[' {
		return "", false
	}
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil || len(l) != 2 {
		return "", false
	}
	var s string
	if json.Unmarshal(l[0], &s) != nil {
		s = string(l[0]) // numeric ids
	}
	if _, ok := g[s]; !ok {
		return "", false
	}
	return s, true
}

// literal returns an input's value, following links to primitive nodes (a node whose one
// literal input is the value).
func (g comfyGraph) literal(id, input string, depth int) (json.RawMessage, bool) {
	n := g[id]
	if n == nil || depth > maxGraphDepth {
		return nil, false
	}
	raw, ok := n.Inputs[input]
	if !ok {
		return nil, false
	}
	if l, ok := g.link(id, input); ok {
		p := g[l]
		for _, k := range []string{input, "value", "seed", "noise_seed", "int", "float", "string", "text"} {
			if _, ok := p.Inputs[k]; ok {
				return g.literal(l, k, depth+1)
			}
		}
		return nil, false
	}
	return raw, true
}

// texts collects the prompt text reaching a conditioning input: text encoders give their
// text, combiners give each of their inputs', pass-through nodes (guidance, area, zero-out
// keeps nothing) follow their conditioning input.
func (g comfyGraph) texts(id, input string, depth int) []string {
	if depth > maxGraphDepth {
		return nil
	}
	src, ok := g.link(id, input)
	if !ok {
		return nil
	}
	n := g[src]
	if n.ClassType == "ConditioningZeroOut" {
		return nil
	}
	for _, k := range []string{"text", "text_g", "prompt", "positive", "string"} {
		if v, ok := g.literal(src, k, depth+1); ok {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return []string{s}
			}
		}
	}
	var out []string
	for _, k := range sortedKeys(n.Inputs) {
		if strings.HasPrefix(k, "conditioning") || k == "positive" || k == "negative" && input == "negative" {
			out = append(out, g.texts(src, k, depth+1)...)
		}
	}
	return out
}

// models follows a model input back through LoRA loaders and model patches to the loader
// of the checkpoint or diffusion model.
func (g comfyGraph) models(id, input string, gen *Generation, depth int) {
	if depth > maxGraphDepth {
		return
	}
	src, ok := g.link(id, input)
	if !ok {
		return
	}
	str := func(k string) string {
		v, ok := g.literal(src, k, depth+1)
		if !ok {
			return ""
		}
		var s string
		_ = json.Unmarshal(v, &s)
		return s
	}
	if name := str("lora_name"); name != "" {
		w := 1.0
		if v, ok := g.literal(src, "strength_model", depth+1); ok {
			w, _ = strconv.ParseFloat(string(v), 64)
		}
		gen.LoRAs = append([]LoRA{{Name: trimModelExt(name), Weight: w}}, gen.LoRAs...)
	}
	for _, k := range []string{"ckpt_name", "unet_name", "model_name", "base_ckpt_name"} {
		if name := str(k); name != "" {
			gen.Model = name
			return
		}
	}
	g.models(src, "model", gen, depth+1)
}

// size finds the width and height of the sampler's latent: an empty-latent node, or any
// node on the way with both.
func (g comfyGraph) size(id string, gen *Generation) {
	cur := id
	for depth := 0; depth < maxGraphDepth; depth++ {
		next, ok := g.link(cur, "latent_image")
		if !ok {
			next, ok = g.link(cur, "samples")
		}
		if !ok {
			return
		}
		w, okw := g.literal(next, "width", 0)
		h, okh := g.literal(next, "height", 0)
		if okw && okh {
			gen.Width, _ = strconv.Atoi(string(w))
			gen.Height, _ = strconv.Atoi(string(h))
			return
		}
		cur = next
	}
}

func trimModelExt(name string) string {
	for _, ext := range []string{".safetensors", ".ckpt", ".pt", ".bin"} {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return name[:len(name)-len(ext)]
		}
	}
	return name
}
