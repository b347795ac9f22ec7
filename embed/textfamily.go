package embed

import (
	"fmt"

	"github.com/imagegem/imagegem-go/embed/ftfy"
)

// TextFamily names the text pipeline a [CLIPTokenizer] runs before byte-pair encoding:
// each model family was trained on the text its own reference tokenizer produced.
type TextFamily string

const (
	// TextOpenAI is OpenAI's clip.tokenize (clip/simple_tokenizer.py, used by CLIPScore
	// ViT-B/32): ftfy.fix_text, html.unescape twice, whitespace collapsed, lower-cased;
	// <|startoftext|> and <|endoftext|> in the text are the special tokens.
	TextOpenAI TextFamily = "openai"
	// TextOpenCLIP is open_clip's SimpleTokenizer (clean="lower", used by HPSv2): the same
	// cleaning, with the special tokens spelled <start_of_text> and <end_of_text>.
	TextOpenCLIP TextFamily = "open_clip"
	// TextHF is Hugging Face's CLIPTokenizerFast (PickScore's processor): exactly the
	// added tokens, normalizers (NFC, whitespace replacement, lower-casing, ...) and
	// pre-tokenizers its tokenizer.json declares, and no ftfy.
	TextHF TextFamily = "hf"
)

// specials returns the spellings of the start and end tokens the family's split pattern
// recognises in the text.
func (f TextFamily) specials() [2]string {
	if f == TextOpenCLIP {
		return [2]string{"<start_of_text>", "<end_of_text>"}
	}
	return [2]string{"<|startoftext|>", "<|endoftext|>"}
}

func (f TextFamily) check(field string) error {
	switch f {
	case "", TextOpenAI, TextOpenCLIP, TextHF:
		return nil
	}
	return invalid(field, "%q is not a text family (want %q, %q or %q)", string(f), TextOpenAI, TextOpenCLIP, TextHF)
}

// Family reports the text pipeline the tokenizer runs.
func (t *CLIPTokenizer) Family() TextFamily { return t.family }

// WithFamily returns a tokenizer with the same vocabulary that runs the text pipeline of
// family f, TextOpenAI or TextOpenCLIP; TextHF needs a tokenizer.json
// ([LoadCLIPTokenizerJSON]) unless t was loaded from one.
func (t *CLIPTokenizer) WithFamily(f TextFamily) (*CLIPTokenizer, error) {
	if err := f.check("TextFamily"); err != nil {
		return nil, err
	}
	if f == "" {
		f = TextOpenAI
	}
	if f == TextHF && t.hf == nil {
		return nil, invalid("TextFamily", "%q needs a tokenizer.json (LoadCLIPTokenizerJSON)", string(f))
	}
	c := &CLIPTokenizer{encoder: t.encoder, decoder: t.decoder, ranks: t.ranks, byteToSym: t.byteToSym,
		family: f, specials: f.specials(), cache: map[string][]int{}}
	if f == TextHF {
		c.hf = t.hf
	}
	return c, nil
}

// clean is the text the split pattern of the OpenAI and open_clip families sees:
// basic_clean (ftfy.fix_text, html.unescape twice, strip), whitespace_clean, lower().
func clean(text string) string {
	return cleanText(ftfy.FixText(text))
}

// pieces returns the words the tokenizer encodes, in order; a word whose id is not -1 is
// a special token.
func (t *CLIPTokenizer) pieces(text string, emit func(w string, special int) bool) {
	if t.hf != nil && t.family == TextHF {
		t.hf.pieces(text, emit)
		return
	}
	for _, w := range splitCLIP(clean(text), t.specials) {
		special := -1
		switch w {
		case t.specials[0]:
			special = StartToken
		case t.specials[1]:
			special = EndToken
		}
		if !emit(w, special) {
			return
		}
	}
}

func (f TextFamily) String() string { return string(f) }

var _ fmt.Stringer = TextOpenAI
