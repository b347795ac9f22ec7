package meta

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// widgetNames are the widget inputs, in widgets_values order, of the core ComfyUI nodes
// that carry generation settings; a UI workflow keeps widget values by position only.
var widgetNames = map[string][]string{
	"KSampler":                     {"seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise"},
	"KSamplerAdvanced":             {"add_noise", "noise_seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "start_at_step", "end_at_step", "return_with_leftover_noise"},
	"CLIPTextEncode":               {"text"},
	"CLIPTextEncodeSDXL":           {"width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"},
	"CLIPTextEncodeSDXLRefiner":    {"ascore", "width", "height", "text"},
	"CheckpointLoaderSimple":       {"ckpt_name"},
	"CheckpointLoader":             {"config_name", "ckpt_name"},
	"UNETLoader":                   {"unet_name", "weight_dtype"},
	"LoraLoader":                   {"lora_name", "strength_model", "strength_clip"},
	"LoraLoaderModelOnly":          {"lora_name", "strength_model"},
	"EmptyLatentImage":             {"width", "height", "batch_size"},
	"EmptySD3LatentImage":          {"width", "height", "batch_size"},
	"EmptyHunyuanLatentVideo":      {"width", "height", "length", "batch_size"},
	"EmptyMochiLatentVideo":        {"width", "height", "length", "batch_size"},
	"RandomNoise":                  {"noise_seed", "control_after_generate"},
	"KSamplerSelect":               {"sampler_name"},
	"BasicScheduler":               {"scheduler", "steps", "denoise"},
	"CFGGuider":                    {"cfg"},
	"FluxGuidance":                 {"guidance"},
	"PrimitiveNode":                {"value", "control_after_generate"},
	"CLIPSetLastLayer":             {"stop_at_clip_layer"},
	"LatentUpscale":                {"upscale_method", "width", "height", "crop"},
	"LatentUpscaleBy":              {"upscale_method", "scale_by"},
	"SaveImage":                    {"filename_prefix"},
	"ModelSamplingDiscrete":        {"sampling", "zsnr"},
	"ModelSamplingFlux":            {"max_shift", "base_shift", "width", "height"},
	"ModelSamplingSD3":             {"shift"},
	"ModelSamplingAuraFlow":        {"shift"},
	"ConditioningSetTimestepRange": {"start", "end"},
}

type uiWorkflow struct {
	Nodes []struct {
		ID      json.RawMessage `json:"id"`
		Type    string          `json:"type"`
		Inputs  []uiInput       `json:"inputs"`
		Widgets json.RawMessage `json:"widgets_values"`
	} `json:"nodes"`
	Links []json.RawMessage `json:"links"`
}

type uiInput struct {
	Name string           `json:"name"`
	Link *json.RawMessage `json:"link"`
}

// ParseComfyUIWorkflow reads a ComfyUI UI workflow (the "workflow" chunk): its links are
// turned into an API graph, widget values are named by the core nodes' widget order, and
// the graph is followed as [ParseComfyUI] does. Nodes of unknown types keep their links
// only.
func ParseComfyUIWorkflow(text string) (*Generation, error) {
	var w uiWorkflow
	if err := json.Unmarshal([]byte(text), &w); err != nil {
		return nil, fmt.Errorf("meta: %w: ComfyUI workflow: %v", ErrSyntax, err)
	}
	type end struct{ node, slot json.RawMessage }
	links := map[string]end{}
	for _, l := range w.Links {
		var arr []json.RawMessage
		if json.Unmarshal(l, &arr) == nil && len(arr) >= 5 {
			links[idString(arr[0])] = end{arr[1], arr[2]}
			continue
		}
		var obj struct {
			ID     json.RawMessage `json:"id"`
			Origin json.RawMessage `json:"origin_id"`
			Slot   json.RawMessage `json:"origin_slot"`
		}
		if json.Unmarshal(l, &obj) == nil && obj.ID != nil {
			links[idString(obj.ID)] = end{obj.Origin, obj.Slot}
		}
	}
	g := comfyGraph{}
	for _, n := range w.Nodes {
		id := idString(n.ID)
		if id == "" || n.Type == "" {
			continue
		}
		node := &comfyNode{ClassType: n.Type, Inputs: map[string]json.RawMessage{}}
		var vals []json.RawMessage
		if json.Unmarshal(n.Widgets, &vals) == nil {
			for i, name := range widgetNames[n.Type] {
				if i < len(vals) {
					node.Inputs[name] = vals[i]
				}
			}
		}
		for _, in := range n.Inputs {
			if in.Link == nil || string(*in.Link) == "null" {
				continue
			}
			e, ok := links[idString(*in.Link)]
			if !ok {
				continue
			}
			ref, _ := json.Marshal([]json.RawMessage{json.RawMessage(strconv.Quote(idString(e.node))), e.slot})
			node.Inputs[in.Name] = ref
		}
		g[id] = node
	}
	gen, err := g.generation()
	if err != nil {
		return nil, err
	}
	return gen, nil
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var f json.Number
	if json.Unmarshal(raw, &f) == nil {
		return f.String()
	}
	return ""
}
