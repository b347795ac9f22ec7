package meta_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/imagegem/imagegem-go/imagegem/meta"
)

func ExampleRead() {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2)))
	params := "a fox, <lora:foxStyle:0.8>\nNegative prompt: blurry\n" +
		`Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Lora hashes: "foxStyle: 0123456789ab"`
	file, _ := meta.AddPNGText(b.Bytes(), meta.ChunkIText, "parameters", params)

	m, err := meta.ReadBytes(file, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := m.Generation
	fmt.Println(g.Format, g.Prompt, "|", g.NegativePrompt)
	fmt.Println(g.Steps, g.Sampler, g.CFGScale, g.Seed)
	fmt.Printf("%+v\n", g.LoRAs)
	// Output:
	// a1111 a fox, <lora:foxStyle:0.8> | blurry
	// 20 Euler a 7 42
	// [{Name:foxStyle Weight:0.8 Hash:0123456789ab ModelVersionID:0}]
}

func ExampleParseComfyUI() {
	graph := `{"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
	"8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
	"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 8, "cfg": 2.0, "sampler_name": "euler", "scheduler": "simple",
		"model": ["10", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
	"10": {"class_type": "LoraLoader", "inputs": {"lora_name": "ink.safetensors", "strength_model": 0.6, "model": ["4", 0]}},
	"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "base.safetensors"}},
	"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "an ink drawing"}},
	"7": {"class_type": "CLIPTextEncode", "inputs": {"text": "photo"}},
	"5": {"class_type": "EmptyLatentImage", "inputs": {"width": 768, "height": 512}}}`
	g, _ := meta.ParseComfyUI(graph)
	fmt.Println(g.Prompt, "|", g.NegativePrompt, "|", g.Model, g.Width, g.Height, g.Seed)
	fmt.Printf("%+v\n", g.LoRAs)
	// Output:
	// an ink drawing | photo | base.safetensors 768 512 5
	// [{Name:ink Weight:0.6 Hash: ModelVersionID:0}]
}
