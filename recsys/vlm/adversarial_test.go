package vlm

import (
	"strings"
	"testing"
	"time"
)

// TestParseScoresIsFastOnHostileReplies guards against inputs that would make the lenient
// reader quadratic: a 200 kB reply of any of these shapes is read in well under a second.
func TestParseScoresIsFastOnHostileReplies(t *testing.T) {
	const n = 200_000
	for _, s := range []string{
		strings.Repeat("{", n),
		strings.Repeat("[", n),
		strings.Repeat("[{", n/2),
		strings.Repeat("{a:", n/3),
		strings.Repeat("{'", n/2),
		strings.Repeat(`{"id": 1, `, n/10),
		strings.Repeat("[x ", n/3),
		strings.Repeat("Image 1: 5\n", n/11),
		strings.Repeat("{}", n/2),
		strings.Repeat("[1,", n/3),
		strings.Repeat("`", n),
	} {
		t0 := time.Now()
		ParseScores(s, []string{"1", "2"}, false)
		_, _ = ParseProfile(s)
		if d := time.Since(t0); d > time.Second {
			t.Errorf("%.12q…: %v", s, d)
		}
	}
}
