package recsys

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// saveHNSW returns idx's encoding.
func saveHNSW(t testing.TB, idx *HNSW) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := idx.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

// smallHNSW is a small index whose every layer has lists: 40 vectors of 4 dimensions, M 2.
func smallHNSW(t testing.TB, metric Metric, full bool) *HNSW {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	idx, err := NewHNSW(context.Background(), randomUnitVectors(rng, 40, 4), 4,
		&HNSWOptions{M: 2, EfConstruction: 8, Seed: 3, Workers: 1, Metric: metric, FullPrecision: full})
	require.NoError(t, err)
	return idx
}

// TestHNSWSaveLoadRoundTrip checks that a loaded index answers many queries with exactly the
// hits (items and scores) of the saved one, under both metrics and both precisions, through
// both the stream and the file functions, and that saving it again gives the same bytes.
func TestHNSWSaveLoadRoundTrip(t *testing.T) {
	const n, nq, dim, k = 1500, 200, 24, 10
	dir := t.TempDir()
	for _, metric := range []Metric{MetricInnerProduct, MetricL2} {
		for _, full := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/full=%v", metric, full), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(11, uint64(metric)))
				items := randomUnitVectors(rng, n, dim)
				for i := range items[:dim*n/2] {
					items[i] *= 3 // vary the norms so that the two metrics rank differently
				}
				queries := randomUnitVectors(rng, nq, dim)
				idx, err := NewHNSW(context.Background(), items, dim,
					&HNSWOptions{M: 8, EfConstruction: 40, EfSearch: 30, Seed: 9, Metric: metric, FullPrecision: full})
				require.NoError(t, err)
				enc := saveHNSW(t, idx)
				got, err := ReadHNSW(bytes.NewReader(enc))
				require.NoError(t, err)
				path := filepath.Join(dir, fmt.Sprintf("idx-%d-%v.hnsw", metric, full))
				require.NoError(t, SaveHNSWFile(context.Background(), path, idx))
				fromFile, err := LoadHNSWFile(path)
				require.NoError(t, err)
				fi, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, int64(len(enc)), fi.Size())

				for _, loaded := range []*HNSW{got, fromFile} {
					assert.Equal(t, idx.Len(), loaded.Len())
					assert.Equal(t, idx.Dim(), loaded.Dim())
					assert.Equal(t, full, loaded.half == nil)
					assert.Equal(t, idx.scale, loaded.scale)
					assert.Equal(t, idx.half, loaded.half, "rebuilt half-precision copy")
					assert.Equal(t, enc, saveHNSW(t, loaded), "saving the loaded index again")
					for q := 0; q < nq; q++ {
						for _, ef := range []int{0, 50} {
							want, err := idx.Search(queries[q*dim:][:dim], k, ef)
							require.NoError(t, err)
							have, err := loaded.Search(queries[q*dim:][:dim], k, ef)
							require.NoError(t, err)
							require.Equal(t, want, have, "query %d ef %d", q, ef)
						}
					}
				}
			})
		}
	}
}

// TestReadHNSWConsumesOneIndex reads two indexes written one after the other to a stream.
func TestReadHNSWConsumesOneIndex(t *testing.T) {
	a, b := smallHNSW(t, MetricL2, false), smallHNSW(t, MetricInnerProduct, true)
	var buf bytes.Buffer
	_, err := a.WriteTo(&buf)
	require.NoError(t, err)
	_, err = b.WriteTo(&buf)
	require.NoError(t, err)
	buf.WriteString("tail")
	gotA, err := ReadHNSW(&buf)
	require.NoError(t, err)
	gotB, err := ReadHNSW(&buf)
	require.NoError(t, err)
	assert.Equal(t, MetricL2, gotA.metric)
	assert.Equal(t, MetricInnerProduct, gotB.metric)
	assert.Nil(t, gotB.half)
	assert.Equal(t, "tail", buf.String())
}

// TestHNSWSaveLoadEveryPrefix reads every proper prefix of a saved index: each is an error
// that names the byte offset where the data ran out, never a panic.
func TestHNSWSaveLoadEveryPrefix(t *testing.T) {
	for _, full := range []bool{false, true} {
		enc := saveHNSW(t, smallHNSW(t, MetricL2, full))
		for cut := 0; cut < len(enc); cut++ {
			_, err := ReadHNSW(bytes.NewReader(enc[:cut]))
			require.Error(t, err, "prefix of %d bytes", cut)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix of %d bytes", cut)
			require.ErrorContains(t, err, fmt.Sprintf("at byte offset %d:", cut))
		}
		_, err := ReadHNSW(bytes.NewReader(enc))
		require.NoError(t, err)
	}
	// A truncated file is caught by its size before its contents are read.
	enc := saveHNSW(t, smallHNSW(t, MetricInnerProduct, false))
	path := filepath.Join(t.TempDir(), "cut.hnsw")
	require.NoError(t, os.WriteFile(path, enc[:len(enc)-1], 0o644))
	_, err := LoadHNSWFile(path)
	assert.ErrorContains(t, err, "recsys: hnsw load "+path+": file size at byte offset 0")
	require.NoError(t, os.WriteFile(path, enc[:20], 0o644))
	_, err = LoadHNSWFile(path)
	assert.ErrorContains(t, err, path+": header at byte offset 20")
	require.NoError(t, os.WriteFile(path, append(enc, 0), 0o644))
	_, err = LoadHNSWFile(path)
	assert.ErrorContains(t, err, "file size")
	_, err = LoadHNSWFile(filepath.Join(t.TempDir(), "missing.hnsw"))
	assert.ErrorContains(t, err, "recsys: hnsw load:")
}

// hnswLayout gives the byte offsets of a saved index's sections.
type hnswLayout struct{ levels, links0, upper, vecs, crc int }

func layoutOf(t *testing.T, enc []byte) hnswLayout {
	t.Helper()
	le := binary.LittleEndian
	n, m, dim := int(le.Uint32(enc[24:])), int(le.Uint32(enc[28:])), int(le.Uint32(enc[20:]))
	upper := int(le.Uint64(enc[44:]))
	var l hnswLayout
	l.levels = hnswHeaderSize
	l.links0 = l.levels + n
	l.upper = l.links0 + 4*n*(2*m+1)
	l.vecs = l.upper + 4*upper
	l.crc = l.vecs + 4*n*dim
	require.Equal(t, len(enc), l.crc+4)
	return l
}

// resum rewrites the checksum so that a corruption is found by the check under test.
func resum(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], hnswCRCTable))
	return b
}

// TestHNSWLoadBadInput corrupts one field at a time; each gives an error naming the field and
// its byte offset.
func TestHNSWLoadBadInput(t *testing.T) {
	idx := smallHNSW(t, MetricInnerProduct, false)
	enc := saveHNSW(t, idx)
	lay := layoutOf(t, enc)
	le := binary.LittleEndian
	put32 := func(off int, v uint32) func([]byte) { return func(b []byte) { le.PutUint32(b[off:], v) } }
	// The first node with a layer-0 neighbour and the first node with an upper layer.
	cnt0 := int(idx.links0[0])
	require.Positive(t, cnt0)
	nb0 := lay.links0 + 4
	var up int
	for i, l := range idx.levels {
		if l > 0 && idx.upper[i][0] > 0 {
			up = i
			break
		}
	}
	require.Positive(t, idx.levels[up])
	upOff := lay.upper
	for i := 0; i < up; i++ {
		upOff += 4 * len(idx.upper[i])
	}
	cases := []struct {
		name    string
		corrupt func([]byte)
		resum   bool
		want    string
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, false, "magic at byte offset 0"},
		{"version", put32(8, 2), false, "version at byte offset 8: unknown version 2"},
		{"flags", put32(12, 6), false, "flags at byte offset 12"},
		{"metric", put32(16, 7), false, "metric at byte offset 16: unknown metric 7"},
		{"dim zero", put32(20, 0), false, "dim at byte offset 20"},
		{"n zero", put32(24, 0), false, "n at byte offset 24"},
		{"n negative", put32(24, 1<<31), false, "n at byte offset 24"},
		{"M", put32(28, 1), false, "M at byte offset 28"},
		{"EfSearch", put32(32, 0), false, "EfSearch at byte offset 32"},
		{"entry", put32(36, 40), false, "entry at byte offset 36: node 40 of 40"},
		{"top", put32(40, 33), false, "top at byte offset 40"},
		{"top disagrees", put32(40, uint32(idx.top)+1), false, "top at byte offset 40"},
		{"upper overflow", func(b []byte) { le.PutUint64(b[44:], math.MaxUint64) }, false, "upper at byte offset 44"},
		{"upper disagrees", func(b []byte) { le.PutUint64(b[44:], le.Uint64(b[44:])+3) }, false, "upper at byte offset 44"},
		{"vectors overflow", func(b []byte) { le.PutUint32(b[20:], math.MaxInt32); le.PutUint32(b[24:], math.MaxInt32) }, false, "dim at byte offset 20"},
		{"level", func(b []byte) { b[lay.levels+5] = 40 }, false, fmt.Sprintf("levels at byte offset %d: node 5 level 40", lay.levels+5)},
		{"level above top", func(b []byte) { b[lay.levels+5] = uint8(idx.top) + 1 }, false, "levels at byte offset"},
		{"count", put32(lay.links0, 5), false, fmt.Sprintf("links0 at byte offset %d: node 0 layer 0 count 5 outside 0..4", lay.links0)},
		{"count negative", put32(lay.links0, math.MaxUint32), false, "count -1"},
		{"neighbour out of range", put32(nb0, 40), false, fmt.Sprintf("links0 at byte offset %d: node 0 layer 0 neighbour 40 out of range", nb0)},
		{"neighbour negative", put32(nb0, math.MaxUint32), false, "neighbour -1 out of range"},
		{"self link", put32(nb0, 0), false, "node 0 layer 0 links to itself"},
		{"unused slot", func(b []byte) { le.PutUint32(b[lay.links0:], 0) }, false, fmt.Sprintf("links0 at byte offset %d: node 0 layer 0 unused slot 0", nb0)},
		{"upper neighbour", put32(upOff+4, 40), false, fmt.Sprintf("upper at byte offset %d: node %d layer 1 neighbour 40", upOff+4, up)},
		{"NaN vector", put32(lay.vecs+4*6, math.Float32bits(float32(math.NaN()))), false, fmt.Sprintf("vectors at byte offset %d: vector 1, component 2 is NaN", lay.vecs+24)},
		{"Inf vector", put32(lay.vecs, math.Float32bits(float32(math.Inf(1)))), false, "vector 0, component 0 is +Inf"},
		{"checksum", func(b []byte) { b[lay.vecs] ^= 1 }, false, fmt.Sprintf("checksum at byte offset %d", lay.crc)},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(enc)
			c.corrupt(b)
			if c.resum {
				resum(b)
			}
			got, err := ReadHNSW(bytes.NewReader(b))
			assert.Nil(t, got)
			require.ErrorContains(t, err, "recsys: hnsw load: ")
			assert.ErrorContains(t, err, c.want)
			path := filepath.Join(dir, "bad.hnsw")
			require.NoError(t, os.WriteFile(path, b, 0o644))
			_, err = LoadHNSWFile(path)
			require.ErrorContains(t, err, "recsys: hnsw load "+path+": ")
		})
	}
	// A neighbour below the layer it is listed on.
	var low int32 = -1
	for i, l := range idx.levels {
		if l == 0 && int32(i) != idx.upper[up][1] && i != up {
			low = int32(i)
			break
		}
	}
	require.GreaterOrEqual(t, low, int32(0))
	b := bytes.Clone(enc)
	le.PutUint32(b[upOff+4:], uint32(low))
	_, err := ReadHNSW(bytes.NewReader(b))
	assert.ErrorContains(t, err, fmt.Sprintf("node %d layer 1 neighbour %d has level 0", up, low))

	var empty *HNSW
	_, err = empty.WriteTo(io.Discard)
	assert.ErrorContains(t, err, "recsys: hnsw save: empty index")
	assert.ErrorContains(t, SaveHNSWFile(context.Background(), filepath.Join(dir, "none", "x.hnsw"), idx), "recsys: hnsw save")
	_, err = idx.WriteTo(failingWriter{})
	assert.ErrorContains(t, err, "recsys: hnsw save: disk full")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestHNSWLoadHugeCountsAllocateLittle declares two billion nodes over a few bytes of data:
// the reader fails at the end of the data without allocating for the declared count.
func TestHNSWLoadHugeCountsAllocateLittle(t *testing.T) {
	enc := saveHNSW(t, smallHNSW(t, MetricInnerProduct, true))
	b := bytes.Clone(enc[:hnswHeaderSize])
	le := binary.LittleEndian
	le.PutUint32(b[24:], math.MaxInt32) // n
	le.PutUint32(b[20:], 1<<20)         // dim
	le.PutUint32(b[40:], 0)             // top
	le.PutUint64(b[44:], 0)             // upper
	b = append(b, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadHNSW(bytes.NewReader(b))
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorContains(t, err, fmt.Sprintf("levels at byte offset %d", len(b)))
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated")
}

// TestHNSWSaveFileReplacesAtomically checks that saving over an existing file replaces it
// whole and leaves no temporary file behind.
func TestHNSWSaveFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idx.hnsw")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	idx := smallHNSW(t, MetricL2, true)
	require.NoError(t, SaveHNSWFile(context.Background(), path, idx))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, saveHNSW(t, idx), got)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

// FuzzReadHNSW reads arbitrary bytes, as given and with the checksum made to match so that
// the structural checks are reached. Whatever loads must search without panicking and save
// back to the same bytes.
func FuzzReadHNSW(f *testing.F) {
	for _, metric := range []Metric{MetricInnerProduct, MetricL2} {
		for _, full := range []bool{false, true} {
			f.Add(saveHNSW(f, smallHNSW(f, metric, full)))
		}
	}
	f.Add([]byte(hnswMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		inputs := [][]byte{data}
		if len(data) >= 4 {
			inputs = append(inputs, resum(bytes.Clone(data)))
		}
		for _, in := range inputs {
			idx, err := ReadHNSW(bytes.NewReader(in))
			if err != nil {
				if idx != nil {
					t.Fatal("index returned with an error")
				}
				continue
			}
			q := make([]float32, idx.Dim())
			q[0] = 1
			if _, err := idx.Search(q, 3, 0); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := idx.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.Len() > len(in) || !bytes.Equal(buf.Bytes(), in[:buf.Len()]) {
				t.Fatalf("saved again as different bytes")
			}
		}
	})
}

// BenchmarkHNSWSaveLoad builds an index over RECSYS_ANN_N vectors of RECSYS_ANN_DIM
// dimensions (defaults 100,000 × 128, the generator of BenchmarkHNSW, default options) once,
// then saves it to a file and loads it back, reporting the file size and both times.
func BenchmarkHNSWSaveLoad(b *testing.B) {
	n, dim := envInt("RECSYS_ANN_N", 100000), envInt("RECSYS_ANN_DIM", 128)
	rng := rand.New(rand.NewPCG(1, 2))
	items := clusteredVectors(rng, n, dim, 1000)
	t0 := time.Now()
	idx, err := NewHNSW(context.Background(), items, dim, &HNSWOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "hnsw save/load bench: %d×%d built in %.1fs\n", n, dim, time.Since(t0).Seconds())
	path := filepath.Join(b.TempDir(), "idx.hnsw")
	var save, load time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		if err := SaveHNSWFile(context.Background(), path, idx); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		got, err := LoadHNSWFile(path)
		if err != nil {
			b.Fatal(err)
		}
		load += time.Since(t2)
		save += t2.Sub(t1)
		if got.Len() != n {
			b.Fatal("wrong length")
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(save.Seconds()/float64(b.N), "save-s")
	b.ReportMetric(load.Seconds()/float64(b.N), "load-s")
}
