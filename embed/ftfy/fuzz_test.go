package ftfy

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// FuzzFixText checks that FixText never panics, always returns valid UTF-8, and that
// fixing a segment twice changes nothing more, as in ftfy, whose fix_and_explain repeats
// its steps until the text is stable (the HTML step aside: it is off for text with '<',
// which unescaping can create).
func FuzzFixText(f *testing.F) {
	for _, s := range []string{
		"", "cafÃ©", "â€œquotedâ€\x9d", "&amp;&lt;", "\x1b[31mred", "ﬁ ＬＯＵＤ", "e\u0301",
		"\xed\xa0\xbd\xed\xb8\x80", "\xff\xfe", "a\r\nb\rc", "Ã  quelques", "Ã¡\x1a Ã?",
		"ÃƒÂ©", "\x00\x7f\ufeff", "&#x1F600; &#0; &#99999999999999999999;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := FixText(s)
		assert.True(t, utf8.ValidString(out))
		seg := FixSegment(s)
		if strings.Contains(s, "<") == strings.Contains(seg, "<") {
			assert.Equal(t, seg, FixSegment(seg), "input %q", s)
		}
	})
}

func TestBadInput(t *testing.T) {
	assert.Equal(t, "a\uFFFDb", FixText("a\xffb"), "invalid UTF-8")
	assert.Equal(t, "😀", FixText("\xed\xa0\xbd\xed\xb8\x80"), "WTF-8 surrogate pair")
	assert.Equal(t, "\uFFFDx", FixText("\xed\xa0\xbdx"), "lone surrogate")
	assert.Equal(t, "ab", FixText("a\x00b"), "NUL is a control character ftfy removes")
	// A 1 MB prompt (ftfy 6.3.1: the mojibake at its end is fixed, one character less).
	big := strings.Repeat("a photo of a cat, ", 1<<20/18) + "cafÃ©"
	out := FixText(big)
	assert.True(t, strings.HasSuffix(out, "café"))
	assert.Equal(t, utf8.RuneCountInString(big)-1, utf8.RuneCountInString(out))
	// Segments of 1,000,000 characters: "Ã" ends the first, "©Ã©" is the second, and
	// neither is fixed (ftfy 6.3.1 returns the text unchanged).
	long := strings.Repeat("x", maxDecodeLength-1) + "Ã©Ã©"
	assert.True(t, long == FixText(long))
}
