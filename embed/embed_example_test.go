package embed_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/embed"
)

// tinyModel is the toy CLIP folder the package's tests use; point Open at a real export
// (for example Xenova/clip-vit-base-patch32) the same way.
var tinyModel = filepath.Join("testdata", "tinyclip")

// gradient returns a small PNG for the examples.
func gradient() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 319), uint8(y * 255 / 239), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func ExampleLoadCLIPTokenizer() {
	tok, err := embed.LoadCLIPTokenizer(filepath.Join(tinyModel, "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Tokenize("A photo of a cat")
	fmt.Println(len(ids), ids[:7])
	fmt.Println(tok.Encode("(masterpiece:1.2)"))
	text, _ := tok.Decode(tok.Encode("Café 😀"))
	fmt.Printf("%q\n", text)
	// Output:
	// 77 [49406 320 1125 539 320 2368 49407]
	// [49406 263 12066 281 272 269 273 264 49407]
	// "café 😀 "
}

func ExampleCLIPTokenizer_TokenizeInto() {
	tok, err := embed.LoadCLIPTokenizer(filepath.Join(tinyModel, "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		log.Fatal(err)
	}
	dst := make([]int64, embed.ContextLength)
	long := ""
	for i := 0; i < 100; i++ {
		long += "cat "
	}
	truncated := tok.TokenizeInto(dst, long)
	fmt.Println(truncated, dst[0], dst[75], dst[76])
	// Output: true 49406 2368 49407
}

func ExamplePreprocessor_Pixels() {
	p := embed.Preprocessor{Transform: embed.TransformHPSv2}
	px := make([]float32, p.TensorLen())
	if err := p.Pixels(px, gradient()); err != nil {
		log.Fatal(err)
	}
	// HPSv2 pads the 224x168 resized image with black rows: (0 - mean) / std.
	fmt.Printf("%d %.4f\n", len(px), px[0])
	rgb, _ := p.RGB(gradient())
	fmt.Println(rgb.Bounds().Dx(), rgb.Bounds().Dy(), rgb.RGBAAt(0, 0), rgb.RGBAAt(0, 28))
	// Output:
	// 150528 -1.7923
	// 224 224 {0 0 0 255} {0 0 128 255}
}

func ExampleOpen() {
	m, err := embed.Open(context.Background(), tinyModel, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	texts, err := m.EncodeText(context.Background(), []string{"a photo of a cat", "a photo of a dog"})
	if err != nil {
		log.Fatal(err)
	}
	imgs, errs, err := m.EncodeImageData(context.Background(), [][]byte{gradient(), []byte("not an image")})
	if err != nil {
		log.Fatal(err)
	}
	// Rows are m.Dim() floats wide, row-major; a failed image has a zero row.
	d := m.Dim()
	fmt.Println(d, len(texts), len(imgs), errs[0] == nil, errs[1] != nil)
	fmt.Printf("%.3f\n", embed.Cosine(texts[:d], texts[:d]))
	fmt.Printf("%.0f\n", m.LogitScale())
	// Output:
	// 12 24 24 true true
	// 1.000
	// 100
}

func ExampleModel_EncodeImages() {
	dir, err := os.MkdirTemp("", "embed-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	good := filepath.Join(dir, "gradient.png")
	if err := os.WriteFile(good, gradient(), 0o644); err != nil {
		log.Fatal(err)
	}
	m, err := embed.Open(context.Background(), tinyModel, &embed.Options{ImageOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	embs, errs, err := m.EncodeImages(context.Background(), []string{good, filepath.Join(dir, "missing.jpg")})
	if err != nil {
		log.Fatal(err)
	}
	d := m.Dim()
	fmt.Println(len(embs)/d, errs[0] == nil, errs[1] != nil)
	// Output: 2 true true
}

func ExampleCLIPScore() {
	dir, err := os.MkdirTemp("", "embed-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "gradient.png")
	if err := os.WriteFile(img, gradient(), 0o644); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	m, err := embed.Open(context.Background(), tinyModel, &embed.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	cs, _, err := embed.CLIPScore(ctx, m, []string{img}, []string{"a gradient"}, &embed.ScoreOptions{Prefix: true})
	if err != nil {
		log.Fatal(err)
	}
	ps, _, err := embed.PickScore(ctx, m, []string{img}, []string{"a gradient"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cs[0] >= 0 && cs[0] <= 2.5, ps[0] >= -100 && ps[0] <= 100)

	hm, err := embed.Open(context.Background(), tinyModel, &embed.Options{Preprocessor: embed.Preprocessor{Transform: embed.TransformHPSv2}})
	if err != nil {
		log.Fatal(err)
	}
	defer hm.Close()
	hs, _, err := embed.HPSv2(ctx, hm, []string{img}, []string{"a gradient"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hs[0] >= -1 && hs[0] <= 1)
	// Output:
	// true true
	// true
}

func ExampleMostSimilar() {
	query := []float32{1, 0}
	items := []float32{0, 1, 1, 1, 3, 0} // three rows of two
	best, err := embed.MostSimilar(query, items, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range best {
		fmt.Printf("%d %.3f\n", m.Index, m.Score)
	}
	fmt.Println(embed.Normalize([]float32{3, 4}))
	// Output:
	// 2 1.000
	// 1 0.707
	// [0.6 0.8]
}

func ExampleOpenSession() {
	s, err := embed.OpenSession(filepath.Join(tinyModel, "onnx", "vision_model.onnx"),
		[]string{"pixel_values"}, []string{"image_embeds"}, &embed.SessionOptions{IntraOpThreads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), embed.Tensor{Shape: []int64{2, 3, 224, 224}, Float32: make([]float32, 2*3*224*224)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Shape)
	_, err = embed.OpenSession(filepath.Join(tinyModel, "onnx", "vision_model.onnx"),
		[]string{"images"}, []string{"image_embeds"}, &embed.SessionOptions{})
	fmt.Println(err != nil)
	// Output:
	// [2 12]
	// true
}

func ExampleFindLibrary() {
	if err := embed.InitRuntime(&embed.RuntimeOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(embed.RuntimeVersion() != "", embed.RuntimeLibrary() != "", len(embed.LibraryCandidates()) > 0)
	// Output: true true true
}
