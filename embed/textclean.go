package embed

import (
	"html"
	"strings"
	"unicode"
)

// isPySpace reports whether Python's str.isspace (and so the re module's \s on str)
// treats r as whitespace: Unicode White_Space plus the information separators
// U+001C..U+001F, which Python counts as whitespace through their bidirectional class.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// cleanText applies the steps of OpenAI's simple_tokenizer before the split regex:
// html.unescape twice, strip, collapse whitespace runs to one space, strip, lower-case.
// ftfy.fix_text, which the reference runs first, is not applied: it only changes mojibake
// and a few compatibility characters (see the package documentation).
func cleanText(s string) string {
	s = html.UnescapeString(html.UnescapeString(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if isPySpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return pyLower(b.String())
}

// pyLower lower-cases like Python's str.lower: full Unicode case mapping, where U+0130
// (capital I with dot) becomes "i̇" and a capital sigma at the end of a word becomes the
// final form ς.
func pyLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma implements Unicode's Final_Sigma condition as Python applies it: a cased
// letter (skipping case-ignorable characters) before position i and none after.
func finalSigma(rs []rune, i int) bool {
	cased := func(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }
	ignorable := func(r rune) bool {
		return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
			r == '\'' || r == '.' || r == ':' || r == 0x2019 || r == 0xb7
	}
	before := false
	for j := i - 1; j >= 0; j-- {
		if ignorable(rs[j]) {
			continue
		}
		before = cased(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if ignorable(rs[j]) {
			continue
		}
		return !cased(rs[j])
	}
	return true
}
