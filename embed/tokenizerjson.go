package embed

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Tokenizer turns a text into model input ids, special tokens included, truncated to the
// model's positions. [CLIPTokenizer], [WordPiece], [ByteBPE] and [Unigram] implement it.
type Tokenizer interface {
	Encode(text string) []int64
}

var (
	_ Tokenizer = (*CLIPTokenizer)(nil)
	_ Tokenizer = (*WordPiece)(nil)
	_ Tokenizer = (*ByteBPE)(nil)
	_ Tokenizer = (*Unigram)(nil)
)

// tokenizerJSON is the part of a Hugging Face tokenizer.json that is read.
type tokenizerJSON struct {
	Normalizer *struct {
		Type               string `json:"type"`
		Lowercase          *bool  `json:"lowercase"`
		StripAccents       *bool  `json:"strip_accents"`
		HandleChineseChars *bool  `json:"handle_chinese_chars"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type           string `json:"type"`
		AddPrefixSpace *bool  `json:"add_prefix_space"`
		PrependScheme  string `json:"prepend_scheme"`
		Replacement    string `json:"replacement"`
	} `json:"pre_tokenizer"`
	PostProcessor *struct {
		Type          string          `json:"type"`
		Sep           []any           `json:"sep"`
		Cls           []any           `json:"cls"`
		Single        json.RawMessage `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int `json:"ids"`
		} `json:"special_tokens"`
	} `json:"post_processor"`
	Truncation *struct {
		MaxLength int `json:"max_length"`
	} `json:"truncation"`
	Model struct {
		Type                    string            `json:"type"`
		UnkToken                string            `json:"unk_token"`
		UnkID                   *int              `json:"unk_id"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int               `json:"max_input_chars_per_word"`
		Vocab                   json.RawMessage   `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json with a WordPiece model (BERT
// normaliser and pre-tokeniser), a BPE model with the ByteLevel pre-tokeniser (GPT-2,
// RoBERTa) or a Unigram model with the Metaspace pre-tokeniser (XLM-R, sentencepiece).
// maxLength truncates encodings, special tokens included; 0 means the file's truncation
// setting, else DefaultMaxLength; negative or 1 is an error wrapping [ErrInvalidOptions].
func LoadTokenizerJSON(path string, maxLength int) (Tokenizer, error) {
	if maxLength != 0 && maxLength < 2 {
		return nil, invalid("maxLength", "%d is below 2 (the two special tokens)", maxLength)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("embed: tokenizer: %w", err)
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, fmt.Errorf("embed: tokenizer %s: %w", path, err)
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("embed: tokenizer %s: field %s: %s", path, field, fmt.Sprintf(format, args...))
	}
	if maxLength == 0 && tj.Truncation != nil {
		if maxLength = tj.Truncation.MaxLength; maxLength < 2 {
			return nil, bad("truncation.max_length", "%d is below 2", maxLength)
		}
	}
	if maxLength == 0 {
		maxLength = DefaultMaxLength
	}
	cls, sep, err := tj.specials()
	if err != nil {
		return nil, bad("post_processor", "%v", err)
	}
	switch tj.Model.Type {
	case "WordPiece":
		var vocab map[string]int
		if err := json.Unmarshal(tj.Model.Vocab, &vocab); err != nil {
			return nil, bad("model.vocab", "want an object of ids: %v", err)
		}
		lower, strip, chinese := true, true, true
		if n := tj.Normalizer; n != nil {
			if n.Type != "BertNormalizer" {
				return nil, bad("normalizer.type", "%q not supported with WordPiece", n.Type)
			}
			if n.Lowercase != nil {
				lower = *n.Lowercase
			}
			strip = lower
			if n.StripAccents != nil {
				strip = *n.StripAccents
			}
			if n.HandleChineseChars != nil {
				chinese = *n.HandleChineseChars
			}
		}
		if cls == "" {
			cls, sep = "[CLS]", "[SEP]"
		}
		unk := tj.Model.UnkToken
		if unk == "" {
			unk = "[UNK]"
		}
		w, err := newWordPiece(vocab, unk, cls, sep, lower, strip, chinese, maxLength)
		if err != nil {
			return nil, bad("model", "%v", err)
		}
		if p := tj.Model.ContinuingSubwordPrefix; p != nil {
			w.prefix = *p
		}
		if tj.Model.MaxInputCharsPerWord > 0 {
			w.maxChars = tj.Model.MaxInputCharsPerWord
		}
		return w, nil
	case "BPE":
		if tj.PreTokenizer == nil || tj.PreTokenizer.Type != "ByteLevel" {
			return nil, bad("pre_tokenizer", "only ByteLevel is supported with BPE")
		}
		var vocab map[string]int
		if err := json.Unmarshal(tj.Model.Vocab, &vocab); err != nil {
			return nil, bad("model.vocab", "want an object of ids: %v", err)
		}
		merges := make([]symbolPair, len(tj.Model.Merges))
		for i, m := range tj.Model.Merges {
			var s string
			var pair []string
			if json.Unmarshal(m, &s) == nil {
				a, b, ok := strings.Cut(s, " ")
				if !ok {
					return nil, bad(fmt.Sprintf("model.merges[%d]", i), "want \"a b\", got %q", s)
				}
				merges[i] = symbolPair{a, b}
			} else if json.Unmarshal(m, &pair) == nil && len(pair) == 2 {
				merges[i] = symbolPair{pair[0], pair[1]}
			} else {
				return nil, bad(fmt.Sprintf("model.merges[%d]", i), "want \"a b\" or [a, b]")
			}
		}
		opts := &ByteBPEOptions{MaxLength: maxLength, BOS: cls, EOS: sep}
		if p := tj.PreTokenizer.AddPrefixSpace; p != nil {
			opts.AddPrefixSpace = *p
		}
		o, err := opts.resolve()
		if err != nil {
			return nil, err
		}
		t, err := newByteBPE(vocab, merges, o)
		if err != nil {
			return nil, bad("model", "%v", err)
		}
		return t, nil
	case "Unigram":
		var pieces [][2]any
		if err := json.Unmarshal(tj.Model.Vocab, &pieces); err != nil {
			return nil, bad("model.vocab", "want [piece, score] pairs: %v", err)
		}
		u := &Unigram{maxLength: maxLength, bos: -1, eos: -1}
		for i, p := range pieces {
			s, ok1 := p[0].(string)
			f, ok2 := p[1].(float64)
			if !ok1 || !ok2 {
				return nil, bad(fmt.Sprintf("model.vocab[%d]", i), "want [string, number]")
			}
			u.pieces = append(u.pieces, unigramPiece{s, f})
		}
		if tj.Model.UnkID == nil || *tj.Model.UnkID < 0 || *tj.Model.UnkID >= len(u.pieces) {
			return nil, bad("model.unk_id", "missing or out of range")
		}
		u.unk = *tj.Model.UnkID
		u.replacement = "\u2581"
		u.prefix = true
		if pt := tj.PreTokenizer; pt != nil {
			if pt.Replacement != "" {
				u.replacement = pt.Replacement
			}
			if pt.AddPrefixSpace != nil {
				u.prefix = *pt.AddPrefixSpace
			}
			if pt.PrependScheme == "never" {
				u.prefix = false
			}
		}
		if cls != "" {
			if u.bos, err = u.idOf(cls); err != nil {
				return nil, bad("post_processor", "%v", err)
			}
			if u.eos, err = u.idOf(sep); err != nil {
				return nil, bad("post_processor", "%v", err)
			}
		}
		u.init()
		return u, nil
	}
	return nil, bad("model.type", "%q not supported (want WordPiece, BPE or Unigram)", tj.Model.Type)
}

// specials returns the tokens the post-processor puts before and after a single
// sequence ("" when there is no post-processor).
func (tj *tokenizerJSON) specials() (cls, sep string, err error) {
	pp := tj.PostProcessor
	if pp == nil {
		return "", "", nil
	}
	name := func(v []any) string {
		if len(v) > 0 {
			if s, ok := v[0].(string); ok {
				return s
			}
		}
		return ""
	}
	switch pp.Type {
	case "BertProcessing", "RobertaProcessing":
		cls, sep = name(pp.Cls), name(pp.Sep)
		if cls == "" || sep == "" {
			return "", "", fmt.Errorf("%s without cls/sep", pp.Type)
		}
		return cls, sep, nil
	case "TemplateProcessing":
		var single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct{} `json:"Sequence"`
		}
		if err := json.Unmarshal(pp.Single, &single); err != nil {
			return "", "", fmt.Errorf("template single: %w", err)
		}
		if len(single) != 3 || single[0].SpecialToken == nil || single[1].Sequence == nil || single[2].SpecialToken == nil {
			return "", "", fmt.Errorf("only the template [special, $A, special] is supported")
		}
		return single[0].SpecialToken.ID, single[2].SpecialToken.ID, nil
	}
	return "", "", fmt.Errorf("type %q not supported", pp.Type)
}
