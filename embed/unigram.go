package embed

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unigramUnkPenalty is how much lower than the lowest piece score an unknown character
// scores (kUnkPenalty = 10 in sentencepiece's unigram model and in tokenizers).
const unigramUnkPenalty = 10.0

type unigramPiece struct {
	piece string
	score float64
}

// Unigram is sentencepiece's unigram language-model tokenizer as tokenizer.json describes
// it (XLM-R): NFKC normalisation, runs of spaces collapsed, spaces replaced by "▁" with one
// prepended, then the most probable segmentation (Viterbi over piece log-probabilities),
// consecutive unknown characters fused into one unknown id. The exact normaliser of
// sentencepiece models (a precompiled character map) is approximated by NFKC.
type Unigram struct {
	pieces      []unigramPiece
	index       map[string]int
	maxPieceLen int
	unk         int
	unkScore    float64
	bos, eos    int
	replacement string
	prefix      bool
	maxLength   int
}

func (u *Unigram) idOf(s string) (int, error) {
	for i, p := range u.pieces {
		if p.piece == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("special token %s missing from the vocabulary", s)
}

func (u *Unigram) init() {
	u.index = make(map[string]int, len(u.pieces))
	minScore := math.Inf(1)
	for i, p := range u.pieces {
		if _, dup := u.index[p.piece]; !dup {
			u.index[p.piece] = i
		}
		u.maxPieceLen = max(u.maxPieceLen, len(p.piece))
		minScore = math.Min(minScore, p.score)
	}
	u.unkScore = minScore - unigramUnkPenalty
	if u.maxLength <= 0 {
		u.maxLength = DefaultMaxLength
	}
}

// Encode returns [bos] ids [eos] (bos and eos when the post-processor names them),
// truncated to the maximum length.
func (u *Unigram) Encode(text string) []int64 {
	text = norm.NFKC.String(text)
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r == ' ' }), " ")
	if text == "" {
		return u.wrap(nil)
	}
	s := strings.ReplaceAll(text, " ", u.replacement)
	if u.prefix && !strings.HasPrefix(s, u.replacement) {
		s = u.replacement + s
	}
	return u.wrap(u.viterbi(s))
}

func (u *Unigram) wrap(ids []int64) []int64 {
	var out []int64
	room := u.maxLength
	if u.bos >= 0 {
		out = append(out, int64(u.bos))
		room -= 2
	}
	if len(ids) > room {
		ids = ids[:max(room, 0)]
	}
	out = append(out, ids...)
	if u.eos >= 0 {
		out = append(out, int64(u.eos))
	}
	return out
}

// viterbi returns the highest-scoring segmentation of s into pieces.
func (u *Unigram) viterbi(s string) []int64 {
	n := len(s)
	best := make([]float64, n+1)
	from := make([]int, n+1)
	piece := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i] = math.Inf(-1)
	}
	for i := 0; i < n; i++ {
		if math.IsInf(best[i], -1) || !utf8.RuneStart(s[i]) {
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		matched := false
		for j := i + 1; j <= n && j-i <= u.maxPieceLen; j++ {
			if j < n && !utf8.RuneStart(s[j]) {
				continue
			}
			if id, ok := u.index[s[i:j]]; ok && id != u.unk {
				if j == i+size {
					matched = true
				}
				if sc := best[i] + u.pieces[id].score; sc > best[j] {
					best[j], from[j], piece[j] = sc, i, id
				}
			}
		}
		if !matched {
			if sc := best[i] + u.unkScore; sc > best[i+size] {
				best[i+size], from[i+size], piece[i+size] = sc, i, u.unk
			}
		}
	}
	var rev []int64
	for j := n; j > 0; j = from[j] {
		id := int64(piece[j])
		if id == int64(u.unk) && len(rev) > 0 && rev[len(rev)-1] == id {
			continue // fuse consecutive unknowns
		}
		rev = append(rev, id)
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}
