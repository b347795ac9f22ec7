package embed

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// benchBatch is the batch size of the tower benchmarks.
const benchBatch = 32

func benchPrompts(b *testing.B, n int) []string {
	f, err := os.Open(shareddata.Path(b, "prompts", "prompts.jsonl"))
	require.NoError(b, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []string
	for sc.Scan() && len(out) < n {
		var rec struct {
			Prompt string `json:"prompt"`
		}
		require.NoError(b, json.Unmarshal(sc.Bytes(), &rec))
		out = append(out, rec.Prompt)
	}
	return out
}

// BenchmarkCLIPTokenizer tokenizes the first 10,000 corpus prompts on one goroutine with
// a fresh tokenizer per iteration (cold word cache, as a new process).
func BenchmarkCLIPTokenizer(b *testing.B) {
	prompts := benchPrompts(b, 10000)
	path := shareddata.Path(b, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	base, err := LoadCLIPTokenizer(path)
	require.NoError(b, err)
	dst := make([]int64, ContextLength)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok := &CLIPTokenizer{encoder: base.encoder, decoder: base.decoder, ranks: base.ranks,
			byteToSym: base.byteToSym, cache: map[string][]int{}}
		for _, p := range prompts {
			tok.TokenizeInto(dst, p)
		}
	}
	b.ReportMetric(float64(len(prompts)*b.N)/b.Elapsed().Seconds(), "prompts/s")
}

// benchTower compares our Session.Run (Go tensors in, unit rows out) with a bare
// onnxruntime_go AdvancedSession on the same pre-made input, one intra-op thread each.
func benchTower(b *testing.B, model, in, out string, input Tensor, outDim int64) {
	requireRuntime(b)
	path := filepath.Join(tinyDir, "onnx", model)
	so := &SessionOptions{IntraOpThreads: 1, InterOpThreads: 1}
	b.Run("embed", func(b *testing.B) {
		s, err := OpenSession(path, []string{in}, []string{out}, so)
		require.NoError(b, err)
		defer s.Close()
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := s.Run(ctx, input)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := (&Model{dim: int(outDim)}).unitRows(res[0], benchBatch, path, out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("bare", func(b *testing.B) {
		var inT ort.Value
		var err error
		if input.Int64 != nil {
			inT, err = ort.NewTensor(ort.NewShape(input.Shape...), input.Int64)
		} else {
			inT, err = ort.NewTensor(ort.NewShape(input.Shape...), input.Float32)
		}
		require.NoError(b, err)
		defer inT.Destroy()
		outT, err := ort.NewEmptyTensor[float32](ort.NewShape(benchBatch, outDim))
		require.NoError(b, err)
		defer outT.Destroy()
		opts, err := newSessionOptions(*so)
		require.NoError(b, err)
		defer opts.Destroy()
		s, err := ort.NewAdvancedSession(path, []string{in}, []string{out}, []ort.Value{inT}, []ort.Value{outT}, opts)
		require.NoError(b, err)
		defer s.Destroy()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Run(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "items/s")
	})
}

func BenchmarkTextTower(b *testing.B) {
	tok, err := LoadCLIPTokenizer(filepath.Join(tinyDir, "bpe_simple_vocab_16e6.txt.gz"))
	require.NoError(b, err)
	prompts := benchPrompts(b, benchBatch)
	ids := make([]int64, benchBatch*ContextLength)
	for i, p := range prompts {
		tok.TokenizeInto(ids[i*ContextLength:(i+1)*ContextLength], p)
	}
	benchTower(b, "text_model.onnx", inputIDs, textEmbedsOut,
		Tensor{Shape: []int64{benchBatch, ContextLength}, Int64: ids}, 12)
}

func BenchmarkImageTower(b *testing.B) {
	data, err := os.ReadFile(shareddata.Path(b, "images", "photo_rgb_512x512.png"))
	require.NoError(b, err)
	p := Preprocessor{}
	px := make([]float32, benchBatch*p.TensorLen())
	for i := 0; i < benchBatch; i++ {
		require.NoError(b, p.Pixels(px[i*p.TensorLen():(i+1)*p.TensorLen()], data))
	}
	benchTower(b, "vision_model.onnx", pixelValues, imageEmbedsOut,
		Tensor{Shape: []int64{benchBatch, 3, CLIPImageSize, CLIPImageSize}, Float32: px}, 12)
}

// BenchmarkPreprocess decodes and transforms one image per iteration.
func BenchmarkPreprocess(b *testing.B) {
	for _, name := range []string{"photo_rgb_512x512.png", "jpeg_progressive_832x1216.jpg", "webp_lossy-vp8-simple_1024x772.webp"} {
		data, err := os.ReadFile(shareddata.Path(b, "images", name))
		require.NoError(b, err)
		for _, tr := range []Transform{TransformCLIP, TransformHPSv2} {
			b.Run(name+"/"+tr.String(), func(b *testing.B) {
				p := Preprocessor{Transform: tr}
				dst := make([]float32, p.TensorLen())
				for i := 0; i < b.N; i++ {
					if err := p.Pixels(dst, data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
