package embed

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

func randomRows(rng *rand.Rand, n, d int) []float32 {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		Normalize(v[i*d : (i+1)*d])
	}
	return v
}

func TestStoreRoundTripAndResume(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	const d, n = 16, 250
	rng := rand.New(rand.NewPCG(1, 2))
	vecs := randomRows(rng, n, d)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(rng.Int64())
	}
	opts := &StoreOptions{Model: "openai/clip-vit-base-patch32", Dim: d, ShardRows: 100}

	// First run: 150 rows, two shards' worth queued, and a "crash" before Close.
	w, err := CreateStore(dir, opts)
	require.NoError(t, err)
	require.NoError(t, w.Add(ctx, ids[:150], vecs[:150*d]))
	assert.Equal(t, 100, w.Written())

	// Second run resumes: the first shard's ids are skipped, the rest written.
	w, err = CreateStore(dir, opts)
	require.NoError(t, err)
	require.NoError(t, w.Add(ctx, ids, vecs))
	require.NoError(t, w.Close(ctx))
	assert.Equal(t, 100, w.Skipped())
	assert.Equal(t, 150, w.Written())

	s, err := OpenStore(dir)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, n, s.Len())
	assert.Equal(t, d, s.Dim())
	assert.Equal(t, opts.Model, s.Model())
	got := make([]float32, n*d)
	missing, err := s.Lookup(ids, got)
	require.NoError(t, err)
	assert.Empty(t, missing)
	for i := range got {
		// float16 keeps 11 significant bits: relative error below 2^-11.
		assert.InDelta(t, vecs[i], got[i], math.Abs(float64(vecs[i]))/2048+1e-7, "value %d", i)
	}

	// Missing ids are reported and their rows are NaN, never zero.
	row := make([]float32, 3*d)
	missing, err = s.Lookup([]uint64{ids[3], 12345, ids[7]}, row)
	assert.ErrorIs(t, err, ErrNotInStore)
	assert.Equal(t, []int{1}, missing)
	assert.True(t, math.IsNaN(float64(row[d])))
	assert.False(t, math.IsNaN(float64(row[0])))
	assert.True(t, s.Has(ids[0]))
	assert.False(t, s.Has(12345))
}

func TestStoreRefusesBadShards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const d = 8
	rng := rand.New(rand.NewPCG(3, 4))
	w, err := CreateStore(dir, &StoreOptions{Model: "a", Dim: d, ShardRows: 10})
	require.NoError(t, err)
	require.NoError(t, w.Add(ctx, []uint64{1, 2, 3}, randomRows(rng, 3, d)))
	require.NoError(t, w.Close(ctx))

	// Another model, or another width, in the same folder.
	_, err = CreateStore(dir, &StoreOptions{Model: "b", Dim: d})
	assert.ErrorIs(t, err, ErrStoreShard)
	assert.ErrorContains(t, err, "shard-000000.f16")
	_, err = CreateStore(dir, &StoreOptions{Model: "a", Dim: d + 1})
	assert.ErrorIs(t, err, ErrStoreShard)

	other := t.TempDir()
	w, err = CreateStore(other, &StoreOptions{Model: "b", Dim: d})
	require.NoError(t, err)
	require.NoError(t, w.Add(ctx, []uint64{9}, randomRows(rng, 1, d)))
	require.NoError(t, w.Close(ctx))
	raw, err := os.ReadFile(filepath.Join(other, "shard-000000.f16"))
	require.NoError(t, err)
	mixed := t.TempDir()
	first, err := os.ReadFile(filepath.Join(dir, "shard-000000.f16"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mixed, "shard-000000.f16"), first, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mixed, "shard-000001.f16"), raw, 0o644))
	_, err = OpenStore(mixed)
	assert.ErrorIs(t, err, ErrStoreShard)
	assert.ErrorContains(t, err, "shard-000001.f16")

	// Truncated shards, at every length.
	for _, cut := range []int{0, 7, storeHeaderSize - 1, storeHeaderSize, storeHeaderSize + 8, len(first) - 1} {
		tr := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(tr, "shard-000004.f16"), first[:cut], 0o644))
		_, err := OpenStore(tr)
		assert.ErrorIs(t, err, ErrStoreShard, "cut at %d", cut)
		assert.ErrorContains(t, err, "shard-000004.f16")
	}

	// The same id in two shards.
	dup := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dup, "shard-000000.f16"), first, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dup, "shard-000001.f16"), first, 0o644))
	_, err = OpenStore(dup)
	assert.ErrorIs(t, err, ErrStoreShard)

	// Options and shapes.
	for _, o := range []*StoreOptions{nil, {Model: "a"}, {Model: "a", Dim: 4, ShardRows: -1}} {
		_, err := CreateStore(t.TempDir(), o)
		assert.ErrorIs(t, err, ErrInvalidOptions)
	}
	w, err = CreateStore(t.TempDir(), &StoreOptions{Model: "a", Dim: d})
	require.NoError(t, err)
	assert.Error(t, w.Add(ctx, []uint64{1}, make([]float32, d-1)))
	s, err := OpenStore(dir)
	require.NoError(t, err)
	_, err = s.Lookup([]uint64{1}, make([]float32, 1))
	assert.Error(t, err)
	require.NoError(t, s.Close())
}

func TestStoreCancelLeavesNoShard(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := CreateStore(dir, &StoreOptions{Model: "a", Dim: 4, ShardRows: 2})
	require.NoError(t, err)
	cancel()
	assert.ErrorIs(t, w.Add(ctx, []uint64{1, 2, 3}, make([]float32, 12)), context.Canceled)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestPromptKey(t *testing.T) {
	// sha256("a photo of a cat") = 7e2d3ba3b2b8...; the key is its first 8 bytes.
	assert.Equal(t, PromptKey("a photo of a cat"), PromptKey("a photo of a cat"))
	assert.NotEqual(t, PromptKey("a photo of a cat"), PromptKey("a photo of a dog"))
}

func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	const d, n = 512, 100_000
	rng := rand.New(rand.NewPCG(5, 6))
	vecs := randomRows(rng, n, d)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = rng.Uint64()
	}
	dir := b.TempDir()
	b.Run("write100k", func(b *testing.B) {
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			sub := filepath.Join(dir, "w", string(rune('a'+i%26)))
			os.RemoveAll(sub)
			w, err := CreateStore(sub, &StoreOptions{Model: "m", Dim: d})
			require.NoError(b, err)
			require.NoError(b, w.Add(ctx, ids, vecs))
			require.NoError(b, w.Close(ctx))
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
		reportCPU(b, start)
	})
	store := filepath.Join(dir, "r")
	w, err := CreateStore(store, &StoreOptions{Model: "m", Dim: d})
	require.NoError(b, err)
	require.NoError(b, w.Add(ctx, ids, vecs))
	require.NoError(b, w.Close(ctx))
	s, err := OpenStore(store)
	require.NoError(b, err)
	defer s.Close()
	q := make([]uint64, 1000)
	for i := range q {
		q[i] = ids[rng.IntN(n)]
	}
	dst := make([]float32, len(q)*d)
	lookup := func(b *testing.B) {
		b.ResetTimer()
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := s.Lookup(q, dst); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	}
	b.Run("lookup1000", lookup)
	// The same lookups decoded through the 65,536-entry table (the route without cgo).
	level := s.level
	s.level = -1
	b.Run("lookup1000-table", lookup)
	s.level = level
}

// TestFloat16Decode checks the table on every float16 bit pattern against IEEE 754
// binary16 arithmetic: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024.
func TestFloat16Decode(t *testing.T) {
	tab := f16Table()
	for h := 0; h < 1<<16; h++ {
		sign, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case e == 0x1f && m != 0:
			assert.True(t, math.IsNaN(float64(tab[h])), "%#04x", h)
			continue
		case e == 0x1f:
			want = math.Inf(1)
		case e == 0:
			want = math.Ldexp(float64(m)/1024, -14)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if sign == 1 {
			want = -want
		}
		require.Equal(t, float32(want), tab[h], "%#04x", h)
	}
}

// TestStoreRowKernels checks every row kernel this CPU runs, and the table, against IEEE 754
// binary16 decoding done by x448/float16, on every bit pattern laid out as rows of a width
// that leaves a remainder for the scalar tail of each vector kernel.
func TestStoreRowKernels(t *testing.T) {
	const dim = 37
	n := (1<<16 + dim - 1) / dim
	raw := make([]byte, 2*n*dim)
	for h := 0; h < 1<<16; h++ {
		binary.LittleEndian.PutUint16(raw[2*h:], uint16(h))
	}
	want := make([]float32, n*dim)
	for i := range want {
		want[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
	}
	// The kernels read rows by address outside the Go heap: map an anonymous region.
	region := mapAnonymous(t, len(raw))
	copy(region, raw)
	srcs := make([]uint64, n)
	for j := range srcs {
		srcs[j] = rowAddr(region[2*j*dim:])
	}
	check := func(name string, got []float32) {
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: value %#04x decoded as %#08x, want %#08x", name, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
	got := make([]float32, n*dim)
	decodeF16(got, raw)
	check("table", got)
	if !halfKernel {
		t.Skip("no C row kernel in this build (needs cgo on amd64)")
	}
	for _, level := range halfLevels() {
		got := make([]float32, n*dim)
		decodeRows(level, srcs, dim, got)
		check(fmt.Sprintf("kernel %d", level), got)
	}
	// A zero address leaves its row untouched.
	got = make([]float32, 2*dim)
	got[0], got[dim] = 7, 7
	decodeRows(halfLevel, []uint64{0, srcs[0]}, dim, got)
	assert.Equal(t, float32(7), got[0])
	assert.Equal(t, want[0], got[dim])
}
