package embed

import (
	"fmt"
	"image"
	"math"
	"os"
)

// Transform names an image preprocessing pipeline.
type Transform int

const (
	// TransformCLIP is OpenAI CLIP's and open_clip's evaluation transform: Resize(224,
	// BICUBIC) on the image in its own PIL mode (short side to 224, long side
	// int(224·long/short)), CenterCrop(224) with offset int(round((size-224)/2)),
	// convert("RGB"), ToTensor, Normalize.
	TransformCLIP Transform = iota
	// TransformCLIPHF is Hugging Face's CLIPImageProcessor: convert("RGB") first, the same
	// resize, centre crop with offset (size-224)//2, rescale, normalise.
	TransformCLIPHF
	// TransformHPSv2 is HPSv2's open_clip ResizeMaxSize: longest side to 224
	// (round(side·scale)), BICUBIC, zero padding (pad//2 before, the rest after) to a
	// square, convert("RGB"), ToTensor, Normalize.
	TransformHPSv2
)

func (t Transform) String() string {
	switch t {
	case TransformCLIP:
		return "clip"
	case TransformCLIPHF:
		return "clip-hf"
	case TransformHPSv2:
		return "hpsv2"
	}
	return fmt.Sprintf("Transform(%d)", int(t))
}

// OpenAI CLIP's normalisation constants (clip/clip.py _transform; also image_mean and
// image_std of every openai/clip-* preprocessor_config.json), and its input size.
var (
	CLIPMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// CLIPImageSize is the input resolution of CLIP ViT-B/32, ViT-L/14 and ViT-H-14 (224).
const CLIPImageSize = 224

// Preprocessor turns encoded images into normalised CHW float32 pixel tensors. The zero
// value is OpenAI CLIP's transform at 224 pixels with the OpenAI mean and std.
type Preprocessor struct {
	Transform Transform
	// Size is the square output side; 0 means CLIPImageSize.
	Size int
	// Mean and Std normalise each channel; zero values mean CLIPMean and CLIPStd. A set Std
	// must be positive in every channel, and both must be finite.
	Mean, Std [3]float32
	// ApplyOrientation rotates JPEG, PNG and WebP images by their EXIF orientation first,
	// like PIL's ImageOps.exif_transpose. The reference pipelines do not, so it is off by
	// default.
	ApplyOrientation bool
	// MaxPixels refuses larger images before decoding them; 0 means DefaultMaxPixels and a
	// negative value means no limit.
	MaxPixels int
}

// resolve validates p and returns it with the defaults filled in; errors wrap
// ErrInvalidOptions.
func (p Preprocessor) resolve() (Preprocessor, error) {
	switch {
	case p.Transform < TransformCLIP || p.Transform > TransformHPSv2:
		return p, invalid("Preprocessor.Transform", "%v is not a transform", p.Transform)
	case p.Size < 0:
		return p, invalid("Preprocessor.Size", "%d is negative", p.Size)
	}
	for c := range 3 {
		m, s := float64(p.Mean[c]), float64(p.Std[c])
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return p, invalid("Preprocessor.Mean", "channel %d is %v", c, m)
		}
		if p.Std != ([3]float32{}) && !(s > 0 && !math.IsInf(s, 0)) {
			return p, invalid("Preprocessor.Std", "channel %d is %v, not a positive finite number", c, s)
		}
	}
	if p.Size == 0 {
		p.Size = CLIPImageSize
	}
	if p.Mean == ([3]float32{}) {
		p.Mean = CLIPMean
	}
	if p.Std == ([3]float32{}) {
		p.Std = CLIPStd
	}
	return p, nil
}

// TensorLen is the number of floats one image occupies (3·Size·Size, Size 0 meaning
// CLIPImageSize); 0 for a preprocessor with invalid fields.
func (p Preprocessor) TensorLen() int {
	p, err := p.resolve()
	if err != nil {
		return 0
	}
	return 3 * p.Size * p.Size
}

// RGB decodes data and returns the Size×Size 8-bit RGB picture the transform hands to
// ToTensor, as an *image.RGBA with opaque alpha.
func (p Preprocessor) RGB(data []byte) (*image.RGBA, error) {
	p, err := p.resolve()
	if err != nil {
		return nil, err
	}
	pic, err := p.prepare(data)
	if err != nil {
		return nil, fmt.Errorf("embed: image: %w", err)
	}
	out := image.NewRGBA(image.Rect(0, 0, pic.w, pic.h))
	for i := 0; i < pic.w*pic.h; i++ {
		copy(out.Pix[4*i:], pic.pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out, nil
}

// Pixels decodes data and writes the normalised 3×Size×Size tensor (channel-major) into
// dst, which must have TensorLen elements.
func (p Preprocessor) Pixels(dst []float32, data []byte) error {
	p, err := p.resolve()
	if err != nil {
		return err
	}
	if err := p.pixels(dst, data); err != nil {
		return fmt.Errorf("embed: image: %w", err)
	}
	return nil
}

// pixels is Pixels for a resolved preprocessor, with errors left for the caller to name.
func (p Preprocessor) pixels(dst []float32, data []byte) error {
	if len(dst) != 3*p.Size*p.Size {
		return fmt.Errorf("pixel buffer has %d floats, want %d", len(dst), 3*p.Size*p.Size)
	}
	pic, err := p.prepare(data)
	if err != nil {
		return err
	}
	n := p.Size * p.Size
	for c := 0; c < 3; c++ {
		mean, std := p.Mean[c], p.Std[c]
		plane := dst[c*n : (c+1)*n]
		for i := range plane {
			plane[i] = (float32(pic.pix[3*i+c])/255 - mean) / std
		}
	}
	return nil
}

// PixelsFile reads the image at path and returns its normalised tensor. Errors name the
// file.
func (p Preprocessor) PixelsFile(path string) ([]float32, error) {
	p, err := p.resolve()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("embed: image %s: %w", path, err)
	}
	dst := make([]float32, p.TensorLen())
	if err := p.pixels(dst, data); err != nil {
		return nil, fmt.Errorf("embed: image %s: %w", path, err)
	}
	return dst, nil
}

func (p Preprocessor) prepare(data []byte) (*picture, error) {
	pic, err := decodePicture(data, p.MaxPixels, p.ApplyOrientation)
	if err != nil {
		return nil, err
	}
	return p.transform(pic)
}

// transform applies the pipeline to a decoded picture without changing it.
func (p Preprocessor) transform(pic *picture) (*picture, error) {
	s := p.Size
	switch p.Transform {
	case TransformCLIP:
		nw, nh := shortSideSize(pic.w, pic.h, s)
		if err := checkResized(pic, nw, nh); err != nil {
			return nil, err
		}
		pic = resize(pic, nw, nh)
		return toRGB(crop(pic, roundHalfEven(float64(pic.w-s)/2), roundHalfEven(float64(pic.h-s)/2), s, s)), nil
	case TransformCLIPHF:
		nw, nh := shortSideSize(pic.w, pic.h, s)
		if err := checkResized(pic, nw, nh); err != nil {
			return nil, err
		}
		pic = resize(toRGB(pic), nw, nh)
		return crop(pic, floorDiv(pic.w-s, 2), floorDiv(pic.h-s, 2), s, s), nil
	case TransformHPSv2:
		scale := float64(s) / float64(max(pic.w, pic.h))
		nw := roundHalfEven(float64(pic.w) * scale)
		nh := roundHalfEven(float64(pic.h) * scale)
		nw, nh = max(nw, 1), max(nh, 1)
		pic = resize(pic, nw, nh)
		// Zero padding: index 0 for palette pictures (torchvision keeps the palette), zero
		// samples otherwise, which for CMYK is white.
		pw, ph := s-nw, s-nh
		return toRGB(crop(pic, -(pw / 2), -(ph / 2), s, s)), nil
	}
	return nil, fmt.Errorf("unknown transform %d", int(p.Transform))
}

// maxResizedPixels bounds the intermediate picture of the short-side resize: a valid but
// extremely thin image (1×100,000 pixels) would otherwise be scaled to 224×22,400,000.
const maxResizedPixels = 64 << 20

func checkResized(pic *picture, w, h int) error {
	if int64(w)*int64(h) > maxResizedPixels {
		return fmt.Errorf("aspect ratio %dx%d too extreme: resizing gives %dx%d", pic.w, pic.h, w, h)
	}
	return nil
}

// shortSideSize is torchvision's Resize(size) output: the short side becomes size and the
// long side int(size·long/short).
func shortSideSize(w, h, size int) (int, int) {
	if w <= h {
		return size, int(float64(size) * float64(h) / float64(w))
	}
	return int(float64(size) * float64(w) / float64(h)), size
}

// roundHalfEven is Python's round() to an int.
func roundHalfEven(x float64) int { return int(math.RoundToEven(x)) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
