package embed

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Constants of OpenAI's CLIP tokenizer (clip/simple_tokenizer.py and clip/clip.py).
const (
	// ContextLength is the number of token positions of CLIP's text tower (clip.tokenize).
	ContextLength = 77
	// CLIPVocabSize is the size of the BPE vocabulary: 256 byte symbols, their 256 </w>
	// forms, 48,894 merges and the two special tokens.
	CLIPVocabSize = 49408
	// StartToken and EndToken are the ids of <|startoftext|> and <|endoftext|>.
	StartToken = 49406
	EndToken   = 49407
	// clipMerges is how many merge lines simple_tokenizer reads: lines 1..48894 of the
	// file, that is merges[1:49152-256-2+1].
	clipMerges = 49152 - 256 - 2
	// endOfWord marks the last symbol of a word in the vocabulary.
	endOfWord = "</w>"
	// bpeCacheLimit bounds the per-tokenizer word cache; it is cleared when full.
	bpeCacheLimit = 1 << 17
)

type symbolPair struct{ a, b string }

// CLIPTokenizer is OpenAI's CLIP byte-pair-encoding tokenizer. It is safe for concurrent
// use.
type CLIPTokenizer struct {
	encoder   map[string]int
	decoder   []string
	ranks     map[symbolPair]int
	byteToSym [256]string

	family   TextFamily
	specials [2]string // the start and end tokens as the split pattern finds them
	hf       *hfText   // TextHF: the tokenizer.json's text steps

	mu    sync.Mutex
	cache map[string][]int
}

// LoadCLIPTokenizer reads OpenAI's gzipped merges file bpe_simple_vocab_16e6.txt.gz (or an
// uncompressed copy).
func LoadCLIPTokenizer(path string) (*CLIPTokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embed: clip vocabulary: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("embed: clip vocabulary %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	t, err := readCLIPMerges(r)
	if err != nil {
		return nil, fmt.Errorf("embed: clip vocabulary %s: %w", path, err)
	}
	return t, nil
}

// NewCLIPTokenizerFromMerges builds the tokenizer from the merges file's content (the
// version line followed by one "a b" merge per line).
func NewCLIPTokenizerFromMerges(r io.Reader) (*CLIPTokenizer, error) {
	t, err := readCLIPMerges(r)
	if err != nil {
		return nil, fmt.Errorf("embed: clip vocabulary: %w", err)
	}
	return t, nil
}

func readCLIPMerges(r io.Reader) (*CLIPTokenizer, error) {
	t := &CLIPTokenizer{encoder: make(map[string]int, CLIPVocabSize), ranks: make(map[symbolPair]int, clipMerges)}
	syms := byteSymbols()
	t.byteToSym = syms
	order := byteSymbolOrder()
	for _, b := range order {
		t.decoder = append(t.decoder, syms[b])
	}
	for _, b := range order {
		t.decoder = append(t.decoder, syms[b]+endOfWord)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // "#version: 0.2"
		}
		if line > clipMerges+1 {
			break
		}
		a, b, ok := strings.Cut(sc.Text(), " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("line %d: want two space-separated symbols, got %q", line, sc.Text())
		}
		t.ranks[symbolPair{a, b}] = line - 2
		t.decoder = append(t.decoder, a+b)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if line < clipMerges+1 {
		return nil, fmt.Errorf("%d merge lines, want at least %d", line-1, clipMerges)
	}
	t.decoder = append(t.decoder, "<|startoftext|>", "<|endoftext|>")
	for i, s := range t.decoder {
		t.encoder[s] = i // a later duplicate wins, as in Python's dict(zip(...))
	}
	if len(t.decoder) != CLIPVocabSize {
		return nil, fmt.Errorf("vocabulary has %d entries, want %d", len(t.decoder), CLIPVocabSize)
	}
	t.cache = map[string][]int{}
	t.family = TextOpenAI
	t.specials = TextOpenAI.specials()
	return t, nil
}

// byteSymbolOrder is the order of bytes_to_unicode's keys: the printable Latin-1 bytes
// first, then the others.
func byteSymbolOrder() []int {
	var bs []int
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
	}
	for b := 0; b < 256; b++ {
		if printable(b) {
			bs = append(bs, b)
		}
	}
	for b := 0; b < 256; b++ {
		if !printable(b) {
			bs = append(bs, b)
		}
	}
	return bs
}

// byteSymbols maps each byte to the printable character that stands for it (GPT-2's
// bytes_to_unicode): printable Latin-1 bytes stand for themselves, the rest for U+0100 on.
func byteSymbols() [256]string {
	var out [256]string
	n := 0
	for _, b := range byteSymbolOrder() {
		if (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff) {
			out[b] = string(rune(b))
		} else {
			out[b] = string(rune(256 + n))
			n++
		}
	}
	return out
}

// Encode returns the ids the text tower reads, as the [Tokenizer] interface does: the
// start token, the BPE ids and the end token, truncated to ContextLength with the end token
// kept, without Tokenize's zero padding.
func (t *CLIPTokenizer) Encode(text string) []int64 {
	ids := t.Tokenize(text)
	for i, id := range ids {
		if i > 0 && id == EndToken {
			return ids[:i+1]
		}
	}
	return ids
}

// Tokenize returns the ContextLength ids clip.tokenize(text, truncate=True) gives: start
// token, BPE ids, end token, zero padding; an over-long text is cut so that the last
// position holds the end token.
func (t *CLIPTokenizer) Tokenize(text string) []int64 {
	out := make([]int64, ContextLength)
	t.TokenizeInto(out, text)
	return out
}

// TokenizeInto writes Tokenize's ids into dst, whose length is the context length (77 for
// CLIP). It reports whether the text was truncated.
func (t *CLIPTokenizer) TokenizeInto(dst []int64, text string) (truncated bool) {
	clear(dst)
	if len(dst) < 2 {
		return true
	}
	dst[0] = StartToken
	n := 1
	t.pieces(text, func(w string, special int) bool {
		var ids []int
		if special >= 0 {
			ids = []int{special}
		} else {
			ids = t.word(w)
		}
		for _, id := range ids {
			if n == len(dst) {
				truncated = true
				return false
			}
			dst[n] = int64(id)
			n++
		}
		return true
	})
	if truncated || n == len(dst) {
		dst[n-1] = EndToken
		return true
	}
	dst[n] = EndToken
	return false
}

// Decode turns ids back into text as simple_tokenizer's decode does (</w> becomes a
// space), leaving out the start and end tokens, so that Decode(Encode(s)) is the cleaned
// text.
func (t *CLIPTokenizer) Decode(ids []int64) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if id == StartToken || id == EndToken {
			continue
		}
		if id < 0 || id >= int64(len(t.decoder)) {
			return "", fmt.Errorf("embed: token id %d outside the vocabulary of %d", id, len(t.decoder))
		}
		b.WriteString(t.decoder[id])
	}
	sym := map[rune]byte{}
	for i, s := range t.byteToSym {
		r, _ := utf8.DecodeRuneInString(s)
		sym[r] = byte(i)
	}
	var raw []byte
	for _, r := range b.String() {
		if by, ok := sym[r]; ok {
			raw = append(raw, by)
		} else {
			raw = append(raw, string(r)...)
		}
	}
	s := strings.ReplaceAll(string(raw), endOfWord, " ")
	return strings.ToValidUTF8(s, "\uFFFD"), nil
}

// word returns the BPE ids of one pre-tokenised word.
func (t *CLIPTokenizer) word(w string) []int {
	t.mu.Lock()
	if ids, ok := t.cache[w]; ok {
		t.mu.Unlock()
		return ids
	}
	t.mu.Unlock()
	syms := make([]string, 0, len(w))
	for i := 0; i < len(w); i++ {
		syms = append(syms, t.byteToSym[w[i]])
	}
	syms[len(syms)-1] += endOfWord
	syms = t.merge(syms)
	ids := make([]int, len(syms))
	for i, s := range syms {
		ids[i] = t.encoder[s]
	}
	t.mu.Lock()
	if len(t.cache) >= bpeCacheLimit {
		t.cache = map[string][]int{}
	}
	t.cache[w] = ids
	t.mu.Unlock()
	return ids
}

// merge applies the lowest-ranked merge until none applies, as simple_tokenizer's bpe.
func (t *CLIPTokenizer) merge(word []string) []string { return bpeMerge(t.ranks, word) }

// splitCLIP applies simple_tokenizer's pattern
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// (case-insensitive; open_clip spells the two special tokens <start_of_text> and
// <end_of_text>) to cleaned text and returns the matches in order.
func splitCLIP(s string, specials [2]string) []string {
	var out []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '<' && hasPrefixFold(s[i:], specials[0]):
			out = append(out, s[i:i+len(specials[0])])
			i += len(specials[0])
			continue
		case r == '<' && hasPrefixFold(s[i:], specials[1]):
			out = append(out, s[i:i+len(specials[1])])
			i += len(specials[1])
			continue
		case r == '\'':
			if n := contraction(s[i+1:]); n > 0 {
				out = append(out, s[i:i+1+n])
				i += 1 + n
				continue
			}
		}
		switch {
		case isRegexSpace(r):
			i += size
		case unicode.IsLetter(r):
			j := i + size
			for j < len(s) {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) {
					break
				}
				j += s2
			}
			out = append(out, s[i:j])
			i = j
		case unicode.IsNumber(r):
			out = append(out, s[i:i+size])
			i += size
		default:
			j := i + size
			for j < len(s) {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if isRegexSpace(r2) || unicode.IsLetter(r2) || unicode.IsNumber(r2) {
					break
				}
				j += s2
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

// isRegexSpace is \s of the regex module on str patterns.
func isRegexSpace(r rune) bool { return isPySpace(r) }

// contraction returns the length of a contraction suffix (s, t, re, ve, m, ll, d) at the
// start of s, or 0.
func contraction(s string) int {
	for _, c := range []string{"s", "t", "re", "ve", "m", "ll", "d"} {
		if hasPrefixFold(s, c) {
			return len(c)
		}
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
