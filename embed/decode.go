package embed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF: the first frame, as PIL opens it
	_ "image/jpeg" // JPEG, including Adobe CMYK/YCCK
	_ "image/png"

	_ "golang.org/x/image/webp" // WebP: lossy, lossless and alpha (animated: webpanim.go)
)

// DefaultMaxPixels is the largest image (width × height) decoded by default: twice PIL's
// Image.MAX_IMAGE_PIXELS (1024·1024·1024/4/3), the size at which PIL refuses an image as a
// decompression bomb.
const DefaultMaxPixels = 2 * (1024 * 1024 * 1024 / 4 / 3)

// ErrTooLarge is returned (wrapped) for images over the pixel limit; they are refused from
// their header, before any pixel is decoded.
var ErrTooLarge = errors.New("embed: image over the pixel limit")

// decodePicture decodes JPEG, PNG, GIF (first frame) or WebP (first frame) data into the PIL mode PIL
// would open it in, applying the EXIF orientation (JPEG, PNG, WebP) when orient is set.
func decodePicture(data []byte, maxPixels int, orient bool) (*picture, error) {
	if maxPixels == 0 {
		maxPixels = DefaultMaxPixels
	}
	if isAnimatedWebP(data) {
		p, err := firstWebPFrame(data, maxPixels)
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if orient {
			p = applyOrientation(p, webpOrientation(data))
		}
		return p, nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("empty image %dx%d", cfg.Width, cfg.Height)
	}
	if maxPixels > 0 && int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %dx%d is over %d pixels", ErrTooLarge, cfg.Width, cfg.Height, maxPixels)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	p := fromImage(img, format)
	if p.mode == modeP && format == "gif" {
		for i, c := range gifFirstPalette(data) {
			p.palette[i] = c
		}
	}
	if orient {
		switch format {
		case "jpeg":
			p = applyOrientation(p, jpegOrientation(data))
		case "png":
			p = applyOrientation(p, pngOrientation(data))
		case "webp":
			p = applyOrientation(p, webpOrientation(data))
		}
	}
	return p, nil
}

// jpegOrientation returns the EXIF orientation tag (0x0112) of a JPEG's APP1 segment, or 1.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return 1
		}
		marker := data[i+1]
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// pngOrientation returns the orientation in a PNG's eXIf chunk, or 1.
func pngOrientation(data []byte) int {
	const sig = 8
	for i := sig; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || i+12+n > len(data) {
			return 1
		}
		typ := string(data[i+4 : i+8])
		if typ == "eXIf" {
			return exifOrientation(data[i+8 : i+8+n])
		}
		if typ == "IDAT" || typ == "IEND" {
			return 1
		}
		i += 12 + n
	}
	return 1
}

// webpOrientation returns the orientation in a WebP's EXIF chunk, or 1.
func webpOrientation(data []byte) int {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return 1
	}
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || i+8+n > len(data) {
			return 1
		}
		if string(data[i:i+4]) == "EXIF" {
			return exifOrientation(data[i+8 : i+8+n])
		}
		i += 8 + n + n%2
	}
	return 1
}

// exifOrientation reads a TIFF block with or without the "Exif\0\0" prefix.
func exifOrientation(b []byte) int {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		b = b[6:]
	}
	return tiffOrientation(b)
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF header, or returns 1.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for i := 0; i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			v := int(bo.Uint16(t[e+8:]))
			if v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// applyOrientation is PIL's ImageOps.exif_transpose for orientations 2..8.
func applyOrientation(p *picture, o int) *picture {
	if o < 2 || o > 8 {
		return p
	}
	w, h := p.w, p.h
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	if p.mode == modeI {
		// Reorient through an equivalent 4-byte picture and back.
		b := &picture{mode: modeRGBA, w: w, h: h, pix: make([]uint8, 4*w*h)}
		for i, v := range p.pix32 {
			binary.LittleEndian.PutUint32(b.pix[4*i:], uint32(v))
		}
		b = applyOrientation(b, o)
		out := newPicture(modeI, b.w, b.h)
		for i := range out.pix32 {
			out.pix32[i] = int32(binary.LittleEndian.Uint32(b.pix[4*i:]))
		}
		return out
	}
	c := p.mode.channels()
	out := &picture{mode: p.mode, w: ow, h: oh, palette: p.palette, pix: make([]uint8, len(p.pix))}
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch o {
			case 2: // mirror horizontally
				sx, sy = w-1-x, y
			case 3: // rotate 180
				sx, sy = w-1-x, h-1-y
			case 4: // mirror vertically
				sx, sy = x, h-1-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90 clockwise
				sx, sy = y, h-1-x
			case 7: // transverse
				sx, sy = w-1-y, h-1-x
			case 8: // rotate 90 counter-clockwise
				sx, sy = w-1-y, x
			}
			copy(out.pix[(y*ow+x)*c:(y*ow+x+1)*c], p.pix[(sy*w+sx)*c:])
		}
	}
	return out
}
