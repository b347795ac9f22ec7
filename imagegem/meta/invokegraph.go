package meta

import (
	"fmt"
	"sort"
	"strings"
)

// InvokeAI's invokeai_graph is the node graph the image was made from: nodes keyed by id,
// each with a "type" and its literal input fields, and edges
// {source: {node_id, field}, destination: {node_id, field}} that feed one node's output
// into another's input (an edge overrides the literal field it lands on). The invocation
// names and fields read here are InvokeAI's own (invokeai/app/invocations): denoise nodes
// (denoise_latents and the model-specific ones) hold steps, cfg_scale, scheduler and
// denoising_start; their positive_conditioning / negative_conditioning come from prompt
// encoders (compel, sdxl_compel_prompt, flux_text_encoder, …: field "prompt"), possibly
// through a collect node; noise nodes hold seed, width and height; the unet input leads
// back through LoRA loaders (lora_loader, sdxl_lora_loader: fields "lora", "weight") to a
// model loader (main_model_loader, sdxl_model_loader, flux_model_loader: field "model").

// graphNode is one node of an InvokeAI graph.
type graphNode struct {
	id     string
	typ    string
	fields map[string]any
}

// invokeGraph is a parsed graph: nodes by id and, for each destination (node, field), the
// source (node, field) of the edge landing there.
type invokeGraph struct {
	nodes map[string]*graphNode
	in    map[[2]string][2]string
	// into lists every source feeding a destination (collect nodes take several).
	into map[[2]string][][2]string
}

// ParseInvokeAIGraph reads the generation from InvokeAI's invokeai_graph JSON by following
// its edges from the denoise node: the prompts, seed, size, steps, CFG scale, scheduler,
// the main model and the LoRAs on the way to it with their weights. It is what images
// carry when their invokeai_metadata is missing or incomplete (workflow-editor graphs).
func ParseInvokeAIGraph(text string) (*Generation, error) {
	top, err := jsonObject("InvokeAI graph", text)
	if err != nil {
		return nil, err
	}
	nodes := obj(top, "nodes")
	if nodes == nil {
		return nil, fmt.Errorf("meta: %w: InvokeAI graph: no nodes object", ErrSyntax)
	}
	g := &invokeGraph{nodes: map[string]*graphNode{}, in: map[[2]string][2]string{}, into: map[[2]string][][2]string{}}
	for id, v := range nodes {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		g.nodes[id] = &graphNode{id: id, typ: str(m, "type"), fields: m}
	}
	edges, _ := top["edges"].([]any)
	for _, e := range edges {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		src, dst := obj(em, "source"), obj(em, "destination")
		if src == nil || dst == nil {
			continue
		}
		s := [2]string{str(src, "node_id"), str(src, "field")}
		d := [2]string{str(dst, "node_id"), str(dst, "field")}
		g.in[d] = s
		g.into[d] = append(g.into[d], s)
	}
	den := g.denoiseNode()
	if den == nil {
		return nil, fmt.Errorf("meta: %w: InvokeAI graph: no denoise node among %d nodes", ErrSyntax, len(g.nodes))
	}
	out := &Generation{
		Format:         FormatInvokeAI,
		Steps:          g.intField(den, "steps", 0),
		CFGScale:       g.floatField(den, "cfg_scale", 0),
		Sampler:        g.stringField(den, "scheduler", 0),
		Prompt:         strings.TrimSpace(g.promptOf(den, "positive_conditioning")),
		NegativePrompt: strings.TrimSpace(g.promptOf(den, "negative_conditioning")),
	}
	if out.Prompt == "" {
		out.Prompt = strings.TrimSpace(g.promptOf(den, "positive_text_conditioning"))
	}
	if f := g.floatField(den, "denoising_start", 0); f > 0 {
		out.Denoise = 1 - f
	}
	if noise := g.source(den, "noise"); noise != nil {
		out.Seed = g.seedField(noise, "seed", 0)
		out.Width = g.intField(noise, "width", 0)
		out.Height = g.intField(noise, "height", 0)
	} else {
		// Denoise nodes that make their own noise (FLUX, SD3) hold seed, width and height.
		out.Seed = g.seedField(den, "seed", 0)
		out.Width = g.intField(den, "width", 0)
		out.Height = g.intField(den, "height", 0)
	}
	for _, f := range []string{"unet", "transformer"} {
		g.walkModel(g.source(den, f), out, map[string]bool{})
	}
	return out, nil
}

// denoiseNode is the graph's denoise node: of the nodes whose type ends in "denoise" or
// "denoise_latents", the one whose latents go to an output (l2i) node, else the first by id.
func (g *invokeGraph) denoiseNode() *graphNode {
	var cands []*graphNode
	for _, n := range g.nodes {
		if strings.HasSuffix(n.typ, "denoise") || strings.HasSuffix(n.typ, "denoise_latents") {
			cands = append(cands, n)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].id < cands[j].id })
	for _, c := range cands {
		for d, s := range g.in {
			if s[0] == c.id && strings.HasSuffix(g.typeOf(d[0]), "l2i") {
				return c
			}
		}
	}
	if len(cands) > 0 {
		return cands[0]
	}
	return nil
}

func (g *invokeGraph) typeOf(id string) string {
	if n := g.nodes[id]; n != nil {
		return n.typ
	}
	return ""
}

// source is the node whose output feeds n's field, or nil.
func (g *invokeGraph) source(n *graphNode, field string) *graphNode {
	s, ok := g.in[[2]string{n.id, field}]
	if !ok {
		return nil
	}
	return g.nodes[s[0]]
}

// maxDepth bounds the chains of primitive nodes followed for one value (graphs are acyclic,
// but a damaged file need not be).
const maxDepth = 32

// value resolves n's field: the output of the node an edge brings in (a primitive node's
// "value", a string join, …) or the literal field.
func (g *invokeGraph) value(n *graphNode, field string, depth int) any {
	if depth > maxDepth {
		return nil
	}
	if s, ok := g.in[[2]string{n.id, field}]; ok {
		if src := g.nodes[s[0]]; src != nil {
			switch {
			case s[1] == "value" || s[1] == "string" || s[1] == "integer" || s[1] == "float":
				// Primitive nodes output their own "value" field.
				return g.value(src, "value", depth+1)
			default:
				return g.value(src, s[1], depth+1)
			}
		}
	}
	return n.fields[field]
}

func (g *invokeGraph) stringField(n *graphNode, field string, depth int) string {
	s, _ := g.value(n, field, depth).(string)
	return s
}

func (g *invokeGraph) intField(n *graphNode, field string, depth int) int {
	return intOf(map[string]any{"v": g.value(n, field, depth)}, "v")
}

func (g *invokeGraph) floatField(n *graphNode, field string, depth int) float64 {
	return floatOf(map[string]any{"v": g.value(n, field, depth)}, "v")
}

func (g *invokeGraph) seedField(n *graphNode, field string, depth int) int64 {
	return seedOf(map[string]any{"v": g.value(n, field, depth)}, "v")
}

// promptOf follows a conditioning input back to the prompt encoder (through collect nodes)
// and returns its prompt text. Each node is visited once, so a damaged graph whose collect
// nodes feed themselves ends quickly.
func (g *invokeGraph) promptOf(n *graphNode, field string) string {
	return g.promptFrom(g.into[[2]string{n.id, field}], map[string]bool{})
}

func (g *invokeGraph) promptFrom(srcs [][2]string, seen map[string]bool) string {
	var parts []string
	for _, s := range srcs {
		src := g.nodes[s[0]]
		if src == nil || seen[src.id] || len(seen) > 4*maxDepth {
			continue
		}
		seen[src.id] = true
		if src.typ == "collect" {
			if p := g.promptFrom(g.into[[2]string{src.id, "item"}], seen); p != "" {
				parts = append(parts, p)
			}
			continue
		}
		if p := g.stringField(src, "prompt", 0); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "\n")
}

// walkModel follows a unet/transformer input back through LoRA loaders to the model loader
// and lists the LoRAs in the order they are applied (from the model loader on).
func (g *invokeGraph) walkModel(n *graphNode, out *Generation, seen map[string]bool) {
	var loras []LoRA
	for n != nil && !seen[n.id] && len(seen) < maxDepth {
		seen[n.id] = true
		if l := g.loraOf(n); l != nil {
			loras = append(loras, *l)
		}
		if strings.HasSuffix(n.typ, "lora_collection_loader") {
			// LoRA selectors, collected into a list: their order in the file is their order.
			var sel []LoRA
			for _, s := range g.into[[2]string{n.id, "loras"}] {
				src := g.nodes[s[0]]
				if src == nil {
					continue
				}
				items := [][2]string{s}
				if src.typ == "collect" {
					items = g.into[[2]string{src.id, "item"}]
				}
				for _, it := range items {
					if ln := g.nodes[it[0]]; ln != nil {
						if l := g.loraOf(ln); l != nil {
							sel = append(sel, *l)
						}
					}
				}
			}
			for i := len(sel) - 1; i >= 0; i-- {
				loras = append(loras, sel[i])
			}
		}
		if m, ok := g.value(n, "model", 0).(map[string]any); ok && strings.HasSuffix(n.typ, "model_loader") {
			out.Model = str(m, "name")
			if out.Model == "" {
				out.Model = str(m, "model_name")
			}
			out.ModelHash = str(m, "hash")
			break
		}
		next := g.source(n, "unet")
		if next == nil {
			next = g.source(n, "transformer")
		}
		n = next
	}
	for i := len(loras) - 1; i >= 0; i-- {
		out.LoRAs = append(out.LoRAs, loras[i])
	}
}

// loraOf reads a LoRA loader's or selector's "lora" model and "weight", or nil.
func (g *invokeGraph) loraOf(n *graphNode) *LoRA {
	l, ok := g.value(n, "lora", 0).(map[string]any)
	if !ok {
		return nil
	}
	name := str(l, "name")
	if name == "" {
		name = str(l, "model_name")
	}
	if name == "" {
		return nil
	}
	return &LoRA{Name: name, Weight: g.floatField(n, "weight", 0), Hash: str(l, "hash")}
}
