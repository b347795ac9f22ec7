package meta

import (
	"bytes"
	"encoding/binary"
)

var (
	exifHeader = []byte("Exif\x00\x00")
	xmpHeader  = []byte("http://ns.adobe.com/xap/1.0/\x00")
)

// readJPEG walks the marker segments up to the first scan: APP1 Exif and XMP, COM, and the
// frame header for the size. Entropy-coded data is never read.
func readJPEG(c *chunkReader, m *Metadata) error {
	for c.left() > 0 {
		at := c.off
		b, err := c.read("JPEG marker", 2)
		if err != nil {
			return err
		}
		if b[0] != 0xFF {
			return malformed("JPEG marker", at, "byte 0x%02x where a marker should start", b[0])
		}
		marker := b[1]
		for marker == 0xFF { // fill bytes
			if b, err = c.read("JPEG marker", 1); err != nil {
				return err
			}
			marker = b[0]
		}
		if marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			continue // no length
		}
		if marker == 0xD9 || marker == 0xDA { // end of image, start of scan
			return nil
		}
		lb, err := c.read("JPEG segment length", 2)
		if err != nil {
			return err
		}
		n := binary.BigEndian.Uint16(lb)
		if n < 2 {
			return malformed("JPEG segment length", at, "%d under 2", n)
		}
		where := "JPEG segment"
		switch {
		case marker == 0xE1 || marker == 0xFE || isSOF(marker):
			data, err := c.read(where, uint64(n-2))
			if err != nil {
				return err
			}
			switch {
			case marker == 0xFE:
				m.Entries = append(m.Entries, Entry{SourceJPEGComment, "COM", chunkText(data), at})
			case isSOF(marker):
				if len(data) >= 5 && m.Width == 0 {
					m.Height = int(binary.BigEndian.Uint16(data[1:3]))
					m.Width = int(binary.BigEndian.Uint16(data[3:5]))
				}
			case bytes.HasPrefix(data, exifHeader):
				es, err := readTIFF(data[len(exifHeader):], at+4+int64(len(exifHeader)), c.max)
				if err != nil {
					return err
				}
				m.Entries = append(m.Entries, es...)
			case bytes.HasPrefix(data, xmpHeader):
				m.Entries = append(m.Entries, Entry{SourceXMP, "XMP", chunkText(data[len(xmpHeader):]), at})
			}
		default:
			if err := c.skip(where, uint64(n-2)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}
