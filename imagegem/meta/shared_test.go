package meta

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// dumpText is one text of a .meta.txt dump: where it was, its key, and its text.
type dumpText struct {
	source Source
	key    string
	text   string
}

var (
	dumpSection = regexp.MustCompile(`^=== (PNG (tEXt|iTXt|zTXt) keyword="([^"]*)".*\((\d+) (?:chars|bytes)|stealth metadata .*magic="([^"]+)", (\d+) chars).* ===$`)
	dumpSub     = regexp.MustCompile(`^--- ((?:IFD0|ExifIFD)/\w+) \(0x[0-9a-f]+\).*?(\d+) chars ---$`)
	dumpEscape  = regexp.MustCompile(`\\x([0-9a-f]{2})`)
)

// readDump parses a .meta.txt file: each section's text runs to the next section line, and
// its length (in characters, as the dump says) cuts off the separator.
func readDump(t *testing.T, path string) []dumpText {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	var out []dumpText
	for i := 0; i < len(lines); i++ {
		var d dumpText
		var n int
		if m := dumpSection.FindStringSubmatch(lines[i]); m != nil {
			if m[3] != "" || m[2] != "" {
				d.source = map[string]Source{"tEXt": SourcePNGText, "iTXt": SourcePNGiTXt, "zTXt": SourcePNGzTXt}[m[2]]
				d.key = m[3]
				n, _ = strconv.Atoi(m[4])
			} else {
				d.source, d.key = SourceStealth, m[5]
				n, _ = strconv.Atoi(m[6])
			}
		} else if m := dumpSub.FindStringSubmatch(lines[i]); m != nil {
			d.source, d.key = SourceEXIF, m[1]
			n, _ = strconv.Atoi(m[2])
		} else {
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(lines[j], "=== ") && !strings.HasPrefix(lines[j], "--- ") {
			j++
		}
		body := strings.Join(lines[i+1:j], "\n")
		body = dumpEscape.ReplaceAllStringFunc(body, func(s string) string {
			v, _ := strconv.ParseUint(s[2:], 16, 8)
			return string(rune(v))
		})
		require.GreaterOrEqual(t, utf8.RuneCountInString(body), n, "%s: section %q shorter than its count", path, d.key)
		k := 0
		for r := 0; r < n; r++ {
			_, size := utf8.DecodeRuneInString(body[k:])
			k += size
		}
		require.Empty(t, strings.TrimSpace(body[k:]), "%s: section %q runs past its count", path, d.key)
		d.text = body[:k]
		out = append(out, d)
		i = j - 1
	}
	return out
}

func sharedImages(t *testing.T) []string {
	dir := shareddata.Path(t, "images")
	var files []string
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg", ".webp", ".gif":
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	require.Len(t, files, 37, "the shared folder's image count")
	return files
}

// TestSharedImagesMatchTheirDumps checks that every text of every .meta.txt dump is an entry
// of the file, byte for byte, and that the files with no dump carry no generation.
func TestSharedImagesMatchTheirDumps(t *testing.T) {
	for _, f := range sharedImages(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := ReadFile(f, &Options{Stealth: StealthAlways})
			if strings.HasSuffix(f, ".gif") {
				require.ErrorIs(t, err, ErrUnsupported)
				return
			}
			require.NoError(t, err)
			dump := f + ".meta.txt"
			if _, err := os.Stat(dump); err != nil {
				assert.Nil(t, m.Generation, "no dump, no generation (%v)", m.Entries)
				assert.NoError(t, m.GenerationErr)
				return
			}
			want := readDump(t, dump)
			require.NotEmpty(t, want)
			for _, w := range want {
				found := false
				for _, e := range m.Entries {
					if e.Source == w.source && e.Key == w.key {
						found = true
						assert.Equal(t, w.text, e.Text, "%s %s", w.source, w.key)
					}
				}
				assert.True(t, found, "no %s entry %q among %d", w.source, w.key, len(m.Entries))
			}
			require.NoError(t, m.GenerationErr)
			require.NotNil(t, m.Generation, "a dump, so a generation")
		})
	}
}
