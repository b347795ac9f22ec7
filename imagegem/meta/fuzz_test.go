package meta

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// seedFiles adds the shared images' first bytes (the metadata is near the start) and small
// synthetic files to a fuzz corpus.
func seedFiles(f *testing.F) {
	f.Add(tinyPNG(f))
	f.Add(tinyJPEG(f))
	if b, err := AddPNGText(tinyPNG(f), ChunkITextCompressed, "parameters", FormatA1111Text(a1111Sample)); err == nil {
		f.Add(b)
	}
	if b, err := AddJPEGUserComment(tinyJPEG(f), FormatA1111Text(a1111Sample)); err == nil {
		f.Add(b)
	}
	dir := os.Getenv(shareddata.EnvDir)
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "images"))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, "images", e.Name()))
		if err != nil || len(b) < 8 {
			continue
		}
		if len(b) > 64<<10 {
			b = b[:64<<10]
		}
		f.Add(b)
	}
}

// FuzzRead covers the PNG, JPEG and WebP chunk readers, the EXIF reader and the parsers
// behind them: no input panics, and limits hold.
func FuzzRead(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadBytes(b, &Options{MaxTextBytes: 1 << 20, Stealth: StealthOff})
		if err == nil && m == nil {
			t.Fatal("nil metadata without an error")
		}
	})
}

// FuzzStealth decodes fuzzed PNGs for stealth text.
func FuzzStealth(f *testing.F) {
	f.Add(tinyPNG(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		_, _ = ReadBytes(b, &Options{MaxTextBytes: 1 << 16, Stealth: StealthAlways})
	})
}

func FuzzEXIF(f *testing.F) {
	f.Add(UserCommentEXIF("Steps: 1, Sampler: a, Seed: 2"))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x86\x92\x07\x00\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = readTIFF(b, 0, 1<<20)
	})
}

func FuzzParseA1111(f *testing.F) {
	f.Add(FormatA1111Text(a1111Sample))
	f.Add("a\nNegative prompt: b\nSteps: 1, Size: 1x, Hashes: {\"a\": 1, Lora hashes: \"x: , Seed: 99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		g, _ := ParseA1111(s)
		if g != nil {
			_ = FormatA1111Text(g)
		}
	})
}

func FuzzParseComfyUI(f *testing.F) {
	f.Add(`{"1": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "seed": ["1", 0]}}, "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "x", "model": ["2", 0]}}, "3": {"class_type": "CLIPTextEncode", "inputs": {"text": ["3", 0]}}}`)
	f.Add(`{"nodes": [{"id": 1, "type": "KSampler", "inputs": [{"name": "model", "link": 1}], "widgets_values": [1, "fixed", 20]}], "links": [[1, 1, 0, 1, 0, "MODEL"], {"id": 2}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseComfyUI(s)
		_, _ = ParseComfyUIWorkflow(s)
	})
}

func FuzzParseJSONFormats(f *testing.F) {
	f.Add(`{"prompt": "a", "uc": "b", "v4_prompt": {"caption": {"base_caption": "c", "char_captions": [1, {"char_caption": 2}]}}}`)
	f.Add(`{"sui_image_params": {"prompt": "a", "loras": ["x", 2], "loraweights": ["0.5"]}, "sui_models": [{"param": "loras"}, 3]}`)
	f.Add(`{"generation_mode": "txt2img", "positive_prompt": "a", "loras": [{"model": {"name": "x"}, "weight": 0.5}, null]}`)
	f.Add(`{"prompt": "a", "cfgScale": 7, "civitaiResources": [{"type": "lora", "weight": "x"}, null], "resources": [{"type": "lora"}]}`)
	f.Add(`{"Comment": "{\"prompt\": \"x\"}", "Source": 3}`)
	f.Add(`{"nodes": {"d": {"type": "denoise_latents", "steps": 3}, "p": {"type": "string", "value": "x"}, "c": {"type": "compel"}, "k": {"type": "collect"}}, "edges": [{"source": {"node_id": "p", "field": "value"}, "destination": {"node_id": "c", "field": "prompt"}}, {"source": {"node_id": "c", "field": "conditioning"}, "destination": {"node_id": "k", "field": "item"}}, {"source": {"node_id": "k", "field": "collection"}, "destination": {"node_id": "d", "field": "positive_conditioning"}}, {"source": {"node_id": "d", "field": "unet"}, "destination": {"node_id": "d", "field": "unet"}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseText(s)
		_, _ = ParseNovelAI(s)
		_, _ = ParseInvokeAI(s)
		_, _ = ParseInvokeAIGraph(s)
		_, _ = ParseSwarmUI(s)
		_, _ = ParseCivitaiMeta(s)
		_, _ = ParseCivitaiResources(s)
	})
}
