package ftfy

import (
	"strings"
	"unicode/utf8"
)

// charmap is one single-byte encoding ftfy tries: its decoding table and the inverse
// restricted to chardata.ENCODING_REGEXES' character set (bytes 0x00..0x7F except 0x1A,
// which stand for themselves, and the characters of bytes 0x80..0xFF and 0x1A).
type charmap struct {
	name   string
	sloppy bool
	encode map[rune]byte
}

var charmaps = func() []charmap {
	out := make([]charmap, len(charmapNames))
	for i, name := range charmapNames {
		cm := charmap{name: name, sloppy: strings.HasPrefix(name, "sloppy"), encode: map[rune]byte{}}
		for b := 0; b < 0x80; b++ {
			if b != 0x1a {
				cm.encode[rune(b)] = byte(b)
			}
		}
		for b := 0x80; b < 0x100; b++ {
			cm.encode[charmapDecode[i][b]] = byte(b)
		}
		cm.encode[charmapDecode[i][0x1a]] = 0x1a
		out[i] = cm
	}
	return out
}()

const (
	latin1   = 0 // index of latin-1 in charmapNames
	macroman = 8 // index of macroman
)

// encodeAll returns text in the encoding, or false when a character has no byte there
// (chardata.possible_encoding is false).
func (cm *charmap) encodeAll(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r < 0x80 && r != 0x1a {
			out = append(out, byte(r))
			continue
		}
		b, ok := cm.encode[r]
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fixEncoding is fix_encoding_and_explain without the explanation: one step at a time
// until the text no longer changes.
func fixEncoding(text string) string {
	for round := 0; round < maxRounds; round++ {
		prev := text
		text = fixEncodingOneStep(text)
		if text == prev {
			break
		}
	}
	return text
}

// fixEncodingOneStep is _fix_encoding_one_step_and_explain.
func fixEncodingOneStep(text string) string {
	if text == "" || isASCII(text) || !IsBad(text) {
		return text
	}
	possibleLatin1 := false
	for i := range charmaps {
		cm := &charmaps[i]
		encoded, ok := cm.encodeAll(text)
		if !ok {
			continue
		}
		if i == latin1 {
			possibleLatin1 = true
		}
		if i != macroman && alteredUTF8RE.MatchString(latin1String(encoded)) {
			encoded = restoreByteA0(encoded)
		}
		if cm.sloppy {
			encoded = replaceLossySequences(encoded)
		}
		var fixed string
		if containsByte(encoded, 0xed) || containsByte(encoded, 0xc0) {
			fixed, ok = decodeUTF8Variants(encoded)
		} else {
			fixed, ok = string(encoded), utf8.Valid(encoded)
		}
		if ok {
			return fixed
		}
	}
	if utf8DetectorFind(text, 0) >= 0 {
		if fixed := decodeInconsistentUTF8(text); fixed != text {
			return fixed
		}
	}
	// ftfy returns early here when "windows-1252" is among the possible encodings; its
	// list holds "sloppy-windows-1252" only, so latin-1 text is always read as strict
	// windows-1252 when it decodes.
	if possibleLatin1 {
		if fixed, ok := latin1ToWindows1252(text); ok && fixed != text {
			return fixed
		}
	}
	for _, r := range text {
		if r >= 0x80 && r <= 0x9f {
			return fixC1Controls(text)
		}
	}
	return text
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// latin1ToWindows1252 is text.encode("latin-1").decode("windows-1252"), false when a
// byte is undefined in windows-1252. text has only characters below U+0100.
func latin1ToWindows1252(text string) (string, bool) {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		c := windows1252[byte(r)]
		if c < 0 {
			return "", false
		}
		b.WriteRune(c)
	}
	return b.String(), true
}

// decodeUTF8Variants is ftfy's utf-8-variants codec, strict: UTF-8 plus CESU-8 surrogate
// pairs (six bytes for one supplementary character) and 0xC0 0x80 for U+0000.
func decodeUTF8Variants(b []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); {
		if b[i] == 0xc0 && i+1 < len(b) && b[i+1] == 0x80 {
			out.WriteByte(0)
			i += 2
			continue
		}
		if b[i] == 0xed && i+5 < len(b) &&
			b[i+1] >= 0xa0 && b[i+1] <= 0xaf && b[i+2] >= 0x80 && b[i+2] <= 0xbf &&
			b[i+3] == 0xed && b[i+4] >= 0xb0 && b[i+4] <= 0xbf && b[i+5] >= 0x80 && b[i+5] <= 0xbf {
			cp := rune(b[i+1]&0x0f)<<16 + rune(b[i+2]&0x3f)<<10 + rune(b[i+4]&0x0f)<<6 + rune(b[i+5]&0x3f) + 0x10000
			out.WriteRune(cp)
			i += 6
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return "", false
		}
		out.WriteRune(r)
		i += size
	}
	return out.String(), true
}

// latin1String maps each byte to the character with its number, so that Go's regexp can
// match byte patterns; bytesOfLatin1 is the inverse.
func latin1String(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) * 2)
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

func bytesOfLatin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

// restoreByteA0 is fixes.restore_byte_a0: "\xc3 " not followed by " ", "quele", "quela",
// "quilo" or "s " becomes "\xc3\xa0 " (Portuguese "à"), then the spaces inside each
// ALTERED_UTF8_RE match become 0xA0.
func restoreByteA0(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xc3 && i+1 < len(b) && b[i+1] == ' ' {
			rest := b[i+2:]
			if !(hasPrefix(rest, " ") || hasPrefix(rest, "quele") || hasPrefix(rest, "quela") ||
				hasPrefix(rest, "quilo") || hasPrefix(rest, "s ")) {
				out = append(out, 0xa0, ' ')
				i++
			}
		}
	}
	s := alteredUTF8RE.ReplaceAllStringFunc(latin1String(out), func(m string) string {
		return strings.ReplaceAll(m, " ", "\u00a0")
	})
	return bytesOfLatin1(s)
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// replaceLossySequences is fixes.replace_lossy_sequences: UTF-8 sequences that lost a byte
// to 0x1A (a decoded '�') or '?' become the UTF-8 bytes of '�'.
func replaceLossySequences(b []byte) []byte {
	s := latin1String(b)
	if !lossyUTF8RE.MatchString(s) {
		return b
	}
	return bytesOfLatin1(lossyUTF8RE.ReplaceAllString(s, "\u00ef\u00bf\u00bd"))
}

// utf8DetectorFind returns the start of the first UTF8_DETECTOR_RE match at or after pos
// whose preceding character is not a strict UTF-8 continuation clue, or -1; end receives
// its end.
func utf8DetectorFind(text string, pos int) int {
	start, _ := utf8DetectorMatch(text, pos)
	return start
}

func utf8DetectorMatch(text string, pos int) (int, int) {
	for pos <= len(text) {
		loc := utf8Detector.FindStringIndex(text[pos:])
		if loc == nil {
			return -1, -1
		}
		start := pos + loc[0]
		if start > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:start])
			if utf8NotAfter.MatchString(string(r)) {
				_, size := utf8.DecodeRuneInString(text[start:])
				pos = start + size
				continue
			}
		}
		return start, pos + loc[1]
	}
	return -1, -1
}

// decodeInconsistentUTF8 is fixes.decode_inconsistent_utf8: each run that looks like UTF-8
// mojibake, shorter than the whole text and bad by itself, is fixed on its own.
func decodeInconsistentUTF8(text string) string {
	var b strings.Builder
	last := 0
	for pos := 0; pos <= len(text); {
		start, end := utf8DetectorMatch(text, pos)
		if start < 0 {
			break
		}
		sub := text[start:end]
		b.WriteString(text[last:start])
		if len(sub) < len(text) && IsBad(sub) {
			b.WriteString(fixEncoding(sub))
		} else {
			b.WriteString(sub)
		}
		last, pos = end, end
	}
	b.WriteString(text[last:])
	return b.String()
}
