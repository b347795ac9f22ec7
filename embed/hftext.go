package embed

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// hfText is the text side of a Hugging Face tokenizer.json for CLIP's BPE: its added
// tokens and the normalizers and pre-tokenizers the file declares, run in the order of
// the tokenizers library (added tokens with normalized=false are found in the raw text,
// the rest is normalised, added tokens with normalized=true are found in the normalised
// text, the rest is pre-tokenised).
type hfText struct {
	raw, normalized []hfAdded // longest first
	normalize       []func(string) string
	preTokenize     []func([]string) []string
}

type hfAdded struct {
	content string
	id      int
}

type hfJSON struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor *struct {
		Type string `json:"type"`
		Cls  []any  `json:"cls"`
		Sep  []any  `json:"sep"`
	} `json:"post_processor"`
	Model struct {
		Type            string            `json:"type"`
		EndOfWordSuffix string            `json:"end_of_word_suffix"`
		Vocab           map[string]int    `json:"vocab"`
		Merges          []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// hfStep is one normalizer or pre-tokenizer object.
type hfStep struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Pattern       *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content        string `json:"content"`
	Behavior       string `json:"behavior"`
	Invert         bool   `json:"invert"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
	StripLeft      bool   `json:"left"`
	StripRight     bool   `json:"right"`
}

// LoadCLIPTokenizerJSON reads a Hugging Face tokenizer.json of a CLIP model (BPE with the
// </w> suffix, as CLIPTokenizerFast saves it) into a tokenizer of the [TextHF] family.
// Normalizers NFC, NFD, NFKC, NFKD, Lowercase, Replace and Strip and pre-tokenizers Split
// and ByteLevel are supported; any other is an error naming its field.
func LoadCLIPTokenizerJSON(path string) (*CLIPTokenizer, error) {
	var tj hfJSON
	ok, err := readJSON(path, &tj)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("embed: tokenizer %s: file not found", path)
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("embed: %s: field %s: %s", path, field, fmt.Sprintf(format, args...))
	}
	if tj.Model.Type != "BPE" || tj.Model.EndOfWordSuffix != endOfWord {
		return nil, bad("model", "type %q with end_of_word_suffix %q is not CLIP's BPE", tj.Model.Type, tj.Model.EndOfWordSuffix)
	}
	var b strings.Builder
	b.WriteString("#version: 0.2\n")
	for i, m := range tj.Model.Merges {
		var s string
		if err := json.Unmarshal(m, &s); err != nil {
			var pair []string
			if err := json.Unmarshal(m, &pair); err != nil || len(pair) != 2 {
				return nil, bad(fmt.Sprintf("model.merges[%d]", i), "want \"a b\" or [a, b]")
			}
			s = pair[0] + " " + pair[1]
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	t, err := readCLIPMerges(strings.NewReader(b.String()))
	if err != nil {
		return nil, fmt.Errorf("embed: %s: %w", path, err)
	}
	if len(tj.Model.Vocab) > 0 {
		for s, id := range tj.Model.Vocab {
			if got, ok := t.encoder[s]; !ok || got != id {
				return nil, bad("model.vocab", "%q has id %d, the merges give it %d", s, id, got)
			}
		}
	}
	if pp := tj.PostProcessor; pp != nil {
		if pp.Type != "RobertaProcessing" && pp.Type != "BertProcessing" {
			return nil, bad("post_processor.type", "%q not supported", pp.Type)
		}
		if len(pp.Cls) != 2 || len(pp.Sep) != 2 || pp.Cls[1] != float64(StartToken) || pp.Sep[1] != float64(EndToken) {
			return nil, bad("post_processor", "cls and sep must be ids %d and %d", StartToken, EndToken)
		}
	}
	h := &hfText{}
	for _, a := range tj.AddedTokens {
		if a.Content == "" {
			continue
		}
		if a.Normalized {
			h.normalized = append(h.normalized, hfAdded{a.Content, a.ID})
		} else {
			h.raw = append(h.raw, hfAdded{a.Content, a.ID})
		}
	}
	if len(tj.Normalizer) > 0 && string(tj.Normalizer) != "null" {
		if err := h.addNormalizer(tj.Normalizer, "normalizer"); err != nil {
			return nil, fmt.Errorf("embed: %s: %w", path, err)
		}
	}
	for i, a := range h.normalized {
		h.normalized[i].content = h.normalizeText(a.content)
	}
	for _, list := range [][]hfAdded{h.raw, h.normalized} {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].content) > len(list[j].content) })
	}
	if len(tj.PreTokenizer) > 0 && string(tj.PreTokenizer) != "null" {
		if err := h.addPreTokenizer(tj.PreTokenizer, "pre_tokenizer"); err != nil {
			return nil, fmt.Errorf("embed: %s: %w", path, err)
		}
	}
	t.family = TextHF
	t.specials = TextHF.specials()
	t.hf = h
	return t, nil
}

func (h *hfText) addNormalizer(raw json.RawMessage, field string) error {
	var s hfStep
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("field %s: %w", field, err)
	}
	switch s.Type {
	case "Sequence":
		for i, n := range s.Normalizers {
			if err := h.addNormalizer(n, fmt.Sprintf("%s.normalizers[%d]", field, i)); err != nil {
				return err
			}
		}
	case "NFC":
		h.normalize = append(h.normalize, norm.NFC.String)
	case "NFD":
		h.normalize = append(h.normalize, norm.NFD.String)
	case "NFKC":
		h.normalize = append(h.normalize, norm.NFKC.String)
	case "NFKD":
		h.normalize = append(h.normalize, norm.NFKD.String)
	case "Lowercase":
		h.normalize = append(h.normalize, rustLower)
	case "Strip":
		l, r := s.StripLeft, s.StripRight
		h.normalize = append(h.normalize, func(x string) string {
			if l {
				x = strings.TrimLeftFunc(x, unicode.IsSpace)
			}
			if r {
				x = strings.TrimRightFunc(x, unicode.IsSpace)
			}
			return x
		})
	case "Replace":
		re, lit, err := hfPattern(s.Pattern, field)
		if err != nil {
			return err
		}
		content := s.Content
		if re != nil {
			h.normalize = append(h.normalize, func(x string) string { return re.ReplaceAllLiteralString(x, content) })
		} else {
			h.normalize = append(h.normalize, func(x string) string { return strings.ReplaceAll(x, lit, content) })
		}
	default:
		return fmt.Errorf("field %s.type: normalizer %q not supported", field, s.Type)
	}
	return nil
}

func (h *hfText) addPreTokenizer(raw json.RawMessage, field string) error {
	var s hfStep
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("field %s: %w", field, err)
	}
	switch s.Type {
	case "Sequence":
		for i, p := range s.Pretokenizers {
			if err := h.addPreTokenizer(p, fmt.Sprintf("%s.pretokenizers[%d]", field, i)); err != nil {
				return err
			}
		}
	case "Split":
		re, lit, err := hfPattern(s.Pattern, field)
		if err != nil {
			return err
		}
		if re == nil {
			re = regexp.MustCompile(regexp.QuoteMeta(lit))
		}
		if s.Behavior != "Removed" && s.Behavior != "Isolated" {
			return fmt.Errorf("field %s.behavior: %q not supported (want Removed or Isolated)", field, s.Behavior)
		}
		keepMatches := s.Behavior == "Isolated" || s.Invert
		keepRest := s.Behavior == "Isolated" || !s.Invert
		h.preTokenize = append(h.preTokenize, func(in []string) []string {
			var out []string
			for _, x := range in {
				last := 0
				for _, m := range re.FindAllStringIndex(x, -1) {
					if keepRest && m[0] > last {
						out = append(out, x[last:m[0]])
					}
					if keepMatches && m[1] > m[0] {
						out = append(out, x[m[0]:m[1]])
					}
					last = m[1]
				}
				if keepRest && last < len(x) {
					out = append(out, x[last:])
				}
			}
			return out
		})
	case "ByteLevel":
		prefix := s.AddPrefixSpace
		useRegex := s.UseRegex == nil || *s.UseRegex
		h.preTokenize = append(h.preTokenize, func(in []string) []string {
			var out []string
			for _, x := range in {
				if prefix && !strings.HasPrefix(x, " ") {
					x = " " + x
				}
				if useRegex {
					out = append(out, splitGPT2With(x, unicode.IsSpace)...)
				} else {
					out = append(out, x)
				}
			}
			return out
		})
	default:
		return fmt.Errorf("field %s.type: pre-tokenizer %q not supported", field, s.Type)
	}
	return nil
}

// hfPattern compiles a tokenizer.json pattern: a regular expression (Oniguruma's syntax,
// whose \s, \d and \w are Unicode classes, rewritten for Go's regexp) or a literal string.
func hfPattern(p *struct {
	Regex  *string `json:"Regex"`
	String *string `json:"String"`
}, field string) (*regexp.Regexp, string, error) {
	switch {
	case p == nil:
		return nil, "", fmt.Errorf("field %s.pattern: missing", field)
	case p.String != nil:
		return nil, *p.String, nil
	case p.Regex != nil:
		re, err := regexp.Compile(onigToGo(*p.Regex))
		if err != nil {
			return nil, "", fmt.Errorf("field %s.pattern.Regex: %w", field, err)
		}
		return re, "", nil
	}
	return nil, "", fmt.Errorf("field %s.pattern: want Regex or String", field)
}

// Unicode White_Space, Oniguruma's \s for UTF-8 text; \d is Nd and \w letters, marks,
// decimal digits and connector punctuation.
const (
	onigSpace = `\t-\r\x{85}\p{Z}`
	onigDigit = `\p{Nd}`
	onigWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
)

func onigToGo(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			e := p[i+1]
			var cls string
			neg := false
			switch e {
			case 's', 'S':
				cls, neg = onigSpace, e == 'S'
			case 'd', 'D':
				cls, neg = onigDigit, e == 'D'
			case 'w', 'W':
				cls, neg = onigWord, e == 'W'
			}
			switch {
			case cls != "" && inClass && !neg:
				b.WriteString(cls)
			case cls != "" && !inClass:
				if neg {
					b.WriteString("[^" + cls + "]")
				} else {
					b.WriteString("[" + cls + "]")
				}
			default:
				b.WriteByte(c)
				b.WriteByte(e)
			}
			i++
			continue
		}
		switch {
		case c == '[' && !inClass:
			inClass = true
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// rustLower lower-cases each character on its own, as Rust's char::to_lowercase does for
// the tokenizers library's Lowercase normalizer: no final-sigma rule, U+0130 becomes
// "i̇".
func rustLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == 0x130 {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func (h *hfText) normalizeText(s string) string {
	for _, f := range h.normalize {
		s = f(s)
	}
	return s
}

// pieces emits the words of text: added tokens (with their ids) and the pre-tokenised
// words of the normalised text between them.
func (h *hfText) pieces(text string, emit func(string, int) bool) {
	cont := true
	splitAdded(text, h.raw, func(seg string, id int) bool {
		if id >= 0 {
			cont = emit(seg, id)
			return cont
		}
		splitAdded(h.normalizeText(seg), h.normalized, func(seg string, id int) bool {
			if id >= 0 {
				cont = emit(seg, id)
				return cont
			}
			words := []string{seg}
			for _, f := range h.preTokenize {
				words = f(words)
			}
			for _, w := range words {
				if w == "" {
					continue
				}
				if cont = emit(w, -1); !cont {
					return false
				}
			}
			return true
		})
		return cont
	})
}

// splitAdded cuts s at the leftmost-longest occurrences of the tokens (sorted longest
// first) and calls f with each segment, id -1 for text between tokens.
func splitAdded(s string, tokens []hfAdded, f func(string, int) bool) {
	last := 0
	for i := 0; i < len(s); {
		matched := false
		for _, tk := range tokens {
			if strings.HasPrefix(s[i:], tk.content) {
				if i > last && !f(s[last:i], -1) {
					return
				}
				if !f(tk.content, tk.id) {
					return
				}
				i += len(tk.content)
				last = i
				matched = true
				break
			}
		}
		if !matched {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	if last < len(s) {
		f(s[last:], -1)
	}
}
