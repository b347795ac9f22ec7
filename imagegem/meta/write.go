package meta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unicode/utf16"
)

// ChunkKind chooses the PNG chunk [AddPNGText] writes.
type ChunkKind int

// The PNG text chunks.
const (
	ChunkText            ChunkKind = iota // tEXt: Latin-1, uncompressed
	ChunkIText                            // iTXt: UTF-8, uncompressed
	ChunkZText                            // zTXt: Latin-1, zlib
	ChunkITextCompressed                  // iTXt: UTF-8, zlib
)

// AddPNGText returns a copy of a PNG file with a text chunk inserted after IHDR, as the
// generation tools write them. Text outside Latin-1 needs an iTXt chunk.
func AddPNGText(png []byte, kind ChunkKind, key, text string) ([]byte, error) {
	if !bytes.HasPrefix(png, pngSignature) || len(png) < 8+8+13+4 || string(png[12:16]) != "IHDR" {
		return nil, fmt.Errorf("meta: %w: not a PNG starting with IHDR", ErrUnsupported)
	}
	if len(key) == 0 || len(key) > 79 {
		return nil, fmt.Errorf("meta: PNG keyword %q is not 1 to 79 bytes", key)
	}
	var data bytes.Buffer
	data.WriteString(key)
	data.WriteByte(0)
	latin := func() ([]byte, error) {
		var b []byte
		for _, r := range text {
			if r > 0xff {
				return nil, fmt.Errorf("meta: %q is not Latin-1: use an iTXt chunk", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	}
	var typ string
	switch kind {
	case ChunkText:
		typ = "tEXt"
		b, err := latin()
		if err != nil {
			return nil, err
		}
		data.Write(b)
	case ChunkZText:
		typ = "zTXt"
		b, err := latin()
		if err != nil {
			return nil, err
		}
		data.WriteByte(0)
		data.Write(deflate(b))
	case ChunkIText, ChunkITextCompressed:
		typ = "iTXt"
		if kind == ChunkITextCompressed {
			data.Write([]byte{1, 0, 0, 0})
			data.Write(deflate([]byte(text)))
		} else {
			data.Write([]byte{0, 0, 0, 0})
			data.WriteString(text)
		}
	default:
		return nil, fmt.Errorf("meta: chunk kind %d", kind)
	}
	end := 8 + 8 + int(binary.BigEndian.Uint32(png[8:12])) + 4
	if end > len(png) {
		return nil, malformed("PNG IHDR chunk", 8, "truncated")
	}
	out := make([]byte, 0, len(png)+data.Len()+12)
	out = append(out, png[:end]...)
	out = appendChunk(out, typ, data.Bytes())
	return append(out, png[end:]...), nil
}

func appendChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// AddJPEGUserComment returns a copy of a JPEG file with an APP1 Exif segment holding text as
// the Exif IFD's UserComment in "UNICODE" (UTF-16, big-endian, TIFF order "MM"), as A1111
// writes its parameters into JPEG and WebP files. The segment goes right after SOI; other
// Exif segments are kept.
func AddJPEGUserComment(jpeg []byte, text string) ([]byte, error) {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		return nil, fmt.Errorf("meta: %w: not a JPEG", ErrUnsupported)
	}
	tiff := UserCommentEXIF(text)
	seg := append([]byte(nil), exifHeader...)
	seg = append(seg, tiff...)
	if len(seg)+2 > 0xFFFF {
		return nil, fmt.Errorf("meta: %w: a %d-byte comment does not fit in one JPEG segment", ErrTooLarge, len(text))
	}
	out := make([]byte, 0, len(jpeg)+len(seg)+4)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpeg[2:]...), nil
}

// UserCommentEXIF returns a TIFF block ("MM") whose IFD0 points to an Exif IFD holding text
// as a UNICODE UserComment: the payload of a WebP EXIF chunk or a PNG eXIf chunk.
func UserCommentEXIF(text string) []byte {
	u := utf16.Encode([]rune(text))
	comment := []byte("UNICODE\x00")
	for _, c := range u {
		comment = binary.BigEndian.AppendUint16(comment, c)
	}
	bo := binary.BigEndian
	var b []byte
	b = append(b, 'M', 'M', 0, 42)
	b = bo.AppendUint32(b, 8) // IFD0
	// IFD0: one entry, the Exif IFD pointer.
	b = bo.AppendUint16(b, 1)
	b = bo.AppendUint16(b, tagExifIFD)
	b = bo.AppendUint16(b, 4) // LONG
	b = bo.AppendUint32(b, 1)
	b = bo.AppendUint32(b, 8+2+12+4)
	b = bo.AppendUint32(b, 0)
	// Exif IFD: the UserComment.
	b = bo.AppendUint16(b, 1)
	b = bo.AppendUint16(b, 0x9286)
	b = bo.AppendUint16(b, 7) // UNDEFINED
	b = bo.AppendUint32(b, uint32(len(comment)))
	b = bo.AppendUint32(b, uint32(len(b)+4+4))
	b = bo.AppendUint32(b, 0)
	return append(b, comment...)
}
