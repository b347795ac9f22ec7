package ftfy

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxDecodeLength is TextFixerConfig.max_decode_length: the longest segment, in
// characters, that fix_text fixes at once.
const maxDecodeLength = 1_000_000

// maxRounds bounds the fix-until-unchanged loops of fix_and_explain and
// fix_encoding_and_explain, which ftfy leaves unbounded.
const maxRounds = 64

// FixText is ftfy.fix_text(text) with the default TextFixerConfig.
func FixText(text string) string {
	text = decodeInput(text)
	if text == "" {
		return ""
	}
	var out strings.Builder
	out.Grow(len(text))
	unescape := true
	for pos := 0; pos < len(text); {
		end := segmentEnd(text, pos)
		seg := text[pos:end]
		if unescape && strings.IndexByte(seg, '<') >= 0 {
			unescape = false
		}
		out.WriteString(fixSegment(seg, unescape))
		pos = end
	}
	return out.String()
}

// FixSegment is ftfy.fix_text_segment(text): the text fixed as one segment, with HTML
// unescaping unless it contains '<'.
func FixSegment(text string) string {
	text = decodeInput(text)
	return fixSegment(text, strings.IndexByte(text, '<') < 0)
}

// segmentEnd returns the end of the segment starting at pos: just after the next "\n", or
// after maxDecodeLength characters, whichever comes first.
func segmentEnd(text string, pos int) int {
	nl := strings.IndexByte(text[pos:], '\n')
	end := len(text)
	if nl >= 0 {
		end = pos + nl + 1
	}
	if end-pos > maxDecodeLength && utf8.RuneCountInString(text[pos:end]) > maxDecodeLength {
		i, n := pos, 0
		for n < maxDecodeLength {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			n++
		}
		end = i
	}
	return end
}

// fixSegment is fix_and_explain without the explanation.
func fixSegment(text string, unescape bool) string {
	for round := 0; round < maxRounds; round++ {
		orig := text
		if unescape {
			text = unescapeHTML(text)
		}
		text = fixEncoding(text)
		text = fixC1Controls(text)
		text = fixLatinLigatures(text)
		text = fixCharacterWidth(text)
		text = uncurlQuotes(text)
		text = fixLineBreaks(text)
		// fix_surrogates: a Go string holds no surrogates (see decodeInput).
		text = removeTerminalEscapes(text)
		text = removeControlChars(text)
		text = norm.NFC.String(text)
		if text == orig {
			break
		}
	}
	return text
}

// FixEncoding is ftfy.fix_encoding(text): only the mojibake repair.
func FixEncoding(text string) string {
	return fixEncoding(decodeInput(text))
}

// IsBad is ftfy.badness.is_bad: whether the text looks like it contains mojibake.
func IsBad(text string) bool {
	return badnessRE.MatchString(text)
}

// decodeInput makes text valid UTF-8: WTF-8 surrogate pairs become the character they
// encode, lone surrogates and every other byte Go's decoder rejects become U+FFFD.
func decodeInput(text string) string {
	if utf8.ValidString(text) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); {
		if hi, ok := surrogateAt(text, i); ok {
			if lo, ok := surrogateAt(text, i+3); ok && hi < 0xDC00 && lo >= 0xDC00 {
				b.WriteRune(0x10000 + (hi-0xD800)*0x400 + (lo - 0xDC00))
				i += 6
				continue
			}
			b.WriteRune(utf8.RuneError)
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// surrogateAt decodes a UTF-16 surrogate encoded as three UTF-8 bytes at text[i:].
func surrogateAt(text string, i int) (rune, bool) {
	if i+3 > len(text) || text[i] != 0xED || text[i+1] < 0xA0 || text[i+1] > 0xBF ||
		text[i+2] < 0x80 || text[i+2] > 0xBF {
		return 0, false
	}
	return 0xD000 | rune(text[i+1]&0x3F)<<6 | rune(text[i+2]&0x3F), true
}
