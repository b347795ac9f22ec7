package meta

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// want are the typed fields of each shared generation, read by eye from the text its tool
// wrote (the .meta.txt dumps), one file per format and container.
var want = map[string]Generation{
	"a1111-webui_v1.10.1_itxt-parameters_1024x1024.png": {Format: FormatA1111,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, テスト",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          20, Sampler: "DPM++ 2M", Scheduler: "Karras", CFGScale: 7, Seed: 3782896554, Width: 1024, Height: 1024,
		Model: "waiIllustriousSDXL_v160", ModelHash: "45a21ea00a", Software: "v1.10.1"},
	"a1111-reforge_lora-hashes_itxt-parameters_1536x1536.png": {Format: FormatA1111,
		Prompt:         "1girl, solo, hatsune miku, テスト, \n<lora:NoobV065sHyperDmd:1> masterpiece, best quality, very aesthetic, absurdres, newest, safe",
		NegativePrompt: "bad anatomy, worst quality, low quality",
		Steps:          4, Sampler: "LCM", Scheduler: "SGM Uniform", CFGScale: 1, Seed: 2582194946, Width: 1024, Height: 1024,
		Model: "copycatNoob_v11", ModelHash: "6c015a2deb", Denoise: 0.6, Software: "f1.3.0-v1.10.1RC-latest-1038-g19395bf9",
		LoRAs: []LoRA{{Name: "NoobV065sHyperDmd", Weight: 1, Hash: "45b5bd0819cf"}}},
	"a1111_v1.4.0_lora-hashes_text-parameters_512x512.png": {Format: FormatA1111,
		Prompt: "<lora:Pecha_Swords_LORA_V1.2:1>, axe, highly detailed, sharp focus",
		Steps:  28, Sampler: "DPM++ 2S a", CFGScale: 16, Seed: 2527192005, Width: 512, Height: 512,
		Model: "chilloutmix_NiPrunedFp32Fix", ModelHash: "fc2511737a", Software: "v1.4.0",
		LoRAs: []LoRA{{Name: "Pecha_Swords_LORA_V1.2", Weight: 1, Hash: "f4c3c4a69a0e"}}},
	"a1111_stealth-pnginfo-alpha_64x64.png": {Format: FormatA1111, Prompt: "a circle", NegativePrompt: "a square",
		Steps: 20, Sampler: "Euler", Scheduler: "Automatic", CFGScale: 7, Seed: 2015833630, Width: 64, Height: 64,
		Model: "realisticVisionV51_v51VAE", ModelHash: "15012c538f", ClipSkip: 2, Software: "v1.9.4-169-ga30b19dd"},
	"a1111-webui_exif-usercomment-utf16be_1024x1024.jpg": {Format: FormatA1111,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, テスト",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          20, Sampler: "DPM++ 2M", Scheduler: "Karras", CFGScale: 5.5, Seed: 3623174757, Width: 1024, Height: 1024,
		Model: "waiIllustriousSDXL_v160", ModelHash: "45a21ea00a", Software: "v1.10.1"},
	"a1111-webui_exif-usercomment_lossy_1024x1024.webp": {Format: FormatA1111,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, テスト",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          20, Sampler: "DPM++ 2M", Scheduler: "Karras", CFGScale: 5.5, Seed: 1028435836, Width: 1024, Height: 1024,
		Model: "waiIllustriousSDXL_v160", ModelHash: "45a21ea00a", Software: "v1.10.1"},
	"forge-classic_exif-usercomment_lossy_1344x1792.webp": {Format: FormatA1111,
		Prompt:         "1girl, solo, hatsune miku, vocaloid, white dress, cowboy shot, wind, floating hair, looking at viewer, smile, beach, sunset, sky, cloud, (safe)",
		NegativePrompt: "old, oldest, text, glitch, deformed, mutated, ugly, disfigured, long body, lowres, bad anatomy, bad hands, missing fingers, extra digit, fewer digits, cropped, very displeasing, (worst quality, bad quality:1.2), jpeg artifacts, signature, watermark, username, conjoined, ai-generated, explicit",
		Steps:          20, Sampler: "Euler a", Scheduler: "Automatic", CFGScale: 4.5, Seed: 1234, Width: 896, Height: 1152,
		Model: "evenlyMix_v11", ModelHash: "4a87df67ba", VAE: "sdxl-vae.safetensors", VAEHash: "235745af8d", Denoise: 0.48, ClipSkip: 2, Software: "classic"},
	"comfyui-saveimagewithmetadata_parameters+prompt+workflow_1024x1024.png": {Format: FormatA1111,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku,",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          20, Sampler: "euler_ancestral_karras", CFGScale: 5, Seed: 38802053347333, Width: 1024, Height: 1024, ClipSkip: 2,
		Model: "waiIllustriousSDXL_v160.safetensors", ModelHash: "45a21ea00a"},
	"comfyui_sdxl_text-prompt-workflow_1024x1024.png": {Format: FormatComfyUI,
		Prompt: "evening sunset scenery blue sky nature, glass bottle with a galaxy in it", NegativePrompt: "text, watermark",
		Steps: 25, Sampler: "euler", Scheduler: "normal", CFGScale: 8, Seed: 721897303308196, Width: 1024, Height: 1024,
		Model: "sd_xl_base_1.0.safetensors"},
	"comfyui_sdxl-turbo_text-prompt-workflow_512x512.png": {Format: FormatComfyUI,
		Prompt:         "beautiful landscape scenery glass bottle with a galaxy inside cute fennec fox snow HDR sunset",
		NegativePrompt: "text, watermark", Steps: 1, Sampler: "euler_ancestral", CFGScale: 1, Seed: 0, Width: 512, Height: 512,
		Model: "sd_xl_turbo_1.0_fp16.safetensors"},
	"comfyui_krea2_text-prompt-only_1216x832.png": {Format: FormatComfyUI,
		Prompt: "a mountain lake at dawn, wide landscape, mist over the water, pine forest reflection, first sunlight on the peaks, muted cold tones",
		Steps:  8, Sampler: "euler", Scheduler: "simple", CFGScale: 1, Seed: 11, Width: 1216, Height: 832, Denoise: 1,
		Model: "krea2_turbo_bf16.safetensors"},
	"comfyui_mochi_exif-workflow_animated_848x480.webp": {Format: FormatComfyUI,
		Prompt: "fast driving in the beautiful winding mountain roads autumn forest  blue sky cumulus clouds, nuclear explosion far away",
		Steps:  30, Sampler: "euler", Scheduler: "simple", CFGScale: 4.5, Seed: 93806664037998, Width: 848, Height: 480, Denoise: 1,
		Model: "mochi_preview_fp8_scaled.safetensors"},
	// Seven samplers feed one stitched output; the first output node (9, SaveImage) is
	// reached from sampler 31, whose fields these are.
	"comfyui_flux-kontext_exif-make-model-workflow_lossy_2048x3072.webp": {Format: FormatComfyUI,
		Prompt: "make her anime cute and her fennec ears massive and a big fluffy fox tail and her standing doing a t pose and wearing a long maxi skirt in front of a solid grey background",
		Steps:  20, Sampler: "euler", Scheduler: "simple", CFGScale: 1, Seed: 972054013132814, Width: 1024, Height: 1024, Denoise: 1,
		Model: "flux1-kontext-dev.safetensors"},
	"novelai_v1_comment-json_rgba-stealth_128x128.png": {Format: FormatNovelAI,
		Prompt:         "masterpiece, best quality,  silvery white",
		NegativePrompt: "nsfw, worst quality, low quality, what has science done, what, nightmare fuel, eldritch horror, where is your god now, why, small",
		Steps:          28, Sampler: "k_euler_ancestral", CFGScale: 10, Seed: 4091185279, Width: 128, Height: 128, Denoise: 0.7,
		Software: "Stable Diffusion F64BA557"},
	"novelai_v4.5_comment-json_rgba-stealth_832x1216.png": {Format: FormatNovelAI,
		Prompt:         "1girl, solo, hatsune miku, #テスト, very aesthetic, masterpiece, no text",
		NegativePrompt: "nsfw, lowres, artistic error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, dithering, halftone, screentone, multiple views, logo, too many watermarks, negative space, blank page",
		Steps:          28, Sampler: "k_euler_ancestral", Scheduler: "karras", CFGScale: 5, Seed: 2043807047, Width: 832, Height: 1216,
		Software: "NovelAI Diffusion V4.5 4BDE2A90"},
	"novelai_v4.5_exif-usercomment-ascii_lossless-alpha_1024x1024.webp": {Format: FormatNovelAI,
		Prompt:         "1girl, solo, hatsune miku, #テスト, very aesthetic, masterpiece, no text, -0.8::feet::, rating:general",
		NegativePrompt: "blurry, lowres, upscaled, artistic error, scan artifacts, jpeg artifacts, logo, too many watermarks, negative space, blank page",
		Steps:          23, Sampler: "k_euler_ancestral", Scheduler: "karras", CFGScale: 5, Seed: 880673757, Width: 1024, Height: 1024,
		Software: "NovelAI Diffusion V4.5 C02D4F98"},
	"invokeai_itxt-metadata-graph_1024x1024.png": {Format: FormatInvokeAI,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, #テスト",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          24, Sampler: "euler_a", CFGScale: 6, Seed: 3951921344, Width: 1024, Height: 1024,
		Model: "waiIllustriousSDXL_v160", ModelHash: "blake3:7c1631b481e1566448f49db7e3b67a8a9d04742fa3c7d4548a0c81b619160c56", Software: "InvokeAI 6.10.0"},
	"swarmui_exif-usercomment-utf16le-json_1024x1024.jpg": {Format: FormatSwarmUI,
		Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, #テスト",
		NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor,",
		Steps:          20, Sampler: "euler_ancestral", Scheduler: "karras", CFGScale: 7, Seed: 697543491, Width: 1024, Height: 1024,
		Model: "waiIllustriousSDXL_v160", ModelHash: "22d8cb95b807b0c242576b676a12b07ae6b782b57ae4fe07a07254801b2d5d61", Software: "SwarmUI 0.9.7.4"},
}

// typed strips what the table does not list.
func typed(g *Generation) Generation {
	c := *g
	c.Params = nil
	if len(c.LoRAs) == 0 {
		c.LoRAs = nil
	}
	c.Embeddings, c.Resources = nil, nil
	return c
}

func TestSharedGenerationsTyped(t *testing.T) {
	dir := shareddata.Path(t, "images")
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			m, err := ReadFile(filepath.Join(dir, name), nil)
			require.NoError(t, err)
			require.NoError(t, m.GenerationErr)
			require.NotNil(t, m.Generation)
			assert.Equal(t, w, typed(m.Generation))
			assert.NotEmpty(t, m.Raw)
		})
	}
	// Every dumped file is in the table, but the workflow-only screenshot, whose prompts
	// come from custom nodes' outputs.
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".txt" && e.Name() != "SOURCES.md" {
			n++
		}
	}
	assert.Equal(t, n-1, len(want))
}

func TestWorkflowOnlyFollowsTheGraph(t *testing.T) {
	m, err := ReadFile(shareddata.Path(t, "images", "comfyui_workflow-only-screenshot_rgba_6290x2390.png"), nil)
	require.NoError(t, err)
	require.NotNil(t, m.Generation)
	assert.Equal(t, FormatComfyUI, m.Generation.Format)
	// The latent chain from the final KSampler (18) back through the upscale and re-encode
	// does not reach the first pass: node 4 is found as the output's nearest sampler only
	// when the chain is linked; the hires pass is what the graph says ends in the output.
	v, ok := m.Generation.Param("sampler_node")
	require.True(t, ok)
	assert.Contains(t, []string{"4:KSamplerAdvanced", "18:KSampler"}, v)
}

func TestCivitaiMetaFromTheImagesAPI(t *testing.T) {
	b, err := os.ReadFile(shareddata.Path(t, "civitai", "images_limit1_2024-04.json"))
	require.NoError(t, err)
	page, err := jsonObject("page", string(b))
	require.NoError(t, err)
	items := page["items"].([]any)
	metaObj := items[0].(map[string]any)["meta"]
	raw, err := marshalNoEscape(metaObj)
	require.NoError(t, err)
	g, err := ParseText(raw)
	require.NoError(t, err)
	require.NotNil(t, g)
	assert.Equal(t, FormatCivitai, g.Format)
	assert.Equal(t, 45, g.Steps)
	assert.Equal(t, int64(1938345220), g.Seed)
	assert.Equal(t, "DPM++ 2M", g.Sampler)
	assert.Equal(t, 5.0, g.CFGScale)
	assert.Equal(t, 2, g.ClipSkip)
	assert.Equal(t, 832, g.Width)
	assert.Equal(t, 1216, g.Height)
	require.Len(t, g.Resources, 8)
	assert.Equal(t, Resource{Type: "checkpoint", ModelVersionID: 345685}, g.Resources[0])
	assert.Equal(t, Resource{Type: "embed", Weight: 1, ModelVersionID: 9208}, g.Resources[1])
	require.Len(t, g.LoRAs, 6)
	assert.Equal(t, LoRA{Weight: 0.65, ModelVersionID: 249861}, g.LoRAs[0])
	assert.Equal(t, LoRA{Weight: 0.8, ModelVersionID: 426333}, g.LoRAs[5])
}

// TestWriteExpected writes the table above as testdata/shared_generations.json for the
// comparison with other readers (scripts/meta_bench.py) when IMAGEGEM_WRITE_EXPECTED is set.
func TestWriteExpected(t *testing.T) {
	if os.Getenv("IMAGEGEM_WRITE_EXPECTED") == "" {
		t.Skip("set IMAGEGEM_WRITE_EXPECTED=1 to write testdata/shared_generations.json")
	}
	type row struct {
		Prompt, Negative, Sampler, Model string
		Steps, Width, Height             int
		CFG                              float64
		Seed                             int64
	}
	out := map[string]row{}
	for name, g := range want {
		out[name] = row{g.Prompt, g.NegativePrompt, g.Sampler, g.Model, g.Steps, g.Width, g.Height, g.CFGScale, g.Seed}
	}
	s, err := marshalNoEscape(out)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	require.NoError(t, os.WriteFile("testdata/shared_generations.json", []byte(s+"\n"), 0o644))
}
