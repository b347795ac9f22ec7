package ftfy

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	badnessRE     = regexp.MustCompile(badnessPattern)
	htmlEntityRE  = regexp.MustCompile(htmlEntityPattern)
	ansiRE        = regexp.MustCompile(ansiPattern)
	utf8Detector  = regexp.MustCompile(utf8DetectorPattern)
	utf8NotAfter  = regexp.MustCompile("^" + utf8DetectorNotAfter + "$")
	alteredUTF8RE = regexp.MustCompile(alteredUTF8Pattern)
	lossyUTF8RE   = regexp.MustCompile(lossyUTF8Pattern)
)

// unescapeHTML is fixes.unescape_html: every "&name;" or "&#number;" of at most 24
// letters and digits is replaced by its text when ftfy knows it.
func unescapeHTML(text string) string {
	if strings.IndexByte(text, '&') < 0 {
		return text
	}
	return htmlEntityRE.ReplaceAllStringFunc(text, func(m string) string {
		if s, ok := htmlEntities[m]; ok {
			return s
		}
		if strings.HasPrefix(m, "&#") {
			if s := unescapeCharref(m); !strings.Contains(s, ";") {
				return s
			}
		}
		return m
	})
}

// unescapeCharref is Python's html.unescape applied to m, which is "&#" followed by 1..23
// ASCII letters and digits and ";": a decimal or hexadecimal reference with its optional
// ';' is replaced, the rest kept.
func unescapeCharref(m string) string {
	body := m[2:]
	hex := false
	digits := 0
	if body[0] == 'x' || body[0] == 'X' {
		hex = true
		for digits < len(body)-1 && isHexDigit(body[1+digits]) {
			digits++
		}
		if digits == 0 {
			return m
		}
	} else {
		for digits < len(body) && body[digits] >= '0' && body[digits] <= '9' {
			digits++
		}
		if digits == 0 {
			return m
		}
	}
	start := 0
	if hex {
		start = 1
	}
	num := 0
	for _, c := range []byte(body[start : start+digits]) {
		d := int(c - '0')
		if hex {
			d = hexValue(c)
			num = num*16 + d
		} else {
			num = num*10 + d
		}
		if num > 0x10FFFF {
			num = 0x110000 // larger than any code point; stays so
		}
	}
	rest := body[start+digits:]
	rest = strings.TrimPrefix(rest, ";")
	var rep string
	switch s, ok := invalidCharrefs[num]; {
	case ok:
		rep = s
	case (num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF:
		rep = "\uFFFD"
	case invalidCodepoints[num]:
		rep = ""
	default:
		rep = string(rune(num))
	}
	return rep + rest
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexValue(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// removeTerminalEscapes is fixes.remove_terminal_escapes: ANSI "ESC [ digits;... letter"
// sequences are deleted.
func removeTerminalEscapes(text string) string {
	if strings.IndexByte(text, 0x1b) < 0 {
		return text
	}
	return ansiRE.ReplaceAllString(text, "")
}

// uncurlQuotes is fixes.uncurl_quotes: U+02BC and U+2018..U+201B become "'", U+201C..U+201F
// become '"'.
func uncurlQuotes(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		switch {
		case r == 0x2bc || (r >= 0x2018 && r <= 0x201b):
			return "'", true
		case r >= 0x201c && r <= 0x201f:
			return `"`, true
		}
		return "", false
	})
}

// fixLatinLigatures is fixes.fix_latin_ligatures.
func fixLatinLigatures(text string) string { return translate(text, ligatures) }

// fixCharacterWidth is fixes.fix_character_width.
func fixCharacterWidth(text string) string { return translate(text, widthMap) }

// removeControlChars is fixes.remove_control_chars.
func removeControlChars(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		if controlChars[r] {
			return "", true
		}
		return "", false
	})
}

// fixLineBreaks is fixes.fix_line_breaks: "\r\n", "\r", U+2028, U+2029 and U+0085 become
// "\n".
func fixLineBreaks(text string) string {
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return mapRunes(text, func(r rune) (string, bool) {
		if r == 0x2028 || r == 0x2029 || r == 0x85 {
			return "\n", true
		}
		return "", false
	})
}

// fixC1Controls is fixes.fix_c1_controls: U+0080..U+009F become the characters their byte
// has in sloppy-windows-1252.
func fixC1Controls(text string) string {
	sloppy1252 := &charmapDecode[1]
	return mapRunes(text, func(r rune) (string, bool) {
		if r >= 0x80 && r <= 0x9f {
			return string(sloppy1252[r]), true
		}
		return "", false
	})
}

func translate(text string, table map[rune]string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		s, ok := table[r]
		return s, ok
	})
}

// mapRunes replaces every character for which f reports true by f's string; ASCII text,
// which none of the tables touches except controlChars, is scanned byte by byte.
func mapRunes(text string, f func(rune) (string, bool)) string {
	var b *strings.Builder
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		s, ok := f(r)
		if ok && b == nil {
			b = &strings.Builder{}
			b.Grow(len(text))
			b.WriteString(text[:i])
		}
		if b != nil {
			if ok {
				b.WriteString(s)
			} else {
				b.WriteString(text[i : i+size])
			}
		}
		i += size
	}
	if b == nil {
		return text
	}
	return b.String()
}
