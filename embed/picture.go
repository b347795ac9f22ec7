package embed

import (
	"image"
	"image/color"
)

// pixMode is the pixel layout of a decoded picture, named after the PIL mode it mirrors:
// the reference pipelines resample an image in the mode PIL opened it in, and the mode
// decides how (palette images by nearest neighbour, alpha images premultiplied).
type pixMode int

const (
	modeL    pixMode = iota // 8-bit grey
	modeRGB                 // 8-bit RGB
	modeRGBA                // 8-bit RGB with straight (not premultiplied) alpha
	modeP                   // palette indices
	modeCMYK                // 8-bit CMYK, 0 = no ink
	modeI                   // 32-bit integer grey (16-bit greyscale PNGs), in pix32
)

func (m pixMode) channels() int {
	switch m {
	case modeL, modeP, modeI:
		return 1
	case modeRGB:
		return 3
	default:
		return 4
	}
}

func (m pixMode) String() string {
	return [...]string{"L", "RGB", "RGBA", "P", "CMYK", "I"}[m]
}

// picture is an 8-bit image in one of the PIL modes, channels interleaved row by row.
type picture struct {
	mode    pixMode
	w, h    int
	pix     []uint8
	palette [][3]uint8 // modeP only
	pix32   []int32    // modeI only, in place of pix
}

func newPicture(mode pixMode, w, h int) *picture {
	if mode == modeI {
		return &picture{mode: mode, w: w, h: h, pix32: make([]int32, w*h)}
	}
	return &picture{mode: mode, w: w, h: h, pix: make([]uint8, w*h*mode.channels())}
}

// fromImage converts a decoded Go image into the PIL mode PIL would have opened the same
// file in. 16-bit samples keep their high byte, as PIL's 16-bit RGB(A) unpackers do.
func fromImage(img image.Image, format string) *picture {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		p := newPicture(modeL, w, h)
		for y := 0; y < h; y++ {
			copy(p.pix[y*w:(y+1)*w], m.Pix[y*m.Stride:y*m.Stride+w])
		}
		return p
	case *image.Gray16:
		// PIL opens 16-bit greyscale as mode I (the full 0..65535 values); its RGB
		// conversion later clips them to 0..255.
		p := newPicture(modeI, w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p.pix32[y*w+x] = int32(m.Pix[y*m.Stride+2*x])<<8 | int32(m.Pix[y*m.Stride+2*x+1])
			}
		}
		return p
	case *image.Paletted:
		p := newPicture(modeP, w, h)
		for y := 0; y < h; y++ {
			copy(p.pix[y*w:(y+1)*w], m.Pix[y*m.Stride:y*m.Stride+w])
		}
		p.palette = make([][3]uint8, 256)
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			if nc, ok := c.(color.NRGBA); ok {
				n = nc
			}
			p.palette[i] = [3]uint8{n.R, n.G, n.B}
		}
		return p
	case *image.CMYK:
		p := newPicture(modeCMYK, w, h)
		for y := 0; y < h; y++ {
			copy(p.pix[y*w*4:(y+1)*w*4], m.Pix[y*m.Stride:y*m.Stride+4*w])
		}
		return p
	case *image.YCbCr:
		return fromYCbCr(m, nil, format == "webp")
	case *image.NYCbCrA:
		return fromYCbCr(&m.YCbCr, m, format == "webp")
	case *image.NRGBA:
		if m.Opaque() {
			p := newPicture(modeRGB, w, h)
			for y := 0; y < h; y++ {
				row := m.Pix[y*m.Stride:]
				for x := 0; x < w; x++ {
					copy(p.pix[(y*w+x)*3:], row[4*x:4*x+3])
				}
			}
			return p
		}
		p := newPicture(modeRGBA, w, h)
		for y := 0; y < h; y++ {
			copy(p.pix[y*w*4:(y+1)*w*4], m.Pix[y*m.Stride:y*m.Stride+4*w])
		}
		return p
	case *image.RGBA:
		if m.Opaque() {
			p := newPicture(modeRGB, w, h)
			for y := 0; y < h; y++ {
				row := m.Pix[y*m.Stride:]
				for x := 0; x < w; x++ {
					copy(p.pix[(y*w+x)*3:], row[4*x:4*x+3])
				}
			}
			return p
		}
	case *image.NRGBA64:
		mode := modeRGBA
		if m.Opaque() {
			mode = modeRGB
		}
		p := newPicture(mode, w, h)
		c := mode.channels()
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				for k := 0; k < c; k++ {
					p.pix[(y*w+x)*c+k] = row[8*x+2*k]
				}
			}
		}
		return p
	}
	// Anything else (premultiplied RGBA with transparency, RGBA64, ...) goes through
	// straight-alpha NRGBA.
	p := newPicture(modeRGBA, w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			copy(p.pix[(y*w+x)*4:], []uint8{c.R, c.G, c.B, c.A})
		}
	}
	return p
}

// fromYCbCr converts JPEG/WebP YCbCr planes to RGB(A). Subsampled chroma is upsampled
// with the triangle ("fancy") filter of libjpeg-turbo and libwebp, which PIL's decoders
// use, rather than Go's nearest sample. JPEG samples are full-range JFIF; WebP (VP8)
// samples are limited-range BT.601 and use libwebp's conversion.
func fromYCbCr(m *image.YCbCr, alpha *image.NYCbCrA, webp bool) *picture {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	mode := modeRGB
	if alpha != nil {
		mode = modeRGBA
	}
	p := newPicture(mode, w, h)
	c := mode.channels()
	cb, cr := upsampleChroma(m)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			yy := m.Y[y*m.YStride+x]
			var r, g, bl uint8
			if webp {
				r, g, bl = vp8ToRGB(yy, cb[y*w+x], cr[y*w+x])
			} else {
				r, g, bl = yccToRGB(yy, cb[y*w+x], cr[y*w+x])
			}
			o := (y*w + x) * c
			p.pix[o], p.pix[o+1], p.pix[o+2] = r, g, bl
			if alpha != nil {
				p.pix[o+3] = alpha.A[y*alpha.AStride+x]
			}
		}
	}
	return p
}

// yccToRGB is the JFIF conversion with libjpeg's fixed-point rounding (16 fraction bits,
// coefficients 1.402, 0.34414, 0.71414, 1.772 rounded to fixed point).
func yccToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	const (
		scaleBits = 16
		half      = 1 << (scaleBits - 1)
		crR       = 91881  // FIX(1.40200)
		cbG       = 22554  // FIX(0.34414)
		crG       = 46802  // FIX(0.71414)
		cbB       = 116130 // FIX(1.77200)
	)
	yi := int32(y)
	cbi, cri := int32(cb)-128, int32(cr)-128
	r := yi + ((crR*cri + half) >> scaleBits)
	g := yi + ((-cbG*cbi - crG*cri + half) >> scaleBits)
	bl := yi + ((cbB*cbi + half) >> scaleBits)
	return clamp8(r), clamp8(g), clamp8(bl)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// vp8ToRGB is libwebp's VP8YUVToR/G/B: limited-range BT.601 with 14-bit fixed point
// (1.164 = 19077/2^14, 1.596 = 26149/2^14, 0.391 = 6419/2^14, 0.813 = 13320/2^14,
// 2.018 = 33050/2^14) and 6 fraction bits left after the products.
func vp8ToRGB(y, u, v uint8) (uint8, uint8, uint8) {
	mulHi := func(a, c int32) int32 { return (a * c) >> 8 }
	clip := func(x int32) uint8 {
		const fix2, mask2 = 6, (256 << 6) - 1
		if x&^mask2 == 0 {
			return uint8(x >> fix2)
		}
		if x < 0 {
			return 0
		}
		return 255
	}
	yi, ui, vi := int32(y), int32(u), int32(v)
	r := clip(mulHi(yi, 19077) + mulHi(vi, 26149) - 14234)
	g := clip(mulHi(yi, 19077) - mulHi(ui, 6419) - mulHi(vi, 13320) + 8708)
	b := clip(mulHi(yi, 19077) + mulHi(ui, 33050) - 17685)
	return r, g, b
}
