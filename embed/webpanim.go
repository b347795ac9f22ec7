package embed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
)

// Animated WebP: golang.org/x/image/webp decodes still images only. PIL opens an animated
// WebP through libwebp's WebPAnimDecoder and shows its first frame: a canvas of the size in
// the VP8X chunk, cleared to transparent black (the first frame is a key frame, so the
// ANIM background colour and the frame's blending method play no part), with the frame's
// pixels written as decoded at their offset. The picture is in mode RGBA when the VP8X
// alpha flag is set and RGB otherwise, as PIL's WebPImagePlugin reports it. The frame
// itself is a still WebP bitstream (VP8 with an optional ALPH chunk, or VP8L), which is
// rewrapped in a RIFF container and decoded by x/image, so its pixels take exactly the
// path of a still WebP.

const (
	vp8xAlpha     = 0x10
	vp8xAnimation = 0x02
)

// errWebPFrame wraps every error of the first-frame reader; the messages name the chunk
// and its byte offset in the file.
var errWebPFrame = errors.New("animated webp")

// isAnimatedWebP reports whether data is a RIFF WebP whose VP8X chunk has the animation flag.
func isAnimatedWebP(data []byte) bool {
	if len(data) < 30 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" || string(data[12:16]) != "VP8X" {
		return false
	}
	return data[20]&vp8xAnimation != 0
}

// webpCanvas reads the canvas size and flags of a VP8X chunk starting at data[12:].
func webpCanvas(data []byte) (w, h int, flags byte) {
	p := data[20:30]
	w = 1 + int(uint32(p[4])|uint32(p[5])<<8|uint32(p[6])<<16)
	h = 1 + int(uint32(p[7])|uint32(p[8])<<8|uint32(p[9])<<16)
	return w, h, p[0]
}

// firstWebPFrame decodes the first frame of an animated WebP onto its canvas, as PIL's
// Image.open shows it. maxPixels (> 0) bounds the canvas before any pixel is decoded.
func firstWebPFrame(data []byte, maxPixels int) (*picture, error) {
	bad := func(off int, format string, args ...any) error {
		return fmt.Errorf("%w: offset %d: %s", errWebPFrame, off, fmt.Sprintf(format, args...))
	}
	cw, ch, flags := webpCanvas(data)
	if maxPixels > 0 && int64(cw)*int64(ch) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %dx%d is over %d pixels", ErrTooLarge, cw, ch, maxPixels)
	}
	end := len(data)
	if riff := int(binary.LittleEndian.Uint32(data[4:])) + 8; riff >= 12 && riff < end {
		end = riff
	}
	for i := 12; i+8 <= end; {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > end-i-8 {
			return nil, bad(i, "chunk %q of %d bytes runs past the end of the file", data[i:i+4], n)
		}
		if string(data[i:i+4]) != "ANMF" {
			i += 8 + n + n%2
			continue
		}
		if n < 16 {
			return nil, bad(i, "ANMF chunk of %d bytes, shorter than its 16-byte header", n)
		}
		f := data[i+8 : i+8+n]
		u24 := func(b []byte) int { return int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16) }
		x, y := 2*u24(f[0:]), 2*u24(f[3:])
		fw, fh := 1+u24(f[6:]), 1+u24(f[9:])
		if x+fw > cw || y+fh > ch {
			return nil, bad(i, "frame %dx%d at (%d,%d) outside the %dx%d canvas", fw, fh, x, y, cw, ch)
		}
		frame, err := decodeWebPFrame(f[16:], fw, fh)
		if err != nil {
			return nil, bad(i+24, "first frame: %v", err)
		}
		mode := modeRGB
		if flags&vp8xAlpha != 0 {
			mode = modeRGBA
		}
		return compose(frame, mode, cw, ch, x, y), nil
	}
	return nil, bad(12, "no ANMF frame")
}

// decodeWebPFrame decodes the sub-chunks of an ANMF frame (ALPH + VP8, VP8, or VP8L) as a
// still WebP of fw×fh pixels.
func decodeWebPFrame(sub []byte, fw, fh int) (*picture, error) {
	var alph, bits []byte
	for i := 0; i+8 <= len(sub); {
		n := int(binary.LittleEndian.Uint32(sub[i+4:]))
		if n < 0 || n > len(sub)-i-8 {
			return nil, fmt.Errorf("sub-chunk %q of %d bytes runs past the frame", sub[i:i+4], n)
		}
		chunk := sub[i : i+8+n]
		switch string(sub[i : i+4]) {
		case "ALPH":
			alph = chunk
		case "VP8 ", "VP8L":
			bits = chunk
		}
		if bits != nil {
			break
		}
		i += 8 + n + n%2
	}
	if bits == nil {
		return nil, errors.New("no VP8 or VP8L bitstream")
	}
	var body bytes.Buffer
	body.WriteString("WEBP")
	if alph != nil && string(bits[:4]) == "VP8 " {
		// A lossy frame with separate alpha: the still form needs a VP8X chunk with the alpha flag.
		var x [18]byte
		copy(x[:], "VP8X")
		binary.LittleEndian.PutUint32(x[4:], 10)
		x[8] = vp8xAlpha
		put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
		put24(x[12:], fw-1)
		put24(x[15:], fh-1)
		body.Write(x[:])
		writeChunk(&body, alph)
	}
	writeChunk(&body, bits)
	var still bytes.Buffer
	still.WriteString("RIFF")
	_ = binary.Write(&still, binary.LittleEndian, uint32(body.Len()))
	still.Write(body.Bytes())
	img, format, err := image.Decode(bytes.NewReader(still.Bytes()))
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != fw || b.Dy() != fh {
		return nil, fmt.Errorf("bitstream is %dx%d, the frame header says %dx%d", b.Dx(), b.Dy(), fw, fh)
	}
	return fromImage(img, format), nil
}

// writeChunk appends a chunk (header and payload) with its padding byte.
func writeChunk(b *bytes.Buffer, chunk []byte) {
	b.Write(chunk)
	if len(chunk)%2 == 1 {
		b.WriteByte(0)
	}
}

// compose writes frame (RGB or RGBA) at (x, y) on a transparent black canvas of w×h in mode.
func compose(frame *picture, mode pixMode, w, h, x, y int) *picture {
	out := newPicture(mode, w, h)
	oc, fc := mode.channels(), frame.mode.channels()
	for r := 0; r < frame.h; r++ {
		for c := 0; c < frame.w; c++ {
			src := frame.pix[(r*frame.w+c)*fc:]
			dst := out.pix[((y+r)*w+x+c)*oc:]
			copy(dst[:3], src[:3])
			if oc == 4 {
				dst[3] = 255
				if fc == 4 {
					dst[3] = src[3]
				}
			}
		}
	}
	return out
}
