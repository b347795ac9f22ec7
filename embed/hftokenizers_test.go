package embed

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

type hfGolden struct {
	Prompts map[string]struct {
		Bert    []int64 `json:"bert"`
		Roberta []int64 `json:"roberta"`
	} `json:"prompts"`
	Edge []struct {
		Text    string  `json:"text"`
		Bert    []int64 `json:"bert"`
		Roberta []int64 `json:"roberta"`
	} `json:"edge"`
}

func loadHFGolden(t *testing.T) hfGolden {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "hf_tokenizers_golden.json.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var g hfGolden
	require.NoError(t, json.NewDecoder(zr).Decode(&g))
	return g
}

func corpusPrompts(t *testing.T, want map[string]bool) map[string]string {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, "prompts", "prompts.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	out := map[string]string{}
	for n := 0; sc.Scan(); n++ {
		k := strconv.Itoa(n)
		if !want[k] {
			continue
		}
		var rec struct {
			Prompt string `json:"prompt"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		out[k] = rec.Prompt
	}
	return out
}

func TestWordPieceAndByteBPEMatchReference(t *testing.T) {
	g := loadHFGolden(t)
	dir := shareddata.Path(t, "tokenizers")
	bert, err := LoadWordPiece(filepath.Join(dir, "bert-base-uncased", "vocab.txt"), &WordPieceOptions{})
	require.NoError(t, err)
	rob, err := LoadByteBPE(filepath.Join(dir, "roberta-base", "vocab.json"), filepath.Join(dir, "roberta-base", "merges.txt"), &ByteBPEOptions{})
	require.NoError(t, err)
	for _, e := range g.Edge {
		assert.Equal(t, e.Bert, bert.Encode(e.Text), "bert %q", e.Text)
		assert.Equal(t, e.Roberta, rob.Encode(e.Text), "roberta %q", e.Text)
	}
	want := map[string]bool{}
	for k := range g.Prompts {
		want[k] = true
	}
	prompts := corpusPrompts(t, want)
	require.Len(t, prompts, len(g.Prompts))
	badB, badR := 0, 0
	for k, p := range prompts {
		if !assert.ObjectsAreEqual(g.Prompts[k].Bert, bert.Encode(p)) {
			badB++
			if badB <= 5 {
				t.Errorf("bert prompt %s %q: got %v want %v", k, p, bert.Encode(p), g.Prompts[k].Bert)
			}
		}
		if !assert.ObjectsAreEqual(g.Prompts[k].Roberta, rob.Encode(p)) {
			badR++
			if badR <= 5 {
				t.Errorf("roberta prompt %s %q: got %v want %v", k, p, rob.Encode(p), g.Prompts[k].Roberta)
			}
		}
	}
	t.Logf("%d prompts: bert %d differ, roberta %d differ", len(prompts), badB, badR)
}
