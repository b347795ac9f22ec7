package meta

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// EXIF tags read as text; every other tag is skipped.
var exifTags = map[uint16]string{
	0x010d: "DocumentName",
	0x010e: "ImageDescription",
	0x010f: "Make",
	0x0110: "Model",
	0x0131: "Software",
	0x013b: "Artist",
	0x8298: "Copyright",
	0x9286: "UserComment",
	0x9c9b: "XPTitle",
	0x9c9c: "XPComment",
	0x9c9d: "XPAuthor",
	0x9c9f: "XPSubject",
}

const (
	tagExifIFD = 0x8769
	// maxIFDEntries bounds the entries of one IFD: a count past it is refused before the
	// entries are walked (real files hold a few dozen).
	maxIFDEntries = 4096
)

// typeSize is the byte size of one value of each TIFF field type (0 for unknown types).
var typeSize = [...]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4}

// readTIFF reads the text tags of IFD0 and the Exif IFD of a TIFF block (an EXIF payload
// without its "Exif\0\0" header). base is the block's offset in the file, for errors. Every
// count and offset is checked against the block before anything is read or allocated.
func readTIFF(b []byte, base int64, max int) ([]Entry, error) {
	if len(b) > max {
		return nil, tooLarge("EXIF block", base, uint64(len(b)), max)
	}
	if len(b) < 8 {
		return nil, malformed("EXIF header", base, "%d bytes", len(b))
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, malformed("EXIF header", base, "byte order % x", b[:2])
	}
	if bo.Uint16(b[2:4]) != 42 {
		return nil, malformed("EXIF header", base, "magic %d, want 42", bo.Uint16(b[2:4]))
	}
	t := tiff{b: b, bo: bo, base: base}
	var out []Entry
	exifIFD, err := t.ifd("IFD0", uint64(bo.Uint32(b[4:8])), &out)
	if err != nil {
		return nil, err
	}
	if exifIFD != 0 {
		if _, err := t.ifd("ExifIFD", exifIFD, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type tiff struct {
	b    []byte
	bo   binary.ByteOrder
	base int64
}

// ifd reads the text tags of the IFD at off into out and returns the Exif IFD pointer found
// there (0 when none).
func (t *tiff) ifd(name string, off uint64, out *[]Entry) (uint64, error) {
	where := "EXIF " + name
	if off+2 > uint64(len(t.b)) {
		return 0, malformed(where, t.base, "IFD offset %d past the %d-byte block", off, len(t.b))
	}
	n := uint64(t.bo.Uint16(t.b[off:]))
	if n > maxIFDEntries || off+2+12*n > uint64(len(t.b)) {
		return 0, malformed(where, t.base+int64(off), "%d entries do not fit in the block", n)
	}
	var exif uint64
	for i := uint64(0); i < n; i++ {
		e := t.b[off+2+12*i:][:12]
		tag, typ, count := t.bo.Uint16(e[0:2]), t.bo.Uint16(e[2:4]), uint64(t.bo.Uint32(e[4:8]))
		if tag == tagExifIFD && name == "IFD0" {
			exif = uint64(t.bo.Uint32(e[8:12]))
			continue
		}
		tagName, ok := exifTags[tag]
		if !ok {
			continue
		}
		if int(typ) >= len(typeSize) || typeSize[typ] == 0 {
			continue
		}
		size := count * typeSize[typ] // count < 2^32 and size <= 8: no overflow
		var val []byte
		if size <= 4 {
			val = e[8 : 8+size]
		} else {
			vo := uint64(t.bo.Uint32(e[8:12]))
			if vo+size > uint64(len(t.b)) {
				return 0, malformed(where+"/"+tagName, t.base+int64(off+2+12*i), "value of %d bytes at %d past the %d-byte block", size, vo, len(t.b))
			}
			val = t.b[vo : vo+size]
		}
		var text string
		switch {
		case tag == 0x9286:
			text = userComment(val, t.bo)
		case tag >= 0x9c9b && tag <= 0x9c9f:
			text = strings.TrimRight(decodeUTF16(val, false), "\x00")
		default:
			text = exifASCII(val)
		}
		*out = append(*out, Entry{SourceEXIF, name + "/" + tagName, text, t.base + int64(off+2+12*i)})
	}
	return exif, nil
}

// exifASCII decodes an ASCII-typed value: the terminating NULs dropped, UTF-8 kept when
// valid (tools write UTF-8 into ASCII tags), Latin-1 otherwise.
func exifASCII(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return chunkText(b)
}

// userComment decodes an EXIF UserComment: an 8-byte character code, then the text.
// "UNICODE" texts are UTF-16 in either byte order whatever the TIFF order says (A1111's
// piexif writes big-endian, SwarmUI little-endian): the order is taken from a byte-order
// mark, else from where the zero bytes of ASCII characters fall, else from the TIFF header.
// "ASCII" texts are read as UTF-8 when valid (NovelAI writes UTF-8 JSON there). A comment
// with no known code is read whole, as text.
func userComment(b []byte, bo binary.ByteOrder) string {
	if len(b) < 8 {
		return exifASCII(b)
	}
	code, rest := string(b[:8]), b[8:]
	switch {
	case code == "UNICODE\x00":
		be := bo == binary.BigEndian
		switch {
		case len(rest) >= 2 && rest[0] == 0xFE && rest[1] == 0xFF:
			be, rest = true, rest[2:]
		case len(rest) >= 2 && rest[0] == 0xFF && rest[1] == 0xFE:
			be, rest = false, rest[2:]
		default:
			var even, odd int
			for i := 0; i+1 < len(rest) && i < 1024; i += 2 {
				if rest[i] == 0 {
					even++
				}
				if rest[i+1] == 0 {
					odd++
				}
			}
			if even != odd {
				be = even > odd
			}
		}
		return strings.TrimRight(decodeUTF16(rest, be), "\x00")
	case code == "ASCII\x00\x00\x00", code == "\x00\x00\x00\x00\x00\x00\x00\x00", code == "JIS\x00\x00\x00\x00\x00":
		return exifASCII(rest)
	default:
		if utf8.Valid(b) {
			return exifASCII(b)
		}
		return exifASCII(rest)
	}
}

func decodeUTF16(b []byte, be bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if be {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}
