package meta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// readPNG walks the chunks after the signature up to IEND: IHDR for the size, tEXt, zTXt,
// iTXt and eXIf into entries; every other chunk (IDAT included) is skipped unread.
func readPNG(c *chunkReader, m *Metadata) error {
	for c.left() > 0 {
		at := c.off
		hdr, err := c.read("PNG chunk header", 8)
		if err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:8])
		where := "PNG " + printable(typ) + " chunk"
		if n > 1<<31-1 {
			return malformed(where, at, "length %d over 2^31-1", n)
		}
		switch typ {
		case "IHDR", "tEXt", "zTXt", "iTXt", "eXIf":
			data, err := c.read(where, uint64(n))
			if err != nil {
				return err
			}
			if err := pngChunk(typ, data, at, c.max, m); err != nil {
				return err
			}
		case "IEND":
			return nil
		default:
			if err := c.skip(where, uint64(n)); err != nil {
				return err
			}
		}
		if err := c.skip(where+" CRC", 4); err != nil {
			return err
		}
	}
	return nil
}

func pngChunk(typ string, data []byte, at int64, max int, m *Metadata) error {
	where := "PNG " + typ + " chunk"
	switch typ {
	case "IHDR":
		if len(data) < 13 {
			return malformed(where, at, "%d bytes, want 13", len(data))
		}
		m.Width = int(binary.BigEndian.Uint32(data[0:4]) & 0x7fffffff)
		m.Height = int(binary.BigEndian.Uint32(data[4:8]) & 0x7fffffff)
		m.HasAlpha = data[9] == 4 || data[9] == 6
	case "tEXt":
		key, rest, ok := bytes.Cut(data, []byte{0})
		if !ok {
			return malformed(where, at, "no NUL after the keyword")
		}
		m.Entries = append(m.Entries, Entry{SourcePNGText, latin1(key), chunkText(rest), at})
	case "zTXt":
		key, rest, ok := bytes.Cut(data, []byte{0})
		if !ok || len(rest) < 1 {
			return malformed(where, at, "no NUL and method after the keyword")
		}
		if rest[0] != 0 {
			return malformed(where, at, "compression method %d", rest[0])
		}
		text, err := inflate(where, at, rest[1:], max)
		if err != nil {
			return err
		}
		m.Entries = append(m.Entries, Entry{SourcePNGzTXt, latin1(key), chunkText(text), at})
	case "iTXt":
		key, rest, ok := bytes.Cut(data, []byte{0})
		if !ok || len(rest) < 2 {
			return malformed(where, at, "no NUL and flags after the keyword")
		}
		compressed, method := rest[0], rest[1]
		rest = rest[2:]
		_, rest, ok1 := bytes.Cut(rest, []byte{0}) // language tag
		_, rest, ok2 := bytes.Cut(rest, []byte{0}) // translated keyword
		if !ok1 || !ok2 {
			return malformed(where, at, "language tag or translated keyword not NUL-terminated")
		}
		text := rest
		if compressed != 0 {
			if method != 0 {
				return malformed(where, at, "compression method %d", method)
			}
			var err error
			if text, err = inflate(where, at, rest, max); err != nil {
				return err
			}
		}
		m.Entries = append(m.Entries, Entry{SourcePNGiTXt, latin1(key), strings.ToValidUTF8(string(text), "\uFFFD"), at})
	case "eXIf":
		es, err := readTIFF(data, at, max)
		if err != nil {
			return err
		}
		m.Entries = append(m.Entries, es...)
	}
	return nil
}

// inflate decompresses a zlib stream, refusing output over max bytes as soon as the stream
// passes it: a decompression bomb costs at most max bytes of memory.
func inflate(where string, at int64, data []byte, max int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, malformed(where, at, "zlib: %v", err)
	}
	defer zr.Close()
	return readLimited(zr, where, at, max)
}

// readLimited reads r to its end, failing with ErrTooLarge past max bytes.
func readLimited(r io.Reader, where string, at int64, max int) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, malformed(where, at, "decompress: %v", err)
	}
	if n > int64(max) {
		return nil, fmt.Errorf("meta: %w: %s at offset %d: decompresses to more than %d bytes", ErrTooLarge, where, at, max)
	}
	return buf.Bytes(), nil
}

// chunkText decodes a tEXt or zTXt text: Latin-1 by the PNG specification, but UTF-8 when
// the bytes are valid UTF-8 with non-ASCII in them (tools that ignore the specification).
func chunkText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// printable quotes a chunk type for an error message.
func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c >= 0x7f {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
