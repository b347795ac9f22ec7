package vlm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// truth is the score the scripted model gives each candidate image, read from its URL.
func truth(url string) float64 {
	n, _ := strconv.Atoi(strings.TrimSuffix(url[strings.LastIndex(url, "/")+1:], ".png"))
	return float64(10 * n)
}

var labelsLine = regexp.MustCompile(`in this order:((?: \d+)+)\.`)

// rankServer scores each request from its recorded body.
func rankServer(t *testing.T, skip map[string]bool, fail map[int]bool) *fake {
	f := newFake(t)
	f.fallback = func(w http.ResponseWriter, r *http.Request) {
		ps := parts(t, bodyOf(r))
		m := labelsLine.FindStringSubmatch(ps[0]["text"].(string))
		if m == nil {
			http.Error(w, "no labels", http.StatusBadRequest)
			return
		}
		labels := strings.Fields(m[1])
		var items []map[string]any
		for j, l := range labels {
			url := ps[1+j]["image_url"].(map[string]any)["url"].(string)
			if skip[url] {
				continue
			}
			if fail[int(truth(url))/10] {
				http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
				return
			}
			items = append(items, map[string]any{"id": l, "score": truth(url), "explanation": "because " + url})
		}
		b, _ := json.Marshal(map[string]any{"scores": items})
		reply(string(b), "stop")(w, r)
	}
	return f
}

func imageCands(n int) []Candidate {
	var cs []Candidate
	for i := range n {
		cs = append(cs, Candidate{ID: fmt.Sprintf("item%d", i), Image: ImageURL(fmt.Sprintf("https://example.test/%d.png", i))})
	}
	return cs
}

func TestScoreCandidatesAveragesOverTheTrialsThatSawEachItem(t *testing.T) {
	f := rankServer(t, nil, nil)
	c := f.client(t, Options{MaxImages: 4})
	cands := imageCands(10)
	var reports []Progress
	opts := &ScoreOptions{Trials: 6, K: 4, Seed: 42, Progress: func(p Progress) { reports = append(reports, p) }}
	got, err := c.ScoreCandidates(context.Background(), Profile{Summary: "likes high numbers"}, cands, opts)
	require.NoError(t, err)
	require.Len(t, got, 10)
	assert.Len(t, f.requests(), 6)
	assert.Len(t, reports, 6)
	assert.Equal(t, Progress{Stage: "trial", Done: 6, Total: 6}, reports[5])

	seen := make([]int, 10)
	for _, sub := range Subsets(10, 4, 6, 42) {
		require.Len(t, sub, 4)
		for _, i := range sub {
			seen[i]++
		}
	}
	byID := map[string]CandidateScore{}
	for _, s := range got {
		byID[s.ID] = s
	}
	for i := range 10 {
		s := byID[fmt.Sprintf("item%d", i)]
		assert.Equal(t, seen[i], s.Seen, "item %d", i)
		assert.Len(t, s.Scores, seen[i])
		assert.Len(t, s.Explanations, seen[i])
		if seen[i] == 0 {
			assert.True(t, math.IsNaN(s.Score))
			assert.Equal(t, []string{"no trial drew this candidate"}, s.Failures)
			continue
		}
		assert.Equal(t, float64(10*i), s.Score)
		assert.Equal(t, 0.0, s.Std)
		assert.Equal(t, fmt.Sprintf("because https://example.test/%d.png", i), s.Explanations[0])
	}
	// Best first, never-seen last.
	for k := 1; k < len(got); k++ {
		assert.False(t, better(got[k].Score, got[k-1].Score), "order at %d", k)
	}

	// The same seed sends the same requests.
	f2 := rankServer(t, nil, nil)
	again, err := f2.client(t, Options{MaxImages: 4}).ScoreCandidates(context.Background(), Profile{Summary: "likes high numbers"}, cands, &ScoreOptions{Trials: 6, K: 4, Seed: 42})
	require.NoError(t, err)
	assert.Equal(t, len(got), len(again))
	for i := range got {
		assert.Equal(t, got[i].ID, again[i].ID)
	}
	texts := func(f *fake) map[string]bool {
		m := map[string]bool{}
		for _, b := range f.requests() {
			j, _ := json.Marshal(b)
			m[string(j)] = true
		}
		return m
	}
	assert.Equal(t, texts(f), texts(f2))
}

func TestScoreCandidatesRecordsFailures(t *testing.T) {
	// The model leaves out candidate 3; every request holding candidate 5 fails.
	f := rankServer(t, map[string]bool{"https://example.test/3.png": true}, map[int]bool{5: true})
	c := f.client(t, Options{MaxImages: 3, Attempts: 2})
	got, err := c.ScoreCandidates(context.Background(), Profile{Text: "p"}, imageCands(6), &ScoreOptions{Trials: 8, K: 3, Seed: 1})
	require.NoError(t, err)
	for _, s := range got {
		assert.Equal(t, s.Seen, len(s.Scores)+len(s.Failures), "%s: every draw ends with a score or a failure", s.ID)
		switch s.ID {
		case "item3":
			assert.Empty(t, s.Scores)
			for _, fl := range s.Failures {
				assert.Regexp(t, "no score for this candidate|request failed", fl)
			}
			assert.NotEmpty(t, s.Failures)
		case "item5":
			assert.Empty(t, s.Scores)
			for _, fl := range s.Failures {
				assert.Contains(t, fl, "request failed after 2 attempts")
			}
		}
	}
}

func TestScoreCandidatesChecksK(t *testing.T) {
	f := newFake(t)
	c := f.client(t, Options{Server: ServerVLLM})
	_, err := c.ScoreCandidates(context.Background(), Profile{Text: "p"}, imageCands(5), &ScoreOptions{K: 3})
	require.ErrorIs(t, err, ErrInvalidOptions)
	assert.Contains(t, err.Error(), "ScoreOptions.K: 3 is above the server's 1 images per request")
	got, err := c.ScoreCandidates(context.Background(), Profile{Text: "p"}, imageCands(5), &ScoreOptions{Trials: 2})
	require.NoError(t, err, "K defaults to what the server takes")
	assert.Len(t, got, 5)
	for _, r := range f.requests() {
		assert.Len(t, parts(t, r), 2)
	}
	_, err = c.ScoreCandidates(context.Background(), Profile{Text: "p"}, []Candidate{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, nil)
	require.ErrorIs(t, err, ErrInvalidOptions)
	bad := &Prompts{RankImages: "{{.Nope}}"}
	_, err = c.ScoreCandidates(context.Background(), Profile{Text: "p"}, imageCands(2), &ScoreOptions{Prompts: bad})
	require.ErrorIs(t, err, ErrTemplate)
}

func TestModelRankingUsesTextCandidates(t *testing.T) {
	f := newFake(t)
	f.fallback = reply(`[{"id": "1", "score": 90, "explanation": "x"}, {"id": "2", "score": 20, "explanation": "y"}]`, "stop")
	c := f.client(t, Options{})
	cands := []Candidate{{ID: "lora-a", Text: "anime girls"}, {ID: "lora-b", Text: "cars"}}
	got, err := c.ScoreCandidates(context.Background(), Profile{Text: "likes anime"}, cands, &ScoreOptions{Trials: 1, K: 2, Seed: 3})
	require.NoError(t, err)
	require.Len(t, got, 2)
	sub := Subsets(2, 2, 1, 3)[0]
	// Label 1 is the first candidate sent.
	assert.Equal(t, cands[sub[0]].ID, got[0].ID)
	assert.Equal(t, 90.0, got[0].Score)
	body := f.requests()[0]
	ps := parts(t, body)
	require.Len(t, ps, 1, "no images for model ranking")
	text := ps[0]["text"].(string)
	assert.Contains(t, text, "90-100")
	assert.Contains(t, text, "- 1: "+cands[sub[0]].Text)
}

func TestDescribeModels(t *testing.T) {
	f := newFake(t, reply("```\n[{\"id\": \"1\", \"summary\": \"Anime portraits.\"}, {\"id\": \"9\", \"summary\": \"?\"}]\n```", "stop"))
	c := f.client(t, Options{})
	got, err := c.DescribeModels(context.Background(), []ModelInfo{{ID: "101", Name: "Anime", Prompts: []string{"1girl, smile"}}, {ID: "102", Name: "Cars"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"101": "Anime portraits."}, got)
	text := parts(t, f.requests()[0])[0]["text"].(string)
	assert.Contains(t, text, "Model 1 (Anime):\n- 1girl, smile")
}

func TestSubsetsAreUniformAndSeeded(t *testing.T) {
	a := Subsets(10, 5, 2000, 9)
	assert.Equal(t, a, Subsets(10, 5, 2000, 9))
	assert.NotEqual(t, a, Subsets(10, 5, 2000, 10))
	count := make([]int, 10)
	for _, s := range a {
		distinct := map[int]bool{}
		for _, i := range s {
			distinct[i] = true
			count[i]++
		}
		require.Len(t, distinct, 5)
	}
	// Each item is drawn with probability k/n = 1/2: 1000 ± 5σ (σ ≈ 22).
	for i, c := range count {
		assert.InDelta(t, 1000, c, 112, "item %d", i)
	}
}

func TestTable7Row(t *testing.T) {
	r, err := Row("VLM", []int{1, 2, 6})
	require.NoError(t, err)
	assert.Equal(t, 3, r.Users)
	assert.InDelta(t, 3.0, r.MeanRank, 1e-12)
	assert.InDelta(t, math.Sqrt(14.0/3), r.StdRank, 1e-12)
	assert.InDelta(t, 2.0/3, r.Recall, 1e-12)
	assert.InDelta(t, (1+1/math.Log2(3))/3, r.NDCG, 1e-12)
	_, err = Row("x", []int{0})
	require.Error(t, err)
	table := FormatTable([]RankRow{r})
	assert.Contains(t, table, "VLM         3     3.00 ±  2.16   0.667   0.544")
	assert.Equal(t, 2, RankOf([]CandidateScore{{ID: "a"}, {ID: "b"}}, "b"))
	assert.Equal(t, 0, RankOf(nil, "b"))
}
