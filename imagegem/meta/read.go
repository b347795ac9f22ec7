package meta

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Default limits of [Options].
const (
	// DefaultMaxTextBytes bounds one metadata text: a chunk or EXIF block read into memory,
	// and a compressed text (zTXt, compressed iTXt, stealth gzip) after decompression. The
	// largest ComfyUI workflows seen in the wild are a few hundred KiB.
	DefaultMaxTextBytes = 16 << 20
)

// Stealth says when to look for A1111's "stealth" metadata in the pixels' low bits, which
// needs the pixels decoded.
type Stealth int

const (
	// StealthAuto looks only in PNG and WebP files whose text chunks held no generation.
	StealthAuto Stealth = iota
	// StealthOff never decodes pixels: metadata only.
	StealthOff
	// StealthAlways looks in every PNG and WebP file, and adds what it finds to the entries
	// even when a text chunk held a generation (NovelAI writes both).
	StealthAlways
)

// Options configure [Read]. Nil and the zero value mean the defaults.
type Options struct {
	// MaxTextBytes bounds one chunk, EXIF block or decompressed text; 0 means
	// DefaultMaxTextBytes. Negative values are invalid.
	MaxTextBytes int
	// Stealth says when to decode pixels for stealth metadata; the zero value is
	// StealthAuto.
	Stealth Stealth
}

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxTextBytes < 0 {
		return r, invalid("Options", "MaxTextBytes", "%d is negative", r.MaxTextBytes)
	}
	if r.MaxTextBytes == 0 {
		r.MaxTextBytes = DefaultMaxTextBytes
	}
	if r.Stealth < StealthAuto || r.Stealth > StealthAlways {
		return r, invalid("Options", "Stealth", "%d is not a Stealth value", r.Stealth)
	}
	return r, nil
}

// Source names the place in a file an [Entry] came from.
type Source string

// The sources of entries.
const (
	SourcePNGText     Source = "png-tEXt"
	SourcePNGiTXt     Source = "png-iTXt"
	SourcePNGzTXt     Source = "png-zTXt"
	SourceEXIF        Source = "exif" // a PNG eXIf chunk, a JPEG APP1 Exif segment or a WebP EXIF chunk
	SourceXMP         Source = "xmp"
	SourceJPEGComment Source = "jpeg-COM"
	SourceStealth     Source = "stealth"
)

// Entry is one text found in a file, verbatim.
type Entry struct {
	Source Source
	// Key is the PNG keyword, the EXIF tag as "IFD0/Make" or "ExifIFD/UserComment", "XMP",
	// "COM", or the stealth signature ("stealth_pngcomp").
	Key string
	// Text is the decoded text: Latin-1 or UTF-8 chunks and EXIF ASCII as UTF-8, UTF-16
	// UserComments decoded, compressed texts inflated. Nothing is trimmed but EXIF's
	// terminating NULs.
	Text string
	// Offset is the byte offset of the chunk or segment in the file.
	Offset int64
}

// Metadata is what [Read] finds in one file.
type Metadata struct {
	// Container is "png", "jpeg" or "webp".
	Container string
	// Width and Height are the image size from the header (0 when the header does not say).
	Width, Height int
	// HasAlpha reports an alpha channel in the header (PNG colour types 4 and 6, WebP's
	// alpha flag).
	HasAlpha bool
	// Entries are every text found, in file order, stealth last.
	Entries []Entry
	// Generation is the parsed generation, nil when no entry holds a known format.
	Generation *Generation
	// Raw is the text the generation was parsed from (for ComfyUI the API graph when there
	// is one), or, for unknown formats, the entries' texts joined by blank lines.
	Raw string
	// GenerationErr is the error of a parser that recognised an entry but could not read it
	// (the entry is still in Entries and Raw); nil otherwise.
	GenerationErr error
}

// Get returns the text of the first entry with the key, and whether there is one.
func (m *Metadata) Get(key string) (string, bool) {
	for _, e := range m.Entries {
		if e.Key == key {
			return e.Text, true
		}
	}
	return "", false
}

// ReadFile reads the metadata of the image file at path. See [Read].
func ReadFile(path string, opts *Options) (*Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	defer f.Close()
	m, err := Read(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}

// ReadBytes reads the metadata of an image held in memory. See [Read].
func ReadBytes(b []byte, opts *Options) (*Metadata, error) {
	return Read(bytes.NewReader(b), opts)
}

// Read reads the metadata of a PNG, JPEG or WebP image: its text chunks, EXIF and XMP
// blocks and, as [Options.Stealth] says, the stealth text in its pixels; then parses the
// generation out of them. Pixel data is skipped with Seek and never read unless stealth
// metadata is looked for. A container error (truncated chunk, offset out of range, a text
// over the limit) is returned as an error; a text that looks like a known format but does
// not parse is reported in [Metadata.GenerationErr].
func Read(r io.ReadSeeker, opts *Options) (*Metadata, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	cr := &chunkReader{r: r, size: size, max: o.MaxTextBytes}
	var head [12]byte
	n, _ := io.ReadFull(r, head[:])
	m := &Metadata{}
	start := func(off int64) error {
		cr.off = off
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("meta: %w", err)
		}
		return nil
	}
	switch {
	case n >= 8 && bytes.Equal(head[:8], pngSignature):
		m.Container = "png"
		if err = start(8); err == nil {
			err = readPNG(cr, m)
		}
	case n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		m.Container = "jpeg"
		if err = start(2); err == nil {
			err = readJPEG(cr, m)
		}
	case n >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		m.Container = "webp"
		if err = start(12); err == nil {
			err = readWebP(cr, m)
		}
	default:
		return nil, fmt.Errorf("meta: %w: the file starts with % x", ErrUnsupported, head[:n])
	}
	if err != nil {
		return nil, err
	}
	m.Generation, m.Raw, m.GenerationErr = detect(m.Entries)
	if m.Container != "jpeg" && (o.Stealth == StealthAlways || (o.Stealth == StealthAuto && m.Generation == nil)) {
		e, err := readStealthFrom(r, o.MaxTextBytes)
		if err != nil {
			return nil, err
		}
		if e != nil {
			m.Entries = append(m.Entries, *e)
			if m.Generation == nil {
				m.Generation, m.Raw, m.GenerationErr = detect(m.Entries)
			}
		}
	}
	if m.Generation == nil && m.Raw == "" {
		m.Raw = joinTexts(m.Entries)
	}
	return m, nil
}

func joinTexts(es []Entry) string {
	var b bytes.Buffer
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(e.Text)
	}
	return b.String()
}

// chunkReader reads a container's blocks with the file size known, so that no length is
// believed before it is checked against what is left and the limit.
type chunkReader struct {
	r    io.ReadSeeker
	off  int64 // current offset
	size int64
	max  int
}

// read reads n bytes at the current offset, refusing n over the limit or past the end of the
// file before allocating.
func (c *chunkReader) read(where string, n uint64) ([]byte, error) {
	if n > uint64(c.max) {
		return nil, tooLarge(where, c.off, n, c.max)
	}
	if n > uint64(c.size-c.off) {
		return nil, malformed(where, c.off, "%d bytes declared, %d left in the file", n, c.size-c.off)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, malformed(where, c.off, "%v", err)
	}
	c.off += int64(n)
	return b, nil
}

// skip moves n bytes forward.
func (c *chunkReader) skip(where string, n uint64) error {
	if n > uint64(c.size-c.off) {
		return malformed(where, c.off, "%d bytes declared, %d left in the file", n, c.size-c.off)
	}
	if _, err := c.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	c.off += int64(n)
	return nil
}

func (c *chunkReader) left() int64 { return c.size - c.off }
