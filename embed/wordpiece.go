package embed

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Defaults of BERT's tokenizer (Transformers BertTokenizer, tokenizers WordPiece).
const (
	// DefaultMaxLength is the position limit of BERT and RoBERTa (512 tokens with the
	// special tokens).
	DefaultMaxLength = 512
	// wordPieceMaxChars is max_input_chars_per_word: longer words become [UNK].
	wordPieceMaxChars = 100
	// wordPiecePrefix is continuing_subword_prefix.
	wordPiecePrefix = "##"
)

// WordPiece is BERT's tokenizer: basic tokenisation (clean text, CJK characters split off,
// optional lower-casing and accent stripping, punctuation split) followed by greedy
// longest-match-first WordPiece, with [CLS] and [SEP] added. It is safe for concurrent use.
type WordPiece struct {
	vocab     map[string]int
	unk       int
	cls, sep  int
	lower     bool
	strip     bool
	chinese   bool
	maxLength int
	prefix    string
	maxChars  int
}

// WordPieceOptions configures [LoadWordPiece]; nil and the zero value are
// bert-base-uncased's (lower-case, strip accents, split CJK characters, 512 tokens).
type WordPieceOptions struct {
	// Cased keeps case and accents (bert-base-cased, bert-base-multilingual-cased).
	Cased bool
	// MaxLength truncates encodings, special tokens included; 0 means DefaultMaxLength,
	// and a length below 2 is an error.
	MaxLength int
}

// resolve validates o and returns a copy with the defaults filled in.
func (o *WordPieceOptions) resolve() (WordPieceOptions, error) {
	var r WordPieceOptions
	if o != nil {
		r = *o
	}
	var err error
	r.MaxLength, err = maxLength("MaxLength", r.MaxLength)
	return r, err
}

// LoadWordPiece reads a BERT vocab.txt (one token per line, id = line number - 1).
func LoadWordPiece(path string, opts *WordPieceOptions) (*WordPiece, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embed: wordpiece vocabulary: %w", err)
	}
	defer f.Close()
	vocab := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 0; sc.Scan(); n++ {
		tok := strings.TrimRight(sc.Text(), "\r")
		if _, dup := vocab[tok]; !dup {
			vocab[tok] = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("embed: wordpiece vocabulary %s: %w", path, err)
	}
	w, err := newWordPiece(vocab, "[UNK]", "[CLS]", "[SEP]", !o.Cased, !o.Cased, true, o.MaxLength)
	if err != nil {
		return nil, fmt.Errorf("embed: wordpiece vocabulary %s: %w", path, err)
	}
	return w, nil
}

// newWordPiece builds the tokenizer; maxLength is resolved (at least 2).
func newWordPiece(vocab map[string]int, unk, cls, sep string, lower, strip, chinese bool, maxLength int) (*WordPiece, error) {
	w := &WordPiece{vocab: vocab, lower: lower, strip: strip, chinese: chinese, maxLength: maxLength,
		prefix: wordPiecePrefix, maxChars: wordPieceMaxChars}
	for _, s := range []struct {
		name string
		dst  *int
	}{{unk, &w.unk}, {cls, &w.cls}, {sep, &w.sep}} {
		id, ok := vocab[s.name]
		if !ok {
			return nil, fmt.Errorf("special token %s missing from the vocabulary", s.name)
		}
		*s.dst = id
	}
	return w, nil
}

// Encode returns [CLS] ids [SEP], truncated to the maximum length.
func (w *WordPiece) Encode(text string) []int64 {
	ids := []int64{int64(w.cls)}
	for _, word := range w.basic(text) {
		for _, id := range w.pieces(word) {
			if len(ids) == w.maxLength-1 {
				return append(ids, int64(w.sep))
			}
			ids = append(ids, int64(id))
		}
	}
	return append(ids, int64(w.sep))
}

func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Unassigned code points (category Cn).
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

func isBertSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

func isBertPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

// isCJK is BERT's _is_chinese_char: the CJK Unified Ideographs blocks and extensions.
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) || (r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) || (r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// basic is BERT's BasicTokenizer.
func (w *WordPiece) basic(text string) []string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == 0 || r == 0xFFFD || isBertControl(r):
		case isBertSpace(r):
			b.WriteByte(' ')
		case w.chinese && isCJK(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	var out []string
	for _, tok := range strings.Fields(b.String()) {
		if w.lower {
			tok = pyLower(tok)
		}
		if w.strip {
			var s strings.Builder
			for _, r := range norm.NFD.String(tok) {
				if !unicode.Is(unicode.Mn, r) {
					s.WriteRune(r)
				}
			}
			tok = s.String()
		}
		start := 0
		for i, r := range tok {
			if isBertPunct(r) {
				if i > start {
					out = append(out, tok[start:i])
				}
				out = append(out, string(r))
				start = i + len(string(r))
			}
		}
		if start < len(tok) {
			out = append(out, tok[start:])
		}
	}
	return out
}

// pieces is greedy longest-match-first WordPiece on one word.
func (w *WordPiece) pieces(word string) []int {
	rs := []rune(word)
	if len(rs) > w.maxChars {
		return []int{w.unk}
	}
	var out []int
	for start := 0; start < len(rs); {
		end, found := len(rs), -1
		for ; start < end; end-- {
			s := string(rs[start:end])
			if start > 0 {
				s = w.prefix + s
			}
			if id, ok := w.vocab[s]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return []int{w.unk}
		}
		out = append(out, found)
		start = end
	}
	return out
}
