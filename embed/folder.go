package embed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// Files of a model folder in the Hugging Face / Transformers.js layout, and open_clip's
// vocabulary file.
const (
	textModelFile     = "onnx/text_model.onnx"
	visionModelFile   = "onnx/vision_model.onnx"
	combinedModelFile = "model.onnx"
	configFile        = "config.json"
	preprocessorFile  = "preprocessor_config.json"
	openCLIPVocab     = "bpe_simple_vocab_16e6.txt.gz"
)

// Tensor names of the exported towers (Transformers.js / Optimum CLIP exports).
const (
	inputIDs       = "input_ids"
	attentionMask  = "attention_mask"
	pixelValues    = "pixel_values"
	textEmbedsOut  = "text_embeds"
	imageEmbedsOut = "image_embeds"
)

// defaultLogitScale is CLIP's initial temperature log(1/0.07) (config.json
// logit_scale_init_value 2.6592), used when the folder gives none.
const defaultLogitScale = 2.6592

// modelConfig holds what is read from config.json.
type modelConfig struct {
	ProjectionDim       int      `json:"projection_dim"`
	LogitScale          *float64 `json:"logit_scale"`
	LogitScaleInitValue *float64 `json:"logit_scale_init_value"`
	TextConfig          struct {
		MaxPositionEmbeddings int `json:"max_position_embeddings"`
		VocabSize             int `json:"vocab_size"`
	} `json:"text_config"`
	VisionConfig struct {
		ImageSize int `json:"image_size"`
	} `json:"vision_config"`
}

// preprocessorConfig holds what is read from preprocessor_config.json.
type preprocessorConfig struct {
	CropSize      json.RawMessage `json:"crop_size"`
	Size          json.RawMessage `json:"size"`
	ImageMean     []float32       `json:"image_mean"`
	ImageStd      []float32       `json:"image_std"`
	RescaleFactor *float64        `json:"rescale_factor"`
}

func readJSON(path string, v any) (bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("embed: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("embed: %s: %w", path, err)
	}
	return true, nil
}

// sizeValue reads a preprocessor size given as a number or as {"height", "width"} or
// {"shortest_edge"}.
func sizeValue(raw json.RawMessage) (int, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, err
	}
	if v, ok := m["shortest_edge"]; ok {
		return v, nil
	}
	if m["height"] != m["width"] {
		return 0, fmt.Errorf("non-square size %dx%d", m["width"], m["height"])
	}
	return m["height"], nil
}

// folderPreprocessor fills the zero fields of base from preprocessor_config.json (when
// present) and resolves the result.
func folderPreprocessor(dir string, base Preprocessor) (Preprocessor, error) {
	path := filepath.Join(dir, preprocessorFile)
	p, err := readPreprocessor(path, base)
	if err != nil {
		return p, err
	}
	return p.resolve()
}

func readPreprocessor(path string, base Preprocessor) (Preprocessor, error) {
	var pc preprocessorConfig
	ok, err := readJSON(path, &pc)
	if err != nil || !ok {
		return base, err
	}
	size, err := sizeValue(pc.CropSize)
	if err != nil {
		return base, fmt.Errorf("embed: %s: field crop_size: %w", path, err)
	}
	if size == 0 {
		if size, err = sizeValue(pc.Size); err != nil {
			return base, fmt.Errorf("embed: %s: field size: %w", path, err)
		}
	}
	if base.Size == 0 && size > 0 {
		base.Size = size
	}
	if len(pc.ImageMean) == 3 && base.Mean == ([3]float32{}) {
		copy(base.Mean[:], pc.ImageMean)
	} else if pc.ImageMean != nil && len(pc.ImageMean) != 3 {
		return base, fmt.Errorf("embed: %s: field image_mean has %d values, want 3", path, len(pc.ImageMean))
	}
	if len(pc.ImageStd) == 3 && base.Std == ([3]float32{}) {
		copy(base.Std[:], pc.ImageStd)
	} else if pc.ImageStd != nil && len(pc.ImageStd) != 3 {
		return base, fmt.Errorf("embed: %s: field image_std has %d values, want 3", path, len(pc.ImageStd))
	}
	for i, s := range base.Std {
		if s == 0 && base.Std != ([3]float32{}) {
			return base, fmt.Errorf("embed: %s: field image_std[%d] is zero", path, i)
		}
	}
	if pc.RescaleFactor != nil && math.Abs(*pc.RescaleFactor-1.0/255) > 1e-9 {
		return base, fmt.Errorf("embed: %s: field rescale_factor %g, only 1/255 is supported", path, *pc.RescaleFactor)
	}
	return base, nil
}

// openCLIPConfig marks a folder in open_clip's Hugging Face Hub layout.
const openCLIPConfig = "open_clip_config.json"

// LoadCLIPTokenizerFromFolder loads the CLIP tokenizer of a model folder without loading
// its models, with the text pipeline of the folder's family ([CLIPTokenizer.Family]):
//
//   - tokenizer.json: [TextHF], the file's own normalizers and pre-tokenizers (the fast
//     tokenizer Transformers and Transformers.js load from such a folder);
//   - else bpe_simple_vocab_16e6.txt.gz: [TextOpenCLIP] when open_clip_config.json is
//     beside it, else [TextOpenAI];
//   - else merges.txt: [TextOpenAI].
func LoadCLIPTokenizerFromFolder(dir string) (*CLIPTokenizer, error) {
	return loadFolderTokenizer(dir, "")
}

// loadFolderTokenizer is LoadCLIPTokenizerFromFolder with the family forced unless f is "".
func loadFolderTokenizer(dir string, f TextFamily) (*CLIPTokenizer, error) {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	var t *CLIPTokenizer
	var err error
	switch {
	case exists("tokenizer.json") && (f == "" || f == TextHF):
		return LoadCLIPTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	case exists(openCLIPVocab):
		t, err = LoadCLIPTokenizer(filepath.Join(dir, openCLIPVocab))
		if err == nil && f == "" && exists(openCLIPConfig) {
			f = TextOpenCLIP
		}
	case exists("merges.txt"):
		t, err = LoadCLIPTokenizer(filepath.Join(dir, "merges.txt"))
	case exists("tokenizer.json"):
		// Another family asked of a folder with only tokenizer.json: its merges.
		t, err = LoadCLIPTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	default:
		return nil, fmt.Errorf("embed: model folder %s: no tokenizer.json, %s or merges.txt", dir, openCLIPVocab)
	}
	if err != nil {
		return nil, err
	}
	if f == "" || f == t.family {
		return t, nil
	}
	if f == TextHF {
		return nil, fmt.Errorf("embed: model folder %s: %w: TextFamily: %q needs tokenizer.json", dir, ErrInvalidOptions, string(f))
	}
	return t.WithFamily(f)
}
