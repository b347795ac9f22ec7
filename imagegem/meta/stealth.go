package meta

import (
	"bytes"
	"compress/gzip"
	"image"
	"image/color"
	"io"
	"strings"

	_ "image/png" // the decoders stealth metadata needs

	_ "golang.org/x/image/webp"
)

// Stealth signatures of sd_webui_stealth_pnginfo: the first 15 bytes of the bit stream, in
// the alpha channel's or the RGB channels' least significant bits, read column by column
// (x outer, y inner). "comp" streams are gzip.
const (
	stealthAlphaText = "stealth_pnginfo"
	stealthAlphaGzip = "stealth_pngcomp"
	stealthRGBText   = "stealth_rgbinfo"
	stealthRGBGzip   = "stealth_rgbcomp"
	stealthSigBits   = 15 * 8
	stealthLenBits   = 32
)

// readStealthFrom decodes the image's pixels and reads a stealth text from them; nil when
// there is none (or the pixels cannot be decoded).
func readStealthFrom(r io.ReadSeeker, max int) (*Entry, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, nil // a picture we cannot decode carries no stealth text we can read
	}
	return readStealth(img, max)
}

// readStealth reads a stealth text from decoded pixels. Alpha must not be premultiplied:
// the text is in its lowest bit.
func readStealth(img image.Image, max int) (*Entry, error) {
	px := newPixels(img)
	if px.w == 0 || px.h == 0 {
		return nil, nil
	}
	// The reference looks for the RGB signature first (it is complete after 40 pixels),
	// then the alpha one (after 120).
	for _, mode := range []struct {
		alpha      bool
		text, gzip string
	}{{false, stealthRGBText, stealthRGBGzip}, {true, stealthAlphaText, stealthAlphaGzip}} {
		if mode.alpha && !px.alpha {
			continue
		}
		bs := &bitStream{px: px, alpha: mode.alpha}
		sig, ok := bs.bytes(stealthSigBits / 8)
		if !ok {
			continue
		}
		s := string(sig)
		if s != mode.text && s != mode.gzip {
			continue
		}
		n, ok := bs.uint32()
		if !ok {
			return nil, nil
		}
		nbytes := (uint64(n) + 7) / 8
		if nbytes > uint64(max) {
			return nil, tooLarge("stealth text ("+s+")", 0, nbytes, max)
		}
		if uint64(n) > bs.left() {
			return nil, malformed("stealth text ("+s+")", 0, "%d bits declared, %d pixels' bits left", n, bs.left())
		}
		data := bs.bits(int(n))
		if s == mode.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, malformed("stealth text ("+s+")", 0, "gzip: %v", err)
			}
			if data, err = readLimited(zr, "stealth text ("+s+")", 0, max); err != nil {
				return nil, err
			}
		}
		return &Entry{SourceStealth, s, strings.ToValidUTF8(string(data), ""), 0}, nil
	}
	return nil, nil
}

// pixels gives non-premultiplied RGBA samples of any decoded image.
type pixels struct {
	img   image.Image
	nrgba *image.NRGBA
	w, h  int
	alpha bool
}

func newPixels(img image.Image) *pixels {
	b := img.Bounds()
	p := &pixels{img: img, w: b.Dx(), h: b.Dy()}
	switch m := img.(type) {
	case *image.NRGBA:
		p.nrgba = m
		p.alpha = true
	case *image.NRGBA64, *image.NYCbCrA:
		p.alpha = true
	case *image.RGBA, *image.RGBA64:
		p.alpha = true
	}
	return p
}

func (p *pixels) at(x, y int) (r, g, b, a uint8) {
	b0 := p.img.Bounds().Min
	if p.nrgba != nil {
		i := p.nrgba.PixOffset(b0.X+x, b0.Y+y)
		s := p.nrgba.Pix[i : i+4 : i+4]
		return s[0], s[1], s[2], s[3]
	}
	c := color.NRGBAModel.Convert(p.img.At(b0.X+x, b0.Y+y)).(color.NRGBA)
	return c.R, c.G, c.B, c.A
}

// bitStream reads the low bits column-major, one per pixel (alpha) or three (RGB).
type bitStream struct {
	px    *pixels
	alpha bool
	pos   int // pixel index, column-major
	buf   []uint8
}

func (s *bitStream) left() uint64 {
	per := uint64(3)
	if s.alpha {
		per = 1
	}
	return uint64(s.px.w*s.px.h-s.pos)*per + uint64(len(s.buf))
}

func (s *bitStream) next() (uint8, bool) {
	if len(s.buf) == 0 {
		if s.pos >= s.px.w*s.px.h {
			return 0, false
		}
		x, y := s.pos/s.px.h, s.pos%s.px.h
		s.pos++
		r, g, b, a := s.px.at(x, y)
		if s.alpha {
			return a & 1, true
		}
		s.buf = append(s.buf[:0], g&1, b&1)
		return r & 1, true
	}
	v := s.buf[0]
	s.buf = s.buf[1:]
	return v, true
}

func (s *bitStream) bytes(n int) ([]byte, bool) {
	out := make([]byte, n)
	for i := range out {
		for k := 0; k < 8; k++ {
			v, ok := s.next()
			if !ok {
				return nil, false
			}
			out[i] = out[i]<<1 | v
		}
	}
	return out, true
}

func (s *bitStream) uint32() (uint32, bool) {
	var v uint32
	for k := 0; k < stealthLenBits; k++ {
		b, ok := s.next()
		if !ok {
			return 0, false
		}
		v = v<<1 | uint32(b)
	}
	return v, true
}

// bits reads n bits into bytes, the last one filled from its low end as the reference does.
func (s *bitStream) bits(n int) []byte {
	out := make([]byte, 0, (n+7)/8)
	for n > 0 {
		k := min(8, n)
		var c byte
		for i := 0; i < k; i++ {
			v, _ := s.next()
			c = c<<1 | v
		}
		out = append(out, c)
		n -= k
	}
	return out
}
