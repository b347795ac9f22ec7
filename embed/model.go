package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/imagegem/imagegem-go/internal/progress"
)

// Model is a CLIP text and image encoder pair loaded from a model folder. It is safe for
// concurrent use.
type Model struct {
	dir        string
	text       *Session
	textMask   bool
	vision     *Session
	combined   bool // text and vision are one session over model.onnx
	tok        *CLIPTokenizer
	pre        Preprocessor
	ctxLen     int
	dim        int // embedding width
	batch      int
	logitScale float64
	progress   progress.Func
}

// Open loads a model folder: onnx/text_model.onnx (input_ids [, attention_mask] ->
// text_embeds) and onnx/vision_model.onnx (pixel_values -> image_embeds), or, when
// neither exists, a combined model.onnx (input_ids, pixel_values [, attention_mask] ->
// text_embeds, image_embeds) at the top or under onnx/; config.json,
// preprocessor_config.json, and the tokenizer (see [Options.Vocabulary]). A nil opts means
// the defaults; an option out of range is an error wrapping [ErrInvalidOptions]. Loading a
// tower can take seconds; ctx is checked between the steps.
func Open(ctx context.Context, dir string, opts *Options) (*Model, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &Model{dir: dir, ctxLen: ContextLength, batch: o.BatchSize, progress: o.Progress}
	var cfg modelConfig
	if _, err := readJSON(filepath.Join(dir, configFile), &cfg); err != nil {
		return nil, err
	}
	if n := cfg.TextConfig.MaxPositionEmbeddings; n > 0 {
		m.ctxLen = n
	}
	switch {
	case o.LogitScale > 0:
		m.logitScale = o.LogitScale
	case cfg.LogitScale != nil:
		m.logitScale = math.Exp(*cfg.LogitScale)
	case cfg.LogitScaleInitValue != nil:
		m.logitScale = math.Exp(*cfg.LogitScaleInitValue)
	default:
		m.logitScale = math.Exp(defaultLogitScale)
	}
	if combined := combinedModel(dir); combined != "" {
		if m.tok, err = m.loadTokenizer(o); err != nil {
			return nil, err
		}
		if m.pre, err = folderPreprocessor(dir, o.Preprocessor); err != nil {
			return nil, err
		}
		if err := m.openCombined(combined, &o.Session); err != nil {
			return nil, err
		}
		if err := m.setDim(cfg); err != nil {
			m.Close()
			return nil, err
		}
		return m, nil
	}
	if !o.ImageOnly {
		if m.tok, err = m.loadTokenizer(o); err != nil {
			return nil, err
		}
		if err := m.openText(&o.Session); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		m.Close()
		return nil, err
	}
	if !o.TextOnly {
		if m.pre, err = folderPreprocessor(dir, o.Preprocessor); err != nil {
			m.Close()
			return nil, err
		}
		if m.vision, err = OpenSession(filepath.Join(dir, visionModelFile),
			[]string{pixelValues}, []string{imageEmbedsOut}, &o.Session); err != nil {
			m.Close()
			return nil, err
		}
	}
	if err := m.setDim(cfg); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// setDim finds the embedding width: the towers' declared output width, else config.json
// projection_dim. Two towers must agree.
func (m *Model) setDim(cfg modelConfig) error {
	for _, t := range []struct {
		s    *Session
		name string
	}{{m.text, textEmbedsOut}, {m.vision, imageEmbedsOut}} {
		if t.s == nil {
			continue
		}
		d := t.s.outputWidth(t.name)
		if d <= 0 {
			continue
		}
		if m.dim > 0 && m.dim != d {
			return fmt.Errorf("embed: model folder %s: text embeddings have %d dimensions, image embeddings %d", m.dir, m.dim, d)
		}
		m.dim = d
	}
	if m.dim == 0 {
		m.dim = cfg.ProjectionDim
	}
	if m.dim <= 0 {
		return fmt.Errorf("embed: model folder %s: the embedding width is neither in the model's outputs nor in %s projection_dim", m.dir, configFile)
	}
	return nil
}

func (m *Model) loadTokenizer(o Options) (*CLIPTokenizer, error) {
	if o.Vocabulary != "" {
		t, err := LoadCLIPTokenizer(o.Vocabulary)
		if err != nil || o.TextFamily == "" {
			return t, err
		}
		return t.WithFamily(o.TextFamily)
	}
	return loadFolderTokenizer(m.dir, o.TextFamily)
}

// combinedModel returns the path of a combined model.onnx when the folder has no
// separate towers, else "".
func combinedModel(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, textModelFile)); err == nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, visionModelFile)); err == nil {
		return ""
	}
	for _, p := range []string{filepath.Join(dir, combinedModelFile), filepath.Join(dir, "onnx", combinedModelFile)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// openCombined opens a whole-CLIP export: (input_ids, pixel_values[, attention_mask]) ->
// (text_embeds, image_embeds). Each call feeds a one-item dummy for the other tower.
func (m *Model) openCombined(path string, so *SessionOptions) error {
	if err := InitRuntime(nil); err != nil {
		return err
	}
	ins, _, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return fmt.Errorf("embed: model %s: %w", path, err)
	}
	inputs := []string{inputIDs, pixelValues}
	if slices.ContainsFunc(ins, func(i ort.InputOutputInfo) bool { return i.Name == attentionMask }) {
		inputs = append(inputs, attentionMask)
		m.textMask = true
	}
	s, err := OpenSession(path, inputs, []string{textEmbedsOut, imageEmbedsOut}, so)
	if err != nil {
		return err
	}
	m.text, m.vision, m.combined = s, s, true
	return nil
}

// dummyIDs is a one-text batch holding just the start and end tokens.
func (m *Model) dummyIDs() []Tensor {
	ids := make([]int64, m.ctxLen)
	ids[0], ids[1] = StartToken, EndToken
	return []Tensor{{Shape: []int64{1, int64(m.ctxLen)}, Int64: ids}}
}

func (m *Model) openText(so *SessionOptions) error {
	path := filepath.Join(m.dir, textModelFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("embed: model folder %s: %w", m.dir, err)
	}
	if err := InitRuntime(nil); err != nil {
		return err
	}
	ins, _, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return fmt.Errorf("embed: model %s: %w", path, err)
	}
	inputs := []string{inputIDs}
	if slices.ContainsFunc(ins, func(i ort.InputOutputInfo) bool { return i.Name == attentionMask }) {
		inputs = append(inputs, attentionMask)
		m.textMask = true
	}
	m.text, err = OpenSession(path, inputs, []string{textEmbedsOut}, so)
	return err
}

// Close releases both sessions.
func (m *Model) Close() error {
	if m.combined {
		return m.text.Close()
	}
	return errors.Join(m.text.Close(), m.vision.Close())
}

// Tokenizer returns the model's CLIP tokenizer (nil for an ImageOnly model).
func (m *Model) Tokenizer() *CLIPTokenizer { return m.tok }

// Preprocessor returns the image transform in use.
func (m *Model) Preprocessor() Preprocessor { return m.pre }

// Dim returns the embedding width: the row width of the encoders' results.
func (m *Model) Dim() int { return m.dim }

// LogitScale returns the exponentiated temperature PickScore multiplies cosines by.
func (m *Model) LogitScale() float64 { return m.logitScale }

// EncodeText embeds texts and returns one unit-length row of [Model.Dim] floats per text,
// row-major, in order. Cancelling ctx stops it between batches.
func (m *Model) EncodeText(ctx context.Context, texts []string) ([]float32, error) {
	if m.text == nil {
		return nil, errors.New("embed: model opened without its text tower")
	}
	out := make([]float32, 0, len(texts)*m.dim)
	for start := 0; start < len(texts); start += m.batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+m.batch, len(texts))
		n := end - start
		ids := make([]int64, n*m.ctxLen)
		for i, t := range texts[start:end] {
			m.tok.TokenizeInto(ids[i*m.ctxLen:(i+1)*m.ctxLen], t)
		}
		in := []Tensor{{Shape: []int64{int64(n), int64(m.ctxLen)}, Int64: ids}}
		if m.combined {
			s := int64(m.pre.Size)
			in = append(in, Tensor{Shape: []int64{1, 3, s, s}, Float32: make([]float32, 3*s*s)})
		}
		if m.textMask {
			mask := make([]int64, len(ids))
			in = append(in, Tensor{Shape: in[0].Shape, Int64: mask})
			for i := 0; i < n; i++ {
				row := ids[i*m.ctxLen : (i+1)*m.ctxLen]
				for j := range row {
					mask[i*m.ctxLen+j] = 1
					if row[j] == EndToken {
						break
					}
				}
			}
		}
		res, err := m.text.Run(ctx, in...)
		if err != nil {
			return nil, err
		}
		rows, err := m.unitRows(res[0], n, m.text.Path(), textEmbedsOut)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		m.progress.Report(Progress{Stage: ProgressStage, Done: end, Total: len(texts)})
	}
	return out, nil
}

// EncodeImages embeds the image files at paths and returns one unit-length row of
// [Model.Dim] floats per path, row-major, in order. An image that cannot be read or
// decoded gets a zero row and an error at its index in errs while the rest complete; err
// is for failures of the whole call (cancellation, the runtime). Cancelling ctx stops it
// between batches.
func (m *Model) EncodeImages(ctx context.Context, paths []string) (embs []float32, errs []error, err error) {
	return m.encodeImages(ctx, len(paths), func(i int, dst []float32) error {
		data, err := os.ReadFile(paths[i])
		if err != nil {
			return fmt.Errorf("embed: image %s: %w", paths[i], err)
		}
		if err := m.pre.pixels(dst, data); err != nil {
			return fmt.Errorf("embed: image %s: %w", paths[i], err)
		}
		return nil
	})
}

// EncodeImageData is EncodeImages over encoded images in memory; errors name the index.
func (m *Model) EncodeImageData(ctx context.Context, images [][]byte) (embs []float32, errs []error, err error) {
	return m.encodeImages(ctx, len(images), func(i int, dst []float32) error {
		if err := m.pre.pixels(dst, images[i]); err != nil {
			return fmt.Errorf("embed: image %d: %w", i, err)
		}
		return nil
	})
}

func (m *Model) encodeImages(ctx context.Context, total int, load func(i int, dst []float32) error) ([]float32, []error, error) {
	if m.vision == nil {
		return nil, nil, errors.New("embed: model opened without its image tower")
	}
	embs := make([]float32, total*m.dim)
	errs := make([]error, total)
	per := m.pre.TensorLen()
	buf := make([]float32, m.batch*per)
	for start := 0; start < total; start += m.batch {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		end := min(start+m.batch, total)
		var ok []int
		for i := start; i < end; i++ {
			dst := buf[len(ok)*per : (len(ok)+1)*per]
			if err := load(i, dst); err != nil {
				errs[i] = err
				continue
			}
			ok = append(ok, i)
		}
		if len(ok) > 0 {
			s := int64(m.pre.Size)
			px := Tensor{Shape: []int64{int64(len(ok)), 3, s, s}, Float32: buf[:len(ok)*per]}
			in, out := []Tensor{px}, 0
			if m.combined {
				in, out = append(m.dummyIDs(), px), 1
				if m.textMask {
					in = append(in, Tensor{Shape: in[0].Shape, Int64: []int64{1, 1}})
					in[2].Int64 = append(in[2].Int64, make([]int64, m.ctxLen-2)...)
				}
			}
			res, err := m.vision.Run(ctx, in...)
			if err != nil {
				return nil, nil, err
			}
			rows, err := m.unitRows(res[out], len(ok), m.vision.Path(), imageEmbedsOut)
			if err != nil {
				return nil, nil, err
			}
			for j, i := range ok {
				copy(embs[i*m.dim:(i+1)*m.dim], rows[j*m.dim:(j+1)*m.dim])
			}
		}
		m.progress.Report(Progress{Stage: ProgressStage, Done: end, Total: total})
	}
	return embs, errs, nil
}

// unitRows checks that an output is [n, Dim] float32 and returns its rows scaled to unit
// length, row-major.
func (m *Model) unitRows(t Tensor, n int, path, name string) ([]float32, error) {
	if len(t.Shape) != 2 || t.Shape[0] != int64(n) || t.Shape[1] != int64(m.dim) || t.Float32 == nil {
		return nil, fmt.Errorf("embed: model %s: output %s has shape %v, want [%d, %d] float32", path, name, t.Shape, n, m.dim)
	}
	rows := slices.Clone(t.Float32[:n*m.dim])
	for i := range n {
		Normalize(rows[i*m.dim : (i+1)*m.dim])
	}
	return rows, nil
}
