package ftfy

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ftfyCase struct {
	Label       string `json:"label"`
	Original    string `json:"original"`
	FixText     string `json:"fix_text"`
	FixEncoding string `json:"fix_encoding"`
}

func readGzipJSON(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(zr).Decode(v))
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// TestFtfyOwnCases runs ftfy's tests/test_cases.json and the hand-written edge cases of
// scripts/gen_ftfy_goldens.py against ftfy 6.3.1's own output.
func TestFtfyOwnCases(t *testing.T) {
	var g struct {
		Meta  map[string]string `json:"meta"`
		Cases []ftfyCase        `json:"cases"`
	}
	readGzipJSON(t, "testdata/ftfy_cases.json.gz", &g)
	require.Equal(t, ReferenceVersion, g.Meta["ftfy"])
	require.NotEmpty(t, g.Cases)
	for _, c := range g.Cases {
		assert.Equal(t, c.FixText, FixText(c.Original), "fix_text %s: %q", c.Label, c.Original)
		assert.Equal(t, c.FixEncoding, FixEncoding(c.Original), "fix_encoding %s: %q", c.Label, c.Original)
	}
}

// TestFtfyCorpus compares FixText with ftfy.fix_text on every prompt of the shared corpus.
func TestFtfyCorpus(t *testing.T) {
	prompts := corpusPrompts(t)
	var g struct {
		Digests []string          `json:"digests"`
		Changed map[string]string `json:"changed"`
	}
	readGzipJSON(t, "testdata/ftfy_corpus.json.gz", &g)
	require.Len(t, g.Digests, len(prompts))
	bad := 0
	for i, p := range prompts {
		got := FixText(p)
		if digest(got) != g.Digests[i] {
			bad++
			if bad <= 20 {
				want, ok := g.Changed[strconv.Itoa(i)]
				if !ok {
					want = p
				}
				t.Errorf("prompt %d: %q\n got %q\nwant %q", i, p, got, want)
			}
		}
	}
	assert.Zero(t, bad, "prompts that differ from ftfy.fix_text, of %d", len(prompts))
}

// TestFtfyMutated compares FixText with ftfy.fix_text on corpus prompts with quotes,
// widths, accents, ligatures, mojibake, entities, C1 controls and line breaks put in.
func TestFtfyMutated(t *testing.T) {
	var g struct {
		Prompts []string `json:"prompts"`
		Digests []string `json:"digests"`
	}
	readGzipJSON(t, "testdata/mutated_prompts.json.gz", &g)
	require.Len(t, g.Digests, len(g.Prompts))
	bad := 0
	for i, p := range g.Prompts {
		if got := FixText(p); digest(got) != g.Digests[i] {
			bad++
			if bad <= 20 {
				t.Errorf("mutated %d: %q\n got %q", i, p, got)
			}
		}
	}
	assert.Zero(t, bad, "mutated prompts that differ from ftfy.fix_text, of %d", len(g.Prompts))
}

// BenchmarkFixText runs FixText over the first 20,000 corpus prompts.
func BenchmarkFixText(b *testing.B) {
	prompts := corpusPrompts(b)[:20000]
	for i := 0; i < b.N; i++ {
		for _, p := range prompts {
			FixText(p)
		}
	}
	b.ReportMetric(float64(len(prompts)*b.N)/b.Elapsed().Seconds(), "prompts/s")
}
