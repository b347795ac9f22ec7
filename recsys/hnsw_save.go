package recsys

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"os"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// A saved HNSW index is one little-endian binary file:
//
//	offset  size  field
//	0       8     magic "IGEMHNSW"
//	8       4     version (1)
//	12      4     flags (bit 0: FullPrecision; other bits zero)
//	16      4     metric (0 inner product, 1 L2)
//	20      4     dim
//	24      4     n, the number of vectors
//	28      4     M (layer 0 keeps 2M links)
//	32      4     EfSearch
//	36      4     entry point (a node index)
//	40      4     top layer (the entry point's level)
//	44      8     upper, the number of int32 in the upper-layer lists
//	52      n     levels, one byte a node
//	...     4·n·(2M+1)  layer-0 lists, node by node: count, then 2M slots
//	...     4·upper     upper-layer lists of the nodes with level > 0, in node order,
//	                    layers 1..level, each count then M slots
//	...     4·n·dim     float32 vectors, row-major
//	...     4     CRC-32C (Castagnoli) of every byte before it
//
// Unused slots after a list's count are zero, so one index has exactly one encoding. The
// half-precision copy is not stored: it is a deterministic function of the float32 vectors
// and is rebuilt on load, so a loaded index returns the same hits, scores included, as the
// one saved. EfConstruction, Seed and Workers shaped the graph but are not needed to search
// it, and are not kept.
const (
	hnswMagic        = "IGEMHNSW"
	hnswVersion      = 1
	hnswHeaderSize   = 52
	hnswFlagFull     = 1
	hnswTrailerSize  = 4
	hnswMaxSavedM    = 1 << 15 // keeps 2M+1 far inside int32; hnswlib warns above M = 100
	hnswIOChunkBytes = 1 << 16 // bytes encoded or decoded per Write or Read call
)

var hnswCRCTable = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index to w in its binary format (little-endian: a header, the graph's
// neighbour lists, the float32 vectors and a CRC-32C checksum), which ReadHNSW reads, and
// returns the number of bytes written. It may run while other goroutines Search.
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	if h == nil || len(h.levels) == 0 {
		return 0, errors.New("recsys: hnsw save: empty index")
	}
	hw := &hnswWriter{w: w, crc: crc32.New(hnswCRCTable), buf: make([]byte, 0, hnswIOChunkBytes+64)}
	var flags uint32
	if h.half == nil {
		flags |= hnswFlagFull
	}
	var upper uint64
	for i, l := range h.levels {
		upper += uint64(len(h.upper[i]))
		if len(h.upper[i]) != int(l)*(h.m+1) {
			return 0, fmt.Errorf("recsys: hnsw save: node %d has %d upper-layer slots for level %d", i, len(h.upper[i]), l)
		}
	}
	hw.buf = append(hw.buf, hnswMagic...)
	for _, v := range []uint32{hnswVersion, flags, uint32(h.metric), uint32(h.dim), uint32(len(h.levels)),
		uint32(h.m), uint32(h.efSearch), uint32(h.entry), uint32(h.top)} {
		hw.u32(v)
	}
	hw.buf = binary.LittleEndian.AppendUint64(hw.buf, upper)
	for _, l := range h.levels {
		hw.byte(l)
	}
	for i := range h.levels {
		hw.list(h.links0[i*(h.m0+1):][:h.m0+1])
	}
	for i, l := range h.levels {
		for lc := 0; lc < int(l); lc++ {
			hw.list(h.upper[i][lc*(h.m+1):][:h.m+1])
		}
	}
	for _, v := range h.vecs {
		hw.u32(math.Float32bits(v))
	}
	hw.flush()
	if hw.err != nil {
		return hw.n, fmt.Errorf("recsys: hnsw save: %w", hw.err)
	}
	hw.buf = binary.LittleEndian.AppendUint32(hw.buf[:0], hw.crc.Sum32())
	k, err := w.Write(hw.buf)
	hw.n += int64(k)
	if err != nil {
		return hw.n, fmt.Errorf("recsys: hnsw save: %w", err)
	}
	return hw.n, nil
}

// SaveHNSWFile writes h to path atomically: through a temporary file in the same folder that
// is synced and renamed into place, so that a reader never sees a partial file and an
// existing file is replaced whole; on error or cancellation the destination is left as it
// was. A path that names one of inputs (the same file, a hard link or a symbolic link) is
// refused with an error wrapping ErrOverwritesInput.
func SaveHNSWFile(ctx context.Context, path string, h *HNSW, inputs ...string) error {
	var indexErr error // already prefixed by WriteTo
	err := atomicfile.Write(ctx, path, &atomicfile.Options{Inputs: inputs}, func(w io.Writer) error {
		_, indexErr = h.WriteTo(w)
		return indexErr
	})
	switch {
	case indexErr != nil:
		return indexErr
	case err != nil:
		return fmt.Errorf("recsys: hnsw save: %w", err)
	}
	return nil
}

// ReadHNSW reads an index written by WriteTo, checking every count, neighbour list and
// vector and the checksum before use. It reads exactly the bytes of one index from r. The
// loaded index owns its vectors; unless it was built with FullPrecision, its half-precision
// copy is rebuilt from them, so Search returns the same hits as the saved index.
func ReadHNSW(r io.Reader) (*HNSW, error) {
	return readHNSW(r, "", -1)
}

// LoadHNSWFile reads an index written by SaveHNSWFile. Besides the checks of ReadHNSW, the
// file's size must be the one its header declares.
func LoadHNSWFile(path string) (*HNSW, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recsys: hnsw load: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("recsys: hnsw load: %w", err)
	}
	return readHNSW(f, path, st.Size())
}

// hnswWriter encodes into a buffer that it writes out a chunk at a time, keeping the
// running checksum and byte count; the first write error sticks.
type hnswWriter struct {
	w   io.Writer
	n   int64
	crc hash.Hash32
	buf []byte
	err error
}

func (w *hnswWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		k, err := w.w.Write(w.buf)
		w.n += int64(k)
		w.crc.Write(w.buf[:k])
		w.err = err
	}
	w.buf = w.buf[:0]
}

func (w *hnswWriter) u32(v uint32) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, v)
	if len(w.buf) >= hnswIOChunkBytes {
		w.flush()
	}
}

func (w *hnswWriter) byte(v uint8) {
	w.buf = append(w.buf, v)
	if len(w.buf) >= hnswIOChunkBytes {
		w.flush()
	}
}

// list writes a count-then-slots block with the slots past the count as zeros.
func (w *hnswWriter) list(l []int32) {
	cnt := int(l[0])
	for j, v := range l {
		if j > cnt {
			v = 0
		}
		w.u32(uint32(v))
	}
}

// hnswReader decodes from r, keeping the byte offset and the running checksum; errors name
// the source (a file path, or none), the field and the byte offset.
type hnswReader struct {
	r    io.Reader
	src  string
	off  int64
	crc  hash.Hash32
	buf  []byte
	size int64 // the source's total size, or -1 when unknown
}

func (hr *hnswReader) errf(field string, off int64, format string, args ...any) error {
	prefix := "recsys: hnsw load"
	if hr.src != "" {
		prefix += " " + hr.src
	}
	return fmt.Errorf("%s: %s at byte offset %d: %w", prefix, field, off, fmt.Errorf(format, args...))
}

// read returns the next n bytes (n ≤ hnswIOChunkBytes+hnswHeaderSize), valid until the next
// call, adding them to the checksum unless this is the trailer.
func (hr *hnswReader) read(field string, n int, sum bool) ([]byte, error) {
	if cap(hr.buf) < n {
		hr.buf = make([]byte, n)
	}
	b := hr.buf[:n]
	k, err := io.ReadFull(hr.r, b)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, hr.errf(field, hr.off+int64(k), "truncated: %w", err)
	}
	if sum {
		hr.crc.Write(b)
	}
	hr.off += int64(n)
	return b, nil
}

// readWords reads count 4-byte little-endian words into a slice of T. Where the source's
// size was checked against the header it allocates once; otherwise the result grows only as
// the data arrives, so that a corrupt count costs at most what the input really holds.
func readWords[T int32 | float32](hr *hnswReader, field string, count uint64, conv func(uint32) T) ([]T, error) {
	const chunk = hnswIOChunkBytes / 4
	var out []T
	if hr.size >= 0 {
		out = make([]T, 0, count)
	} else {
		out = make([]T, 0, min(count, chunk))
	}
	for left := count; left > 0; {
		k := min(left, chunk)
		b, err := hr.read(field, int(k)*4, true)
		if err != nil {
			return nil, err
		}
		for j := 0; j < int(k); j++ {
			out = append(out, conv(binary.LittleEndian.Uint32(b[4*j:])))
		}
		left -= k
	}
	return out, nil
}

func int32Bits(v uint32) int32 { return int32(v) }

// hnswHeader is the fixed-size start of a saved index.
type hnswHeader struct {
	flags, metric, dim, n, m, efSearch, entry, top uint32
	upper                                          uint64
}

func readHNSW(r io.Reader, src string, size int64) (*HNSW, error) {
	hr := &hnswReader{r: r, src: src, crc: crc32.New(hnswCRCTable), size: size}
	b, err := hr.read("header", hnswHeaderSize, true)
	if err != nil {
		return nil, err
	}
	if string(b[:8]) != hnswMagic {
		return nil, hr.errf("magic", 0, "%q, want %q", b[:8], hnswMagic)
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:]); v != hnswVersion {
		return nil, hr.errf("version", 8, "unknown version %d (this reader knows %d)", v, hnswVersion)
	}
	hd := hnswHeader{flags: le.Uint32(b[12:]), metric: le.Uint32(b[16:]), dim: le.Uint32(b[20:]),
		n: le.Uint32(b[24:]), m: le.Uint32(b[28:]), efSearch: le.Uint32(b[32:]),
		entry: le.Uint32(b[36:]), top: le.Uint32(b[40:]), upper: le.Uint64(b[44:])}
	end, err := hr.checkHeader(&hd)
	if err != nil {
		return nil, err
	}
	if size >= 0 && uint64(size) != end {
		return nil, hr.errf("file size", 0, "%d bytes, header declares %d", size, end)
	}
	n, dim, m := int(hd.n), int(hd.dim), int(hd.m)
	h := &HNSW{dim: dim, m: m, m0: 2 * m, efSearch: int(hd.efSearch), metric: Metric(hd.metric),
		entry: int32(hd.entry), top: int(hd.top), scale: 1}

	// Levels, with the sum they imply checked against the header's upper count.
	levelsOff := hr.off
	h.levels = make([]uint8, 0, min(n, hnswIOChunkBytes))
	var upper uint64
	for left := n; left > 0; {
		k := min(left, hnswIOChunkBytes)
		b, err := hr.read("levels", k, true)
		if err != nil {
			return nil, err
		}
		for _, l := range b {
			if l > hnswMaxLevel {
				return nil, hr.errf("levels", levelsOff+int64(len(h.levels)), "node %d level %d above %d", len(h.levels), l, hnswMaxLevel)
			}
			upper += uint64(l) * uint64(m+1)
			h.levels = append(h.levels, l)
		}
		left -= k
	}
	if int(h.levels[h.entry]) != h.top {
		return nil, hr.errf("top", 40, "%d, entry point %d has level %d", h.top, h.entry, h.levels[h.entry])
	}
	for i, l := range h.levels {
		if int(l) > h.top {
			return nil, hr.errf("levels", levelsOff+int64(i), "node %d level %d above the top layer %d", i, l, h.top)
		}
	}
	if upper != hd.upper {
		return nil, hr.errf("upper", 44, "header declares %d values, the levels need %d", hd.upper, upper)
	}

	// Layer-0 lists.
	links0Off := hr.off
	h.links0, err = readWords(hr, "links0", uint64(n)*uint64(h.m0+1), int32Bits)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		at := i * (h.m0 + 1)
		if err := h.checkList(hr, "links0", links0Off+4*int64(at), int32(i), 0, h.links0[at:at+h.m0+1]); err != nil {
			return nil, err
		}
	}

	// Upper-layer lists, sliced per node out of one block.
	upperOff := hr.off
	flat, err := readWords(hr, "upper", hd.upper, int32Bits)
	if err != nil {
		return nil, err
	}
	h.upper = make([][]int32, n)
	at := 0
	for i, l := range h.levels {
		if l == 0 {
			continue
		}
		sz := int(l) * (m + 1)
		h.upper[i] = flat[at : at+sz : at+sz]
		for lc := 1; lc <= int(l); lc++ {
			o := at + (lc-1)*(m+1)
			if err := h.checkList(hr, "upper", upperOff+4*int64(o), int32(i), lc, flat[o:o+m+1]); err != nil {
				return nil, err
			}
		}
		at += sz
	}

	// Vectors.
	vecsOff := hr.off
	h.vecs, err = readWords(hr, "vectors", uint64(n)*uint64(dim), math.Float32frombits)
	if err != nil {
		return nil, err
	}
	var maxAbs float32 // the largest magnitude, which alone sets the half-precision scale
	for i, x := range h.vecs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, hr.errf("vectors", vecsOff+4*int64(i), "vector %d, component %d is %v", i/dim, i%dim, x)
		}
		maxAbs = max(maxAbs, float32(math.Abs(float64(x))))
	}
	if i, n2 := largeVector(h.vecs, dim); i >= 0 {
		return nil, hr.errf("vectors", vecsOff+4*int64(i)*int64(dim), "vector %d has squared norm %.3g, above the %.3g that keeps float32 distances finite", i, n2, maxHNSWNorm2)
	}

	sum := hr.crc.Sum32()
	crcOff := hr.off
	b, err = hr.read("checksum", hnswTrailerSize, false)
	if err != nil {
		return nil, err
	}
	if got := le.Uint32(b); got != sum {
		return nil, hr.errf("checksum", crcOff, "stored CRC-32C %08x, content has %08x", got, sum)
	}

	if hd.flags&hnswFlagFull == 0 {
		h.scale = halfScale([]float32{maxAbs})
		h.half = make([]uint16, len(h.vecs))
		workers := workerCount(0, n)
		_ = parallelChunks(context.Background(), workers, workers, func(wk, _, _ int) error {
			lo, hi := wk*n/workers*dim, (wk+1)*n/workers*dim
			toHalf(h.half[lo:hi], h.vecs[lo:hi], h.scale)
			return nil
		})
	}
	return h, nil
}

// checkHeader checks the header's fields against each other and against sane bounds, and
// returns the total size of the index they declare.
func (hr *hnswReader) checkHeader(hd *hnswHeader) (uint64, error) {
	switch {
	case hd.flags&^hnswFlagFull != 0:
		return 0, hr.errf("flags", 12, "unknown bits %#x", hd.flags&^hnswFlagFull)
	case hd.metric != uint32(MetricInnerProduct) && hd.metric != uint32(MetricL2):
		return 0, hr.errf("metric", 16, "unknown metric %d", hd.metric)
	case hd.dim == 0 || hd.dim > math.MaxInt32:
		return 0, hr.errf("dim", 20, "%d outside 1..%d", hd.dim, math.MaxInt32)
	case hd.n == 0 || hd.n > math.MaxInt32:
		return 0, hr.errf("n", 24, "%d outside 1..%d", hd.n, math.MaxInt32)
	case hd.m < 2 || hd.m > hnswMaxSavedM:
		return 0, hr.errf("M", 28, "%d outside 2..%d", hd.m, hnswMaxSavedM)
	case hd.efSearch == 0 || hd.efSearch > math.MaxInt32:
		return 0, hr.errf("EfSearch", 32, "%d outside 1..%d", hd.efSearch, math.MaxInt32)
	case hd.entry >= hd.n:
		return 0, hr.errf("entry", 36, "node %d of %d", hd.entry, hd.n)
	case hd.top > hnswMaxLevel:
		return 0, hr.errf("top", 40, "layer %d above %d", hd.top, hnswMaxLevel)
	}
	n := uint64(hd.n)
	// The upper lists hold at most hnswMaxLevel·(M+1) values a node.
	if hd.upper > n*hnswMaxLevel*(uint64(hd.m)+1) || hd.upper%(uint64(hd.m)+1) != 0 {
		return 0, hr.errf("upper", 44, "%d values do not fit %d nodes of M %d", hd.upper, hd.n, hd.m)
	}
	hi, vals := bits.Mul64(n, uint64(hd.dim))
	if hi != 0 || vals > math.MaxInt/4 {
		return 0, hr.errf("dim", 20, "%d vectors of %d values overflow", hd.n, hd.dim)
	}
	words := n*(2*uint64(hd.m)+1) + hd.upper + vals // each term is below 2^62
	if words > math.MaxInt/4 {
		return 0, hr.errf("upper", 44, "%d values in all overflow", words)
	}
	return hnswHeaderSize + n + 4*words + hnswTrailerSize, nil
}

// checkList checks node i's count-then-slots block on layer lc, found at byte offset off:
// the count fits, each neighbour is another node that reaches layer lc, and the unused slots
// are zero.
func (h *HNSW) checkList(hr *hnswReader, field string, off int64, i int32, lc int, l []int32) error {
	maxM := h.m
	if lc == 0 {
		maxM = h.m0
	}
	cnt := l[0]
	if cnt < 0 || int(cnt) > maxM {
		return hr.errf(field, off, "node %d layer %d count %d outside 0..%d", i, lc, cnt, maxM)
	}
	for j, nb := range l[1:] {
		o := off + 4*int64(j+1)
		switch {
		case j >= int(cnt):
			if nb != 0 {
				return hr.errf(field, o, "node %d layer %d unused slot %d holds %d", i, lc, j, nb)
			}
		case nb < 0 || int(nb) >= len(h.levels):
			return hr.errf(field, o, "node %d layer %d neighbour %d out of range 0..%d", i, lc, nb, len(h.levels)-1)
		case nb == i:
			return hr.errf(field, o, "node %d layer %d links to itself", i, lc)
		case int(h.levels[nb]) < lc:
			return hr.errf(field, o, "node %d layer %d neighbour %d has level %d", i, lc, nb, h.levels[nb])
		}
	}
	return nil
}
