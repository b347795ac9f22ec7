package embed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/x448/float16"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// An embedding store keeps the CLIP vectors of a whole release on disk: shards of
// float16 rows, each a file
//
//	shard-000000.f16   header (128 bytes), ids (uint64, ascending), rows (dim float16 each)
//
// in one folder, written atomically one shard at a time, so that a crash loses at most the
// shard being written and a later [CreateStore] on the same folder resumes after the
// shards already there. [OpenStore] memory-maps every shard and indexes all ids in memory,
// so a lookup is a binary search and a float16 conversion per value.
//
// The header, little-endian: "IGEMBF16", format version (uint32, 1), dim (uint32), row
// count (uint64), sha256 of the model name, the model name (64 bytes, zero-padded), 8
// reserved bytes.
const (
	storeMagic      = "IGEMBF16"
	storeVersion    = 1
	storeHeaderSize = 128
	storeModelBytes = 64
	shardPrefix     = "shard-"
	shardSuffix     = ".f16"
	// DefaultShardRows is how many vectors a shard holds unless StoreOptions says
	// otherwise: 65,536 rows of 768 float16 values are 96 MiB.
	DefaultShardRows = 1 << 16
)

// ErrStoreShard marks a shard that is not a complete shard of the store's model and
// width; the error names the shard file.
var ErrStoreShard = errors.New("embed: bad store shard")

// ErrNotInStore reports ids a lookup did not find.
var ErrNotInStore = errors.New("embed: ids not in the store")

// StoreOptions configures [CreateStore].
type StoreOptions struct {
	// Model names the model the vectors come from (required, e.g. the model folder or hub
	// name); shards of another model are refused.
	Model string
	// Dim is the width of a vector (required, > 0).
	Dim int
	// ShardRows is the number of rows per shard (0 = DefaultShardRows; negative is an
	// error).
	ShardRows int
}

func (o *StoreOptions) resolve() (StoreOptions, error) {
	var r StoreOptions
	if o != nil {
		r = *o
	}
	switch {
	case r.Model == "":
		return r, invalid("StoreOptions.Model", "is required")
	case r.Dim <= 0:
		return r, invalid("StoreOptions.Dim", "%d is not positive", r.Dim)
	case r.ShardRows < 0:
		return r, invalid("StoreOptions.ShardRows", "%d is negative", r.ShardRows)
	}
	if r.ShardRows == 0 {
		r.ShardRows = DefaultShardRows
	}
	return r, nil
}

// PromptKey is the store id of a prompt: the first 8 bytes of the SHA-256 of its UTF-8
// text, big-endian.
func PromptKey(prompt string) uint64 {
	h := sha256.Sum256([]byte(prompt))
	return binary.BigEndian.Uint64(h[:8])
}

// storeShard is one mapped shard file.
type storeShard struct {
	name  string
	data  []byte
	unmap func() error
	// mapped is set when data is a memory mapping (outside the Go heap), which the C row
	// kernel may read by address.
	mapped bool
	ids    []byte // count × 8
	rows   []byte // count × dim × 2
	count  int
}

func (s *storeShard) id(i int) uint64 { return binary.LittleEndian.Uint64(s.ids[8*i:]) }

// storeHeader encodes or checks a shard header.
type storeHeader struct {
	dim   int
	count int
	model string   // as stored: at most storeModelBytes bytes
	sum   [32]byte // sha256 of the full model name
}

func headerFor(model string, dim int) storeHeader {
	return storeHeader{dim: dim, model: model, sum: sha256.Sum256([]byte(model))}
}

func (h storeHeader) encode() []byte {
	b := make([]byte, storeHeaderSize)
	copy(b, storeMagic)
	binary.LittleEndian.PutUint32(b[8:], storeVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.dim))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.count))
	copy(b[24:56], h.sum[:])
	copy(b[56:56+storeModelBytes], h.model)
	return b
}

// openShard maps path and checks that it is a complete shard; when want.dim is not 0 the
// model and width must match.
func openShard(path string, want storeHeader) (*storeShard, storeHeader, error) {
	name := filepath.Base(path)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s", ErrStoreShard, name, fmt.Sprintf(format, args...))
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, storeHeader{}, fmt.Errorf("embed: store: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, storeHeader{}, fmt.Errorf("embed: store: %w", err)
	}
	if st.Size() < storeHeaderSize {
		return nil, storeHeader{}, bad("%d bytes, shorter than the %d-byte header", st.Size(), storeHeaderSize)
	}
	data, unmap, mapped, err := mapStoreFile(fh, st.Size())
	if err != nil {
		return nil, storeHeader{}, fmt.Errorf("embed: store %s: %w", name, err)
	}
	fail := func(err error) (*storeShard, storeHeader, error) {
		_ = unmap()
		return nil, storeHeader{}, err
	}
	if string(data[:8]) != storeMagic {
		return fail(bad("offset 0: not a store shard (magic %q)", data[:8]))
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != storeVersion {
		return fail(bad("offset 8: format version %d, want %d", v, storeVersion))
	}
	h := storeHeader{dim: int(binary.LittleEndian.Uint32(data[12:]))}
	count := binary.LittleEndian.Uint64(data[16:])
	h.model = string(bytes.TrimRight(data[56:56+storeModelBytes], "\x00"))
	copy(h.sum[:], data[24:56])
	if want.dim != 0 {
		if h.sum != want.sum {
			return fail(bad("offset 24: vectors of model %q, not of %q", h.model, want.model))
		}
		if h.dim != want.dim {
			return fail(bad("offset 12: width %d, the store's is %d", h.dim, want.dim))
		}
	}
	if h.dim <= 0 || h.dim > 1<<20 {
		return fail(bad("offset 12: width %d out of range", h.dim))
	}
	size := uint64(st.Size()) - storeHeaderSize
	per := 8 + 2*uint64(h.dim)
	if count > size/per || count*per != size {
		return fail(bad("%d bytes of rows for %d rows of width %d (truncated or padded)", size, count, h.dim))
	}
	h.count = int(count)
	s := &storeShard{name: name, data: data, unmap: unmap, mapped: mapped, count: h.count}
	s.ids = data[storeHeaderSize : storeHeaderSize+8*h.count]
	s.rows = data[storeHeaderSize+8*h.count:]
	for i := 1; i < s.count; i++ {
		if s.id(i) <= s.id(i-1) {
			return fail(bad("offset %d: ids not ascending", storeHeaderSize+8*i))
		}
	}
	return s, h, nil
}

// shardPaths lists the shard files of dir in order (temporary files are ignored).
func shardPaths(dir string) ([]string, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("embed: store: %w", err)
	}
	var out []string
	next := 0
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, shardPrefix) || !strings.HasSuffix(n, shardSuffix) {
			continue
		}
		num, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(n, shardPrefix), shardSuffix))
		if err != nil {
			continue
		}
		out = append(out, filepath.Join(dir, n))
		next = max(next, num+1)
	}
	sort.Strings(out)
	return out, next, nil
}

// Store is an opened embedding store: every shard mapped, every id indexed. Lookups are
// safe for concurrent use; Close must not run concurrently with them.
type Store struct {
	model  string
	dim    int
	shards []*storeShard
	keys   []uint64 // every id, ascending
	loc    []uint64 // shard<<32 | row, parallel to keys
	// level is the row kernel of Lookup: the C kernel's level when every shard is mapped, -1
	// for the table.
	level int
}

// OpenStore opens the store in dir. A shard that is truncated, of another format, model or
// width than the others, or that repeats an id of another shard, is an error wrapping
// ErrStoreShard that names the file.
func OpenStore(dir string) (*Store, error) {
	paths, _, err := shardPaths(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{}
	var want storeHeader
	for _, p := range paths {
		sh, h, err := openShard(p, want)
		if err != nil {
			s.Close()
			return nil, err
		}
		if want.dim == 0 {
			want = h
			s.model, s.dim = h.model, h.dim
		}
		s.shards = append(s.shards, sh)
	}
	if err := s.index(); err != nil {
		s.Close()
		return nil, err
	}
	s.level = -1
	if halfKernel && !slices.ContainsFunc(s.shards, func(sh *storeShard) bool { return !sh.mapped }) {
		s.level = halfLevel
	}
	return s, nil
}

func (s *Store) index() error {
	n := 0
	for _, sh := range s.shards {
		n += sh.count
	}
	s.keys = make([]uint64, 0, n)
	s.loc = make([]uint64, 0, n)
	for si, sh := range s.shards {
		for r := 0; r < sh.count; r++ {
			s.keys = append(s.keys, sh.id(r))
			s.loc = append(s.loc, uint64(si)<<32|uint64(r))
		}
	}
	sort.Sort(byKey{s.keys, s.loc})
	for i := 1; i < len(s.keys); i++ {
		if s.keys[i] == s.keys[i-1] {
			a, b := s.shards[s.loc[i-1]>>32].name, s.shards[s.loc[i]>>32].name
			return fmt.Errorf("%w %s: id %d is also in %s", ErrStoreShard, b, s.keys[i], a)
		}
	}
	return nil
}

type byKey struct{ k, v []uint64 }

func (b byKey) Len() int           { return len(b.k) }
func (b byKey) Less(i, j int) bool { return b.k[i] < b.k[j] }
func (b byKey) Swap(i, j int) {
	b.k[i], b.k[j] = b.k[j], b.k[i]
	b.v[i], b.v[j] = b.v[j], b.v[i]
}

// Model, Dim and Len describe the store: the model its vectors come from ("" when empty),
// their width and how many there are.
func (s *Store) Model() string { return s.model }
func (s *Store) Dim() int      { return s.dim }
func (s *Store) Len() int      { return len(s.keys) }

// Has reports whether the store holds id.
func (s *Store) Has(id uint64) bool {
	_, ok := slices.BinarySearch(s.keys, id)
	return ok
}

// Lookup writes the vector of each id into dst (len(ids)·Dim floats, row-major). It
// returns the positions of the ids not in the store, whose rows are set to NaN, and then an
// error wrapping ErrNotInStore; a missing id is never a zero vector. Large lookups are
// split over up to GOMAXPROCS goroutines.
func (s *Store) Lookup(ids []uint64, dst []float32) ([]int, error) {
	if len(dst) != len(ids)*s.dim {
		return nil, fmt.Errorf("embed: store lookup: dst has %d floats, want %d ids × %d", len(dst), len(ids), s.dim)
	}
	parts := min(runtime.GOMAXPROCS(0), len(ids)*s.dim/lookupChunk)
	if parts <= 1 {
		missing := s.lookup(ids, dst, 0, nil)
		return missing, s.missingErr(ids, missing)
	}
	found := make([][]int, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		lo, hi := p*len(ids)/parts, (p+1)*len(ids)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[p] = s.lookup(ids[lo:hi], dst[lo*s.dim:hi*s.dim], lo, nil)
		}()
	}
	wg.Wait()
	var missing []int
	for _, m := range found {
		missing = append(missing, m...)
	}
	return missing, s.missingErr(ids, missing)
}

// lookupChunk is the number of values below which a lookup stays on one goroutine.
const lookupChunk = 1 << 16

func (s *Store) lookup(ids []uint64, dst []float32, base int, missing []int) []int {
	var srcs []uint64
	if s.level >= 0 {
		srcs = make([]uint64, len(ids))
	}
	for i, id := range ids {
		row := dst[i*s.dim : (i+1)*s.dim]
		k, ok := slices.BinarySearch(s.keys, id)
		if !ok {
			missing = append(missing, base+i)
			nan := float32(math.NaN())
			for j := range row {
				row[j] = nan
			}
			continue
		}
		l := s.loc[k]
		off := int(l&0xffffffff) * 2 * s.dim
		src := s.shards[l>>32].rows[off : off+2*len(row)]
		if srcs != nil {
			srcs[i] = rowAddr(src)
			continue
		}
		decodeF16(row, src)
	}
	if srcs != nil {
		decodeRows(s.level, srcs, s.dim, dst)
	}
	return missing
}

func (s *Store) missingErr(ids []uint64, missing []int) error {
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d (first %d)", ErrNotInStore, len(missing), len(ids), ids[missing[0]])
}

// Close unmaps the shards.
func (s *Store) Close() error {
	var err error
	for _, sh := range s.shards {
		if e := sh.unmap(); e != nil && err == nil {
			err = fmt.Errorf("embed: store %s: %w", sh.name, e)
		}
	}
	s.shards, s.keys, s.loc = nil, nil, nil
	return err
}

// decodeF16 converts little-endian float16 src (2·len(dst) bytes) into dst through
// the 65,536-entry table.
func decodeF16(dst []float32, src []byte) {
	table := f16Table()
	src = src[:2*len(dst)]
	for j := range dst {
		dst[j] = table[uint16(src[2*j])|uint16(src[2*j+1])<<8]
	}
}

var (
	f16Once sync.Once
	f16Tab  *[1 << 16]float32
)

// f16Table converts every float16 bit pattern to float32.
func f16Table() *[1 << 16]float32 {
	f16Once.Do(func() {
		f16Tab = new([1 << 16]float32)
		for i := range f16Tab {
			f16Tab[i] = float16.Frombits(uint16(i)).Float32()
		}
	})
	return f16Tab
}

// StoreWriter adds vectors to a store folder, one atomically written shard at a time.
type StoreWriter struct {
	dir     string
	opts    StoreOptions
	have    map[uint64]bool // ids in the shards already written
	next    int             // number of the next shard
	ids     []uint64
	vecs    []float32
	written int
	skipped int
}

// CreateStore opens dir for writing, creating it if needed. Shards already there (from an
// earlier run that stopped or crashed) are kept and must be of the same model and width;
// their ids are skipped by Add, so running the same job again resumes it.
func CreateStore(dir string, opts *StoreOptions) (*StoreWriter, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embed: store: %w", err)
	}
	paths, next, err := shardPaths(dir)
	if err != nil {
		return nil, err
	}
	w := &StoreWriter{dir: dir, opts: o, have: map[uint64]bool{}, next: next}
	for _, p := range paths {
		sh, _, err := openShard(p, headerFor(o.Model, o.Dim))
		if err != nil {
			return nil, err
		}
		for i := 0; i < sh.count; i++ {
			w.have[sh.id(i)] = true
		}
		if err := sh.unmap(); err != nil {
			return nil, fmt.Errorf("embed: store %s: %w", sh.name, err)
		}
	}
	return w, nil
}

// Has reports whether id is in the store or waiting for the next shard.
func (w *StoreWriter) Has(id uint64) bool { return w.have[id] }

// Written and Skipped count the rows written to shards and the ids Add skipped because
// the store already had them.
func (w *StoreWriter) Written() int { return w.written }
func (w *StoreWriter) Skipped() int { return w.skipped }

// Add queues rows (len(ids)·Dim floats) and writes every full shard. Ids the store already
// holds are skipped.
func (w *StoreWriter) Add(ctx context.Context, ids []uint64, vecs []float32) error {
	d := w.opts.Dim
	if len(vecs) != len(ids)*d {
		return fmt.Errorf("embed: store add: %d floats for %d ids of width %d", len(vecs), len(ids), d)
	}
	for i, id := range ids {
		if w.have[id] {
			w.skipped++
			continue
		}
		w.have[id] = true
		w.ids = append(w.ids, id)
		w.vecs = append(w.vecs, vecs[i*d:(i+1)*d]...)
		if len(w.ids) == w.opts.ShardRows {
			if err := w.Flush(ctx); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// Flush writes the queued rows as one shard (nothing when none are queued). On an error
// or a cancelled context no shard file is left and the rows stay queued.
func (w *StoreWriter) Flush(ctx context.Context) error {
	n, d := len(w.ids), w.opts.Dim
	if n == 0 {
		return nil
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return w.ids[order[a]] < w.ids[order[b]] })
	path := filepath.Join(w.dir, fmt.Sprintf("%s%06d%s", shardPrefix, w.next, shardSuffix))
	err := atomicfile.Write(ctx, path, nil, func(f io.Writer) error {
		h := headerFor(w.opts.Model, d)
		h.count = n
		if _, err := f.Write(h.encode()); err != nil {
			return err
		}
		buf := make([]byte, 8*n)
		for i, k := range order {
			binary.LittleEndian.PutUint64(buf[8*i:], w.ids[k])
		}
		if _, err := f.Write(buf); err != nil {
			return err
		}
		row := make([]byte, 2*d)
		for _, k := range order {
			for j, v := range w.vecs[k*d : (k+1)*d] {
				binary.LittleEndian.PutUint16(row[2*j:], float16.Fromfloat32(v).Bits())
			}
			if _, err := f.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embed: store: %w", err)
	}
	w.next++
	w.written += n
	w.ids, w.vecs = w.ids[:0], w.vecs[:0]
	return nil
}

// Close writes the queued rows as a last shard.
func (w *StoreWriter) Close(ctx context.Context) error { return w.Flush(ctx) }
