package meta

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// TestInvokeAIGraphAgreesWithItsMetadata: InvokeAI writes two records into the shared
// image, the flat invokeai_metadata and the invokeai_graph it executed; reading the graph by
// its edges must give what the metadata says.
func TestInvokeAIGraphAgreesWithItsMetadata(t *testing.T) {
	m, err := ReadFile(shareddata.Path(t, "images", "invokeai_itxt-metadata-graph_1024x1024.png"), nil)
	require.NoError(t, err)
	var meta, graph string
	for _, e := range m.Entries {
		switch e.Key {
		case "invokeai_metadata":
			meta = e.Text
		case "invokeai_graph":
			graph = e.Text
		}
	}
	require.NotEmpty(t, meta)
	require.NotEmpty(t, graph)
	want, err := ParseInvokeAI(meta)
	require.NoError(t, err)
	got, err := ParseInvokeAIGraph(graph)
	require.NoError(t, err)
	assert.Equal(t, want.Prompt, got.Prompt)
	assert.Equal(t, want.NegativePrompt, got.NegativePrompt)
	assert.Equal(t, want.Seed, got.Seed)
	assert.Equal(t, int64(3951921344), got.Seed)
	assert.Equal(t, want.Steps, got.Steps)
	assert.Equal(t, want.CFGScale, got.CFGScale)
	assert.Equal(t, want.Sampler, got.Sampler)
	assert.Equal(t, want.Width, got.Width)
	assert.Equal(t, want.Height, got.Height)
	assert.Equal(t, want.Model, got.Model)
	assert.Equal(t, want.ModelHash, got.ModelHash)
	assert.Empty(t, got.LoRAs)
}

// invokeLoRAGraph is a workflow-editor graph in InvokeAI's node schema: an SD 1.5 model
// loader, two LoRA loaders in a chain, a LoRA collection loader fed by two selectors through
// a collect node, compel prompts (the positive one from a string primitive), a noise node
// whose seed comes from an integer primitive, an image-to-latents strength, and an l2i.
const invokeLoRAGraph = `{"id": "g", "nodes": {
 "model": {"id": "model", "type": "main_model_loader", "model": {"key": "k0", "hash": "blake3:aa", "name": "dreamshaper_8", "base": "sd-1", "type": "main"}},
 "lora1": {"id": "lora1", "type": "lora_loader", "lora": {"key": "k1", "hash": "blake3:11", "name": "inkStyle", "base": "sd-1", "type": "lora"}, "weight": 0.75},
 "lora2": {"id": "lora2", "type": "lora_loader", "lora": {"key": "k2", "hash": "blake3:22", "name": "neonLights", "base": "sd-1", "type": "lora"}, "weight": 0.5},
 "sel1": {"id": "sel1", "type": "lora_selector", "lora": {"key": "k3", "name": "clay", "base": "sd-1", "type": "lora"}, "weight": 1.0},
 "sel2": {"id": "sel2", "type": "lora_selector", "lora": {"key": "k4", "name": "paper", "base": "sd-1", "type": "lora"}, "weight": 0.25},
 "sels": {"id": "sels", "type": "collect"},
 "coll": {"id": "coll", "type": "lora_collection_loader"},
 "text": {"id": "text", "type": "string", "value": "a paper crane on a desk"},
 "pos": {"id": "pos", "type": "compel", "prompt": ""},
 "neg": {"id": "neg", "type": "compel", "prompt": "blurry, lowres"},
 "seed": {"id": "seed", "type": "integer", "value": 123456789},
 "noise": {"id": "noise", "type": "noise", "seed": 0, "width": 512, "height": 768},
 "den": {"id": "den", "type": "denoise_latents", "steps": 30, "cfg_scale": 7.5, "scheduler": "dpmpp_2m_k", "denoising_start": 0.25, "denoising_end": 1.0},
 "den_unused": {"id": "den_unused", "type": "denoise_latents", "steps": 99},
 "out": {"id": "out", "type": "l2i"}
}, "edges": [
 {"source": {"node_id": "model", "field": "unet"}, "destination": {"node_id": "lora1", "field": "unet"}},
 {"source": {"node_id": "lora1", "field": "unet"}, "destination": {"node_id": "lora2", "field": "unet"}},
 {"source": {"node_id": "sel1", "field": "lora"}, "destination": {"node_id": "sels", "field": "item"}},
 {"source": {"node_id": "sel2", "field": "lora"}, "destination": {"node_id": "sels", "field": "item"}},
 {"source": {"node_id": "sels", "field": "collection"}, "destination": {"node_id": "coll", "field": "loras"}},
 {"source": {"node_id": "lora2", "field": "unet"}, "destination": {"node_id": "coll", "field": "unet"}},
 {"source": {"node_id": "coll", "field": "unet"}, "destination": {"node_id": "den", "field": "unet"}},
 {"source": {"node_id": "text", "field": "value"}, "destination": {"node_id": "pos", "field": "prompt"}},
 {"source": {"node_id": "pos", "field": "conditioning"}, "destination": {"node_id": "den", "field": "positive_conditioning"}},
 {"source": {"node_id": "neg", "field": "conditioning"}, "destination": {"node_id": "den", "field": "negative_conditioning"}},
 {"source": {"node_id": "seed", "field": "value"}, "destination": {"node_id": "noise", "field": "seed"}},
 {"source": {"node_id": "noise", "field": "noise"}, "destination": {"node_id": "den", "field": "noise"}},
 {"source": {"node_id": "den", "field": "latents"}, "destination": {"node_id": "out", "field": "latents"}}
]}`

func TestInvokeAIGraphFollowsEdges(t *testing.T) {
	g, err := ParseInvokeAIGraph(invokeLoRAGraph)
	require.NoError(t, err)
	assert.Equal(t, FormatInvokeAI, g.Format)
	assert.Equal(t, "a paper crane on a desk", g.Prompt, "the primitive's value overrides the empty literal")
	assert.Equal(t, "blurry, lowres", g.NegativePrompt)
	assert.Equal(t, int64(123456789), g.Seed, "the seed primitive, not the noise node's literal 0")
	assert.Equal(t, 512, g.Width)
	assert.Equal(t, 768, g.Height)
	assert.Equal(t, 30, g.Steps, "the denoise node whose latents reach the l2i")
	assert.Equal(t, 7.5, g.CFGScale)
	assert.Equal(t, "dpmpp_2m_k", g.Sampler)
	assert.InDelta(t, 0.75, g.Denoise, 1e-12)
	assert.Equal(t, "dreamshaper_8", g.Model)
	assert.Equal(t, "blake3:aa", g.ModelHash)
	assert.Equal(t, []LoRA{
		{Name: "inkStyle", Weight: 0.75, Hash: "blake3:11"},
		{Name: "neonLights", Weight: 0.5, Hash: "blake3:22"},
		{Name: "clay", Weight: 1},
		{Name: "paper", Weight: 0.25},
	}, g.LoRAs, "in the order they are applied from the model loader")

	// A file with only the graph is read through it.
	gen, _, err := detect([]Entry{{Key: "invokeai_graph", Text: invokeLoRAGraph}})
	require.NoError(t, err)
	assert.Equal(t, "a paper crane on a desk", gen.Prompt)
}

func TestInvokeAIGraphBadInput(t *testing.T) {
	for name, text := range map[string]string{
		"not JSON":         `{"nodes": `,
		"no nodes":         `{"edges": []}`,
		"no denoise node":  `{"nodes": {"a": {"type": "string", "value": "x"}}, "edges": []}`,
		"nodes not object": `{"nodes": [1, 2]}`,
	} {
		_, err := ParseInvokeAIGraph(text)
		assert.ErrorIs(t, err, ErrSyntax, name)
	}
	// A cycle of unet edges and a self-feeding primitive end, they do not loop.
	g, err := ParseInvokeAIGraph(`{"nodes": {"d": {"type": "denoise_latents", "steps": 5}, "a": {"type": "lora_loader"}, "b": {"type": "lora_loader"}, "p": {"type": "string"}, "c": {"type": "compel"}},
	 "edges": [{"source": {"node_id": "a", "field": "unet"}, "destination": {"node_id": "d", "field": "unet"}},
	  {"source": {"node_id": "b", "field": "unet"}, "destination": {"node_id": "a", "field": "unet"}},
	  {"source": {"node_id": "a", "field": "unet"}, "destination": {"node_id": "b", "field": "unet"}},
	  {"source": {"node_id": "p", "field": "value"}, "destination": {"node_id": "p", "field": "value"}},
	  {"source": {"node_id": "p", "field": "value"}, "destination": {"node_id": "c", "field": "prompt"}},
	  {"source": {"node_id": "c", "field": "conditioning"}, "destination": {"node_id": "d", "field": "positive_conditioning"}}]}`)
	require.NoError(t, err)
	assert.Equal(t, 5, g.Steps)
	assert.Empty(t, g.Prompt)
	assert.Empty(t, g.Model)
}

// TestInvokeAIGraphSelfFeedingCollect: a collect node fed by itself many times over is read
// once (a damaged graph must not cost exponential time).
func TestInvokeAIGraphSelfFeedingCollect(t *testing.T) {
	edges := `{"source": {"node_id": "k", "field": "collection"}, "destination": {"node_id": "d", "field": "positive_conditioning"}}`
	for i := 0; i < 64; i++ {
		edges += `, {"source": {"node_id": "k", "field": "collection"}, "destination": {"node_id": "k", "field": "item"}}`
	}
	g, err := ParseInvokeAIGraph(`{"nodes": {"d": {"type": "denoise_latents", "steps": 2}, "k": {"type": "collect"}}, "edges": [` + edges + `]}`)
	require.NoError(t, err)
	assert.Empty(t, g.Prompt)
	assert.Equal(t, 2, g.Steps)
}
