package meta

import (
	"bytes"
	"encoding/binary"
)

// readWebP walks the RIFF chunks: VP8X, VP8 and VP8L headers for the size, EXIF and XMP
// into entries; image data is skipped.
func readWebP(c *chunkReader, m *Metadata) error {
	for c.left() >= 8 {
		at := c.off
		hdr, err := c.read("WebP chunk header", 8)
		if err != nil {
			return err
		}
		typ := string(hdr[:4])
		n := uint64(binary.LittleEndian.Uint32(hdr[4:]))
		where := "WebP " + printable(typ) + " chunk"
		pad := n & 1
		switch typ {
		case "VP8X", "VP8 ", "VP8L":
			k := n
			if k > 30 {
				k = 30
			}
			data, err := c.read(where, k)
			if err != nil {
				return err
			}
			webpSize(typ, data, m)
			if err := c.skip(where, n-k+pad); err != nil {
				return err
			}
			continue
		case "EXIF", "XMP ":
			data, err := c.read(where, n)
			if err != nil {
				return err
			}
			if typ == "XMP " {
				m.Entries = append(m.Entries, Entry{SourceXMP, "XMP", chunkText(data), at})
			} else {
				data = bytes.TrimPrefix(data, exifHeader)
				es, err := readTIFF(data, at+8, c.max)
				if err != nil {
					return err
				}
				m.Entries = append(m.Entries, es...)
			}
			if pad > 0 && c.left() > 0 {
				if err := c.skip(where, pad); err != nil {
					return err
				}
			}
		default:
			if n+pad > uint64(c.left()) && n <= uint64(c.left()) {
				pad = 0 // a last chunk without its padding byte
			}
			if err := c.skip(where, n+pad); err != nil {
				return err
			}
		}
	}
	return nil
}

func webpSize(typ string, d []byte, m *Metadata) {
	switch typ {
	case "VP8X":
		if len(d) >= 10 {
			m.HasAlpha = d[0]&0x10 != 0
			m.Width = 1 + int(uint32(d[4])|uint32(d[5])<<8|uint32(d[6])<<16)
			m.Height = 1 + int(uint32(d[7])|uint32(d[8])<<8|uint32(d[9])<<16)
		}
	case "VP8 ":
		if len(d) >= 10 && m.Width == 0 && d[3] == 0x9d && d[4] == 0x01 && d[5] == 0x2a {
			m.Width = int(binary.LittleEndian.Uint16(d[6:8]) & 0x3fff)
			m.Height = int(binary.LittleEndian.Uint16(d[8:10]) & 0x3fff)
		}
	case "VP8L":
		if len(d) >= 5 && m.Width == 0 && d[0] == 0x2f {
			v := binary.LittleEndian.Uint32(d[1:5])
			m.Width = 1 + int(v&0x3fff)
			m.Height = 1 + int((v>>14)&0x3fff)
			m.HasAlpha = (v>>28)&1 != 0
		}
	}
}
