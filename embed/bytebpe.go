package embed

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ByteBPE is GPT-2's byte-level BPE as RoBERTa uses it: the GPT-2 split pattern, UTF-8
// bytes mapped to printable symbols, merges by rank, <s> ... </s> around the ids. It is
// safe for concurrent use.
type ByteBPE struct {
	vocab     map[string]int
	ranks     map[symbolPair]int
	byteToSym [256]string
	bos, eos  int
	prefix    bool
	maxLength int
}

// ByteBPEOptions configures [LoadByteBPE]; nil and the zero value are roberta-base's.
type ByteBPEOptions struct {
	// AddPrefixSpace puts a space before the text, as add_prefix_space=True does.
	AddPrefixSpace bool
	// MaxLength truncates encodings, special tokens included; 0 means DefaultMaxLength,
	// and a length below 2 is an error.
	MaxLength int
	// BOS and EOS name the special tokens; empty means <s> and </s>.
	BOS, EOS string
}

// resolve validates o and returns a copy with the defaults filled in.
func (o *ByteBPEOptions) resolve() (ByteBPEOptions, error) {
	var r ByteBPEOptions
	if o != nil {
		r = *o
	}
	var err error
	if r.MaxLength, err = maxLength("MaxLength", r.MaxLength); err != nil {
		return r, err
	}
	if r.BOS == "" {
		r.BOS = "<s>"
	}
	if r.EOS == "" {
		r.EOS = "</s>"
	}
	return r, nil
}

// LoadByteBPE reads vocab.json and merges.txt (a "#version" line, then one "a b" merge per
// line).
func LoadByteBPE(vocabPath, mergesPath string, opts *ByteBPEOptions) (*ByteBPE, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("embed: byte bpe vocabulary: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("embed: byte bpe vocabulary %s: %w", vocabPath, err)
	}
	f, err := os.Open(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("embed: byte bpe merges: %w", err)
	}
	defer f.Close()
	merges, err := readMergeLines(f)
	if err != nil {
		return nil, fmt.Errorf("embed: byte bpe merges %s: %w", mergesPath, err)
	}
	t, err := newByteBPE(vocab, merges, o)
	if err != nil {
		return nil, fmt.Errorf("embed: byte bpe %s: %w", vocabPath, err)
	}
	return t, nil
}

// readMergeLines reads "a b" lines, skipping a leading "#version" line and blank lines.
func readMergeLines(r io.Reader) ([]symbolPair, error) {
	var out []symbolPair
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimRight(sc.Text(), "\r")
		if (line == 1 && strings.HasPrefix(s, "#version")) || strings.TrimSpace(s) == "" {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want two symbols, got %q", line, s)
		}
		out = append(out, symbolPair{f[0], f[1]})
	}
	return out, sc.Err()
}

// newByteBPE builds the tokenizer with resolved options.
func newByteBPE(vocab map[string]int, merges []symbolPair, o ByteBPEOptions) (*ByteBPE, error) {
	t := &ByteBPE{vocab: vocab, ranks: make(map[symbolPair]int, len(merges)), byteToSym: byteSymbols(),
		prefix: o.AddPrefixSpace, maxLength: o.MaxLength}
	for i, m := range merges {
		if _, dup := t.ranks[m]; !dup {
			t.ranks[m] = i
		}
	}
	bos, eos := o.BOS, o.EOS
	var ok bool
	if t.bos, ok = vocab[bos]; !ok {
		return nil, fmt.Errorf("special token %s missing from the vocabulary", bos)
	}
	if t.eos, ok = vocab[eos]; !ok {
		return nil, fmt.Errorf("special token %s missing from the vocabulary", eos)
	}
	return t, nil
}

// Encode returns <s> ids </s>, truncated to the maximum length. Symbols missing from the
// vocabulary (impossible with a consistent vocabulary and merges) are skipped.
func (t *ByteBPE) Encode(text string) []int64 {
	if t.prefix && !strings.HasPrefix(text, " ") {
		text = " " + text
	}
	ids := []int64{int64(t.bos)}
	for _, w := range splitGPT2(text) {
		syms := make([]string, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = t.byteToSym[w[i]]
		}
		for _, s := range bpeMerge(t.ranks, syms) {
			id, ok := t.vocab[s]
			if !ok {
				continue
			}
			if len(ids) == t.maxLength-1 {
				return append(ids, int64(t.eos))
			}
			ids = append(ids, int64(id))
		}
	}
	return append(ids, int64(t.eos))
}

// bpeMerge applies the lowest-ranked merge until none applies.
func bpeMerge(ranks map[symbolPair]int, word []string) []string {
	for len(word) > 1 {
		best, bestRank := symbolPair{}, -1
		for i := 0; i+1 < len(word); i++ {
			p := symbolPair{word[i], word[i+1]}
			if r, ok := ranks[p]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = p, r
			}
		}
		if bestRank < 0 {
			break
		}
		out := word[:0:0]
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == best.a && word[i+1] == best.b {
				out = append(out, best.a+best.b)
				i += 2
			} else {
				out = append(out, word[i])
				i++
			}
		}
		word = out
	}
	return word
}

// splitGPT2 applies GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s string) []string { return splitGPT2With(s, isPySpace) }

// splitGPT2With is splitGPT2 with isSpace standing for \s.
func splitGPT2With(s string, isSpace func(rune) bool) []string {
	var out []string
	class := func(r rune) int {
		switch {
		case isSpace(r):
			return 0
		case unicode.IsLetter(r):
			return 1
		case unicode.IsNumber(r):
			return 2
		}
		return 3
	}
	for i := 0; i < len(s); {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if r == '\'' {
			if n := contractionCased(s[i+1:]); n > 0 {
				out = append(out, s[i:i+1+n])
				i += 1 + n
				continue
			}
		}
		j := i
		if r == ' ' && i+1 < len(s) {
			if r2, _ := utf8.DecodeRuneInString(s[i+1:]); class(r2) != 0 {
				j = i + 1
			}
		}
		r2, s2 := utf8.DecodeRuneInString(s[j:])
		if c := class(r2); c != 0 {
			k := j + s2
			for k < len(s) {
				r3, s3 := utf8.DecodeRuneInString(s[k:])
				if class(r3) != c {
					break
				}
				k += s3
			}
			out = append(out, s[i:k])
			i = k
			continue
		}
		// A whitespace run: all of it at the end of the text, else all but its last
		// character (which then starts the next token), or the single character.
		k, last := i, i
		for k < len(s) {
			r3, s3 := utf8.DecodeRuneInString(s[k:])
			if !isSpace(r3) {
				break
			}
			last = k
			k += s3
		}
		if k < len(s) && last > i {
			k = last
		}
		out = append(out, s[i:k])
		i = k
	}
	return out
}

// contractionCased is contraction without case folding.
func contractionCased(s string) int {
	for _, c := range []string{"s", "t", "re", "ve", "m", "ll", "d"} {
		if strings.HasPrefix(s, c) {
			return len(c)
		}
	}
	return 0
}
