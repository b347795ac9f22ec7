package embed

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(p, raw, 0o644))
	return p
}

// TestTokenizerJSONWordPieceAndBPE writes tokenizer.json files in the layout the
// tokenizers library saves for bert-base-uncased and roberta-base from the shared
// vocabularies and checks them against the reference goldens.
func TestTokenizerJSONWordPieceAndBPE(t *testing.T) {
	g := loadHFGolden(t)
	dir := shareddata.Path(t, "tokenizers")

	f, err := os.Open(filepath.Join(dir, "bert-base-uncased", "vocab.txt"))
	require.NoError(t, err)
	vocab := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		if _, dup := vocab[sc.Text()]; !dup {
			vocab[sc.Text()] = n
		}
	}
	f.Close()
	bertJSON := writeJSON(t, map[string]any{
		"normalizer":     map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}}}},
		"truncation":     map[string]any{"max_length": 512},
		"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
	})
	bert, err := LoadTokenizerJSON(bertJSON, 0)
	require.NoError(t, err)

	raw, err := os.ReadFile(filepath.Join(dir, "roberta-base", "vocab.json"))
	require.NoError(t, err)
	var rvocab map[string]int
	require.NoError(t, json.Unmarshal(raw, &rvocab))
	mraw, err := os.ReadFile(filepath.Join(dir, "roberta-base", "merges.txt"))
	require.NoError(t, err)
	var merges []string
	for i, l := range strings.Split(string(mraw), "\n") {
		if i > 0 && strings.TrimSpace(l) != "" {
			merges = append(merges, l)
		}
	}
	robJSON := writeJSON(t, map[string]any{
		"pre_tokenizer":  map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true},
		"post_processor": map[string]any{"type": "RobertaProcessing", "sep": []any{"</s>", 2}, "cls": []any{"<s>", 0}},
		"model":          map[string]any{"type": "BPE", "vocab": rvocab, "merges": merges},
	})
	rob, err := LoadTokenizerJSON(robJSON, 0)
	require.NoError(t, err)
	for _, e := range g.Edge {
		assert.Equal(t, e.Bert, bert.Encode(e.Text), "bert %q", e.Text)
		assert.Equal(t, e.Roberta, rob.Encode(e.Text), "roberta %q", e.Text)
	}
	short, err := LoadTokenizerJSON(bertJSON, 4)
	require.NoError(t, err)
	assert.Equal(t, []int64{101, 7592, 1010, 102}, short.Encode("hello, world"))
}

func TestTokenizerJSONUnigram(t *testing.T) {
	vocab := [][2]any{{"<unk>", 0.0}, {"<s>", 0.0}, {"</s>", 0.0}, {"\u2581", -2.0}, {"\u2581a", -1.0},
		{"b", -2.0}, {"ab", -1.5}, {"\u2581ab", -4.0}, {"c", -3.0}}
	p := writeJSON(t, map[string]any{
		"pre_tokenizer":  map[string]any{"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": true},
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>"}}, map[string]any{"Sequence": map[string]any{"id": "A"}}, map[string]any{"SpecialToken": map[string]any{"id": "</s>"}}}},
		"model":          map[string]any{"type": "Unigram", "unk_id": 0, "vocab": vocab},
	})
	u, err := LoadTokenizerJSON(p, 0)
	require.NoError(t, err)
	// "▁ab": ▁a+b scores -3, beating ▁+ab (-3.5) and ▁ab (-4); "▁c" is ▁+c.
	assert.Equal(t, []int64{1, 4, 5, 3, 8, 2}, u.Encode("ab  c"))
	// Unknown characters score min-10 each and consecutive ones fuse into one <unk>.
	assert.Equal(t, []int64{1, 3, 0, 2}, u.Encode("xy"))
	// NFKC: the full-width letters become a and b.
	assert.Equal(t, []int64{1, 4, 5, 2}, u.Encode("ａｂ"))
	assert.Equal(t, []int64{1, 2}, u.Encode(""))
	short, err := LoadTokenizerJSON(p, 3)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 4, 2}, short.Encode("ab c"))
}

func TestTokenizerJSONErrors(t *testing.T) {
	for name, v := range map[string]any{
		"model.type":     map[string]any{"model": map[string]any{"type": "Char"}},
		"model.vocab":    map[string]any{"model": map[string]any{"type": "WordPiece", "vocab": []int{1}}},
		"pre_tokenizer":  map[string]any{"model": map[string]any{"type": "BPE", "vocab": map[string]int{}}},
		"model.unk_id":   map[string]any{"model": map[string]any{"type": "Unigram", "vocab": [][2]any{{"a", 0.0}}}},
		"post_processor": map[string]any{"post_processor": map[string]any{"type": "Weird"}, "model": map[string]any{"type": "WordPiece", "vocab": map[string]int{}}},
		"model.merges[0]": map[string]any{"pre_tokenizer": map[string]any{"type": "ByteLevel"},
			"model": map[string]any{"type": "BPE", "vocab": map[string]int{"<s>": 0, "</s>": 1}, "merges": []string{"ab"}}},
	} {
		_, err := LoadTokenizerJSON(writeJSON(t, v), 0)
		assert.ErrorContains(t, err, "field "+name, name)
	}
	_, err := LoadTokenizerJSON(filepath.Join(t.TempDir(), "none.json"), 0)
	assert.Error(t, err)
}

func FuzzTokenizers(f *testing.F) {
	dir := shareddata.Path(f, "tokenizers")
	bert, err := LoadWordPiece(filepath.Join(dir, "bert-base-uncased", "vocab.txt"), &WordPieceOptions{MaxLength: 16})
	require.NoError(f, err)
	rob, err := LoadByteBPE(filepath.Join(dir, "roberta-base", "vocab.json"), filepath.Join(dir, "roberta-base", "merges.txt"), &ByteBPEOptions{MaxLength: 16})
	require.NoError(f, err)
	for _, s := range []string{"Hello, world", "  \n\t x", "😀 café 中文", "it's"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ids := range [][]int64{bert.Encode(s), rob.Encode(s)} {
			if len(ids) < 2 || len(ids) > 16 {
				t.Fatalf("%d ids", len(ids))
			}
		}
	})
}

func FuzzLoadTokenizerJSON(f *testing.F) {
	f.Add([]byte(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",-1]]}}`))
	f.Add([]byte(`{"pre_tokenizer":{"type":"ByteLevel"},"post_processor":{"type":"RobertaProcessing","sep":["b",1],"cls":["a",0]},"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}`))
	f.Add([]byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"a":3}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "tokenizer.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := LoadTokenizerJSON(p, 8)
		if err != nil {
			return
		}
		for _, s := range []string{"", "a b", "ab 😀 ａ"} {
			if ids := tok.Encode(s); len(ids) > 8 {
				t.Fatalf("%d ids over the limit", len(ids))
			}
		}
	})
}

// TestTinyMaxLength refuses lengths with no room for the two special tokens, from the
// file or from the caller, and keeps both special tokens at length 2.
func TestTinyMaxLength(t *testing.T) {
	model := map[string]any{"type": "WordPiece", "vocab": map[string]int{"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3}}
	p := writeJSON(t, map[string]any{"truncation": map[string]any{"max_length": 1}, "model": model})
	_, err := LoadTokenizerJSON(p, 0)
	assert.ErrorContains(t, err, "field truncation.max_length: 1 is below 2")
	for _, n := range []int{1, -1} {
		_, err = LoadTokenizerJSON(p, n)
		assert.ErrorIs(t, err, ErrInvalidOptions)
	}
	tok, err := LoadTokenizerJSON(p, 2)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2}, tok.Encode("a a a"))
}
