package embed

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// familyTokenizers returns the tokenizer of each text family: OpenAI's merges file as
// clip.tokenize and open_clip read it, and openai/clip-vit-base-patch32's tokenizer.json.
func familyTokenizers(t testing.TB) map[TextFamily]*CLIPTokenizer {
	t.Helper()
	openai := sharedCLIPTokenizer(t)
	openCLIP, err := openai.WithFamily(TextOpenCLIP)
	require.NoError(t, err)
	hf, err := LoadCLIPTokenizerJSON(shareddata.Path(t, "tokenizers", "clip-vit-base-patch32", "tokenizer.json"))
	require.NoError(t, err)
	require.Equal(t, TextHF, hf.Family())
	return map[TextFamily]*CLIPTokenizer{TextOpenAI: openai, TextOpenCLIP: openCLIP, TextHF: hf}
}

type pipelineGoldens struct {
	Meta     map[string]string `json:"meta"`
	Families map[TextFamily]struct {
		CorpusDiffers map[string]string `json:"corpus_differs_from_openai"`
		Mutated       []string          `json:"mutated"`
	} `json:"families"`
}

var (
	allPromptsOnce sync.Once
	allPrompts     []string
)

func sharedPrompts(t testing.TB) []string {
	t.Helper()
	p := shareddata.Path(t, "prompts", "prompts.jsonl")
	allPromptsOnce.Do(func() {
		f, err := os.Open(p)
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var rec struct {
				Prompt string `json:"prompt"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				allPrompts = nil
				return
			}
			allPrompts = append(allPrompts, rec.Prompt)
		}
	})
	require.NotEmpty(t, allPrompts)
	return allPrompts
}

func readGz(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(zr).Decode(v))
}

// TestTextFamilyParity compares each family's ids with its reference package on the whole
// shared corpus and on the mutated prompts of scripts/gen_clip_text_goldens.py (curly
// quotes, full-width forms, decomposed accents, ligatures, mojibake, entities, C1
// controls, line breaks); under the race detector every racePromptStride-th prompt.
func TestTextFamilyParity(t *testing.T) {
	toks := familyTokenizers(t)
	prompts := sharedPrompts(t)
	var openai struct {
		Digests []string `json:"digests"`
	}
	readGz(t, filepath.Join("testdata", "clip_prompts_digest.json.gz"), &openai)
	require.Len(t, openai.Digests, len(prompts))
	var g pipelineGoldens
	readGz(t, filepath.Join("testdata", "clip_pipeline_goldens.json.gz"), &g)
	var mutated struct {
		Prompts []string `json:"prompts"`
	}
	readGz(t, filepath.Join("ftfy", "testdata", "mutated_prompts.json.gz"), &mutated)
	stride := 1
	if raceEnabled {
		stride = racePromptStride
	}
	for _, fam := range []TextFamily{TextOpenAI, TextOpenCLIP, TextHF} {
		tok, gf := toks[fam], g.Families[fam]
		require.Len(t, gf.Mutated, len(mutated.Prompts), fam)
		bad, n := 0, 0
		for i := 0; i < len(prompts); i += stride {
			want := openai.Digests[i]
			if d, ok := gf.CorpusDiffers[strconv.Itoa(i)]; ok {
				want = d
			}
			n++
			if idsDigest(tok.Tokenize(prompts[i])) != want {
				bad++
				if bad <= 5 {
					t.Errorf("%s: corpus prompt %d %q: %v", fam, i, prompts[i], tok.Tokenize(prompts[i]))
				}
			}
		}
		badM := 0
		for i := 0; i < len(mutated.Prompts); i += stride {
			if idsDigest(tok.Tokenize(mutated.Prompts[i])) != gf.Mutated[i] {
				badM++
				if badM <= 5 {
					t.Errorf("%s: mutated prompt %d %q: %v", fam, i, mutated.Prompts[i], tok.Tokenize(mutated.Prompts[i]))
				}
			}
		}
		assert.Zero(t, bad+badM, "%s: prompts whose ids differ from the reference", fam)
		t.Logf("%s: %d corpus prompts, %d differ; %d mutated, %d differ", fam, n, bad, len(mutated.Prompts)/stride, badM)
	}
}

// TestTextFamilyEdgeCases checks every family on the hand-written edge cases.
func TestTextFamilyEdgeCases(t *testing.T) {
	toks := familyTokenizers(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "clip_edge_cases.json"))
	require.NoError(t, err)
	var cases []struct {
		Text     string  `json:"text"`
		IDs      []int64 `json:"ids"`
		OpenCLIP []int64 `json:"open_clip"`
		HF       []int64 `json:"hf"`
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		assert.Equal(t, c.IDs, toks[TextOpenAI].Tokenize(c.Text), "openai %q", c.Text)
		assert.Equal(t, c.OpenCLIP, toks[TextOpenCLIP].Tokenize(c.Text), "open_clip %q", c.Text)
		assert.Equal(t, c.HF, toks[TextHF].Tokenize(c.Text), "hf %q", c.Text)
	}
}

func TestTextFamilyChoice(t *testing.T) {
	src := shareddata.Path(t, "tokenizers", "clip-vit-base-patch32")
	vocab := shareddata.Path(t, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
	copyTo := func(dir, from, name string) {
		raw, err := os.ReadFile(from)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), raw, 0o644))
	}
	hfDir := t.TempDir()
	copyTo(hfDir, filepath.Join(src, "tokenizer.json"), "tokenizer.json")
	copyTo(hfDir, filepath.Join(src, "merges.txt"), "merges.txt")
	tok, err := LoadCLIPTokenizerFromFolder(hfDir)
	require.NoError(t, err)
	assert.Equal(t, TextHF, tok.Family())
	tok, err = loadFolderTokenizer(hfDir, TextOpenAI)
	require.NoError(t, err)
	assert.Equal(t, TextOpenAI, tok.Family())

	ocDir := t.TempDir()
	copyTo(ocDir, vocab, "bpe_simple_vocab_16e6.txt.gz")
	tok, err = LoadCLIPTokenizerFromFolder(ocDir)
	require.NoError(t, err)
	assert.Equal(t, TextOpenAI, tok.Family())
	require.NoError(t, os.WriteFile(filepath.Join(ocDir, openCLIPConfig), []byte("{}"), 0o644))
	tok, err = LoadCLIPTokenizerFromFolder(ocDir)
	require.NoError(t, err)
	assert.Equal(t, TextOpenCLIP, tok.Family())
	_, err = loadFolderTokenizer(ocDir, TextHF)
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = tok.WithFamily("bert")
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = (&Options{TextFamily: "bert"}).resolve()
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestLoadCLIPTokenizerJSONBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"notclip.json":   `{"model":{"type":"WordPiece"}}`,
		"badnorm.json":   `{"model":{"type":"BPE","end_of_word_suffix":"</w>","merges":[]}}`,
		"truncated.json": `{"model":{"type":"BPE"`,
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		_, err := LoadCLIPTokenizerJSON(p)
		assert.ErrorContains(t, err, name)
	}
}

// BenchmarkTextFamilies tokenizes the first 20,000 corpus prompts with each family's
// pipeline (ftfy.fix_text and BPE for openai; the tokenizer.json steps for hf), on one
// goroutine; scripts/bench_clip_text.sh runs it beside the Python references.
func BenchmarkTextFamilies(b *testing.B) {
	toks := familyTokenizers(b)
	prompts := sharedPrompts(b)[:20000]
	dst := make([]int64, ContextLength)
	for _, fam := range []TextFamily{TextOpenAI, TextHF} {
		b.Run(string(fam), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fresh, err := toks[fam].WithFamily(fam) // an empty BPE cache, as a fresh Python process has
				require.NoError(b, err)
				for _, p := range prompts {
					fresh.TokenizeInto(dst, p)
				}
			}
			b.ReportMetric(float64(len(prompts)*b.N)/b.Elapsed().Seconds(), "prompts/s")
		})
	}
}
