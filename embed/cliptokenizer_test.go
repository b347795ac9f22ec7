package embed

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

var (
	clipTokOnce sync.Once
	clipTok     *CLIPTokenizer
	clipTokErr  error
)

func sharedCLIPTokenizer(t testing.TB) *CLIPTokenizer {
	t.Helper()
	p := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	clipTokOnce.Do(func() { clipTok, clipTokErr = LoadCLIPTokenizer(p) })
	require.NoError(t, clipTokErr)
	return clipTok
}

func idsDigest(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:8])
}

func TestCLIPTokenizerEdgeCases(t *testing.T) {
	tok := sharedCLIPTokenizer(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "clip_edge_cases.json"))
	require.NoError(t, err)
	var cases []struct {
		Text string  `json:"text"`
		IDs  []int64 `json:"ids"`
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		assert.Equal(t, c.IDs, tok.Tokenize(c.Text), "%q", c.Text)
	}
}

// TestCLIPTokenizerPromptParity compares every prompt of the shared corpus with the
// reference tokenizer's ids (digests for all, full ids for every 97th); under the race
// detector every racePromptStride-th prompt.
func TestCLIPTokenizerPromptParity(t *testing.T) {
	tok := sharedCLIPTokenizer(t)
	f, err := os.Open(filepath.Join("testdata", "clip_prompts_digest.json.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var golden struct {
		Digests []string           `json:"digests"`
		IDs     map[string][]int64 `json:"ids"`
	}
	require.NoError(t, json.NewDecoder(zr).Decode(&golden))

	pf, err := os.Open(shareddata.Path(t, "prompts", "prompts.jsonl"))
	require.NoError(t, err)
	defer pf.Close()
	sc := bufio.NewScanner(pf)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n, bad := 0, 0
	stride := 1
	if raceEnabled {
		stride = racePromptStride
	}
	for sc.Scan() {
		if n%stride != 0 && golden.IDs[strconv.Itoa(n)] == nil {
			n++
			continue
		}
		var rec struct {
			Prompt string `json:"prompt"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "line %d", n+1)
		require.Less(t, n, len(golden.Digests))
		ids := tok.Tokenize(rec.Prompt)
		if want, ok := golden.IDs[strconv.Itoa(n)]; ok {
			assert.Equal(t, want, ids, "prompt %d %q", n, rec.Prompt)
		}
		if idsDigest(ids) != golden.Digests[n] {
			bad++
			if bad <= 10 {
				t.Errorf("prompt %d differs from the reference: %q -> %v", n, rec.Prompt, ids)
			}
		}
		n++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, len(golden.Digests), n)
	assert.Zero(t, bad, "prompts whose ids differ from the reference")
	t.Logf("%d prompts, %d differ", n, bad)
}

func TestCLIPTokenizerTruncationKeepsEnd(t *testing.T) {
	tok := sharedCLIPTokenizer(t)
	ids := tok.Tokenize(strings.Repeat("cat ", 200))
	require.Len(t, ids, ContextLength)
	assert.Equal(t, int64(StartToken), ids[0])
	assert.Equal(t, int64(EndToken), ids[ContextLength-1])
	dst := make([]int64, ContextLength)
	assert.True(t, tok.TokenizeInto(dst, strings.Repeat("cat ", 76)))
	assert.False(t, tok.TokenizeInto(dst, strings.Repeat("cat ", 75)))
	assert.Equal(t, int64(EndToken), dst[76])
}

func TestCLIPTokenizerDecode(t *testing.T) {
	tok := sharedCLIPTokenizer(t)
	s, err := tok.Decode(tok.Encode("A photo of a café 😀"))
	require.NoError(t, err)
	assert.Equal(t, "a photo of a café 😀 ", s)
	_, err = tok.Decode([]int64{CLIPVocabSize})
	assert.Error(t, err)
}

func TestCLIPTokenizerBadVocabulary(t *testing.T) {
	_, err := NewCLIPTokenizerFromMerges(strings.NewReader("#version: 0.2\na b\n"))
	assert.ErrorContains(t, err, "merge lines")
	_, err = NewCLIPTokenizerFromMerges(strings.NewReader("#version: 0.2\nabc\n"))
	assert.ErrorContains(t, err, "line 2")
	_, err = LoadCLIPTokenizer(filepath.Join(t.TempDir(), "missing.txt.gz"))
	assert.Error(t, err)
}

func FuzzCLIPTokenize(f *testing.F) {
	tok := sharedCLIPTokenizer(f)
	for _, s := range []string{"a photo", "(x:1.2) <lora:a:1>", "😀 café 中文", "&amp;", "'s'''t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Tokenize(s)
		if len(ids) != ContextLength || ids[0] != StartToken {
			t.Fatalf("bad ids %v", ids)
		}
		for _, id := range ids {
			if id < 0 || id >= CLIPVocabSize {
				t.Fatalf("id %d out of range", id)
			}
		}
	})
}

// TestFolderTokenizerFromHFFiles loads the CLIP vocabulary from the Hugging Face files of
// openai/clip-vit-base-patch32 (tokenizer.json alone, then merges.txt) and checks that both
// tokenise like OpenAI's merges file.
func TestFolderTokenizerFromHFFiles(t *testing.T) {
	ref := sharedCLIPTokenizer(t)
	src := shareddata.Path(t, "tokenizers", "clip-vit-base-patch32")
	for _, name := range []string{"tokenizer.json", "merges.txt"} {
		dir := t.TempDir()
		raw, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), raw, 0o644))
		tok, err := LoadCLIPTokenizerFromFolder(dir)
		require.NoError(t, err, name)
		for _, s := range []string{"a photo of a cat", "(masterpiece:1.2), 中文 😀 café", strings.Repeat("long ", 90)} {
			assert.Equal(t, ref.Tokenize(s), tok.Tokenize(s), "%s %q", name, s)
		}
	}
	_, err := LoadCLIPTokenizerFromFolder(t.TempDir())
	assert.Error(t, err)
}
