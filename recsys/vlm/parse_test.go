package vlm

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scoresOf maps the parsed ids to their scores.
func scoresOf(r ScoreReply) map[string]float64 {
	m := map[string]float64{}
	for _, s := range r.Scores {
		m[s.ID] = s.Score
	}
	return m
}

func TestParseScoresSurvivesRealReplies(t *testing.T) {
	ids := []string{"1", "2", "3"}
	all := map[string]float64{"1": 85, "2": 40, "3": 72}
	for _, tc := range []struct {
		name, text string
		want       map[string]float64
		missing    []string
		unknown    []string
		truncated  bool
	}{
		{"array", `[{"id": "1", "score": 85, "explanation": "a"}, {"id": "2", "score": 40, "explanation": "b"}, {"id": "3", "score": 72, "explanation": "c"}]`, all, nil, nil, false},
		{"structured object", `{"scores": [{"id": "1", "score": 85, "explanation": "a"}, {"id": "2", "score": 40, "explanation": "b"}, {"id": "3", "score": 72, "explanation": "c"}]}`, all, nil, nil, false},
		{"prose around", "Sure! Here are the scores:\n[{\"id\": 1, \"score\": 85}, {\"id\": 2, \"score\": 40}, {\"id\": 3, \"score\": 72}]\nLet me know if you need more.", all, nil, nil, false},
		{"code fence", "```json\n[{\"id\": \"1\", \"score\": 85}, {\"id\": \"2\", \"score\": 40}, {\"id\": \"3\", \"score\": 72}]\n```", all, nil, nil, false},
		{"several objects", "Image 1:\n{\"id\": \"1\", \"score\": 85}\nImage 2:\n{\"id\": \"2\", \"score\": 40}\n{\"id\": \"3\", \"score\": 72}", all, nil, nil, false},
		{"trailing commas", `[{"id": "1", "score": 85,}, {"id": "2", "score": 40,}, {"id": "3", "score": 72,},]`, all, nil, nil, false},
		{"single quotes", `[{'id': '1', 'score': 85, 'explanation': 'it\'s close'}, {'id': '2', 'score': 40}, {'id': '3', 'score': 72}]`, all, nil, nil, false},
		{"unquoted keys", `[{id: 1, score: 85}, {id: 2, score: 40}, {id: 3, score: 72}]`, all, nil, nil, false},
		{"scores as strings", `[{"id": "1", "score": "85"}, {"id": "2", "score": "40/100"}, {"id": "3", "score": "72 points"}]`, all, nil, nil, false},
		{"bare 85/100", `[{"id": "1", "score": 85/100}, {"id": "2", "score": 4/10}, {"id": "3", "score": 72}]`, all, nil, nil, false},
		{"map of scores", `{"1": 85, "2": "40", "3": {"score": 72, "explanation": "c"}}`, all, nil, nil, false},
		{"prefixed ids", `[{"image": "Image 1", "score": 85}, {"image": "image_2", "score": 40}, {"image": "#3", "score": 72}]`, all, nil, nil, false},
		{"unknown and missing ids", `[{"id": "1", "score": 85}, {"id": "7", "score": 99}, {"id": "3", "score": 72}]`, map[string]float64{"1": 85, "3": 72}, []string{"2"}, []string{"7"}, false},
		{"duplicate id keeps the first", `[{"id": "1", "score": 85}, {"id": "1", "score": 10}, {"id": "2", "score": 40}, {"id": "3", "score": 72}]`, all, nil, nil, false},
		{"truncated", `[{"id": "1", "score": 85, "explanation": "good"}, {"id": "2", "score": 40, "explanation": "the backgr`, map[string]float64{"1": 85, "2": 40}, []string{"3"}, nil, true},
		{"truncated in a number", `[{"id": "1", "score": 85}, {"id": "2", "score": 4`, map[string]float64{"1": 85, "2": 4}, []string{"3"}, nil, true},
		{"lines without JSON", "Image 1: 85/100 - same subject\nImage 2: 40 - different style\n**3**: 72", all, nil, nil, false},
		{"stray quote before the JSON", `{"note [{"id": "1", "score": 85}, {"id": "2", "score": 40}, {"id": "3", "score": 72}]`, all, nil, nil, false},
		{"deep nesting before the JSON", strings.Repeat("{a:", 100) + ` [{"id": "1", "score": 85}, {"id": "2", "score": 40}, {"id": "3", "score": 72}]`, all, nil, nil, true},
		{"python literals", `[{'id': '1', 'score': 85, 'ok': True}, {'id': '2', 'score': 40, 'note': None}, {'id': '3', 'score': 72}]`, all, nil, nil, false},
		{"nothing", "I cannot rate these images.", map[string]float64{}, ids, nil, false},
		{"empty", "", map[string]float64{}, ids, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ParseScores(tc.text, ids, false)
			assert.Equal(t, tc.want, scoresOf(r))
			assert.Equal(t, tc.missing, r.Missing)
			assert.Equal(t, tc.unknown, r.Unknown)
			assert.Equal(t, tc.truncated, r.Truncated)
		})
	}
}

func TestParseScoresClampsAndFlags(t *testing.T) {
	r := ParseScores(`[{"id": "a", "score": 130}, {"id": "b", "score": -5}, {"id": "c", "score": "250/100"}]`, []string{"a", "b", "c"}, false)
	require.Len(t, r.Scores, 3)
	assert.Equal(t, ItemScore{ID: "a", Score: 100, Clamped: true, Raw: "130"}, r.Scores[0])
	assert.Equal(t, ItemScore{ID: "b", Score: 0, Clamped: true, Raw: "-5"}, r.Scores[1])
	assert.Equal(t, 100.0, r.Scores[2].Score)
	assert.True(t, r.Scores[2].Clamped)
}

func TestParseScoresKeepsExplanations(t *testing.T) {
	r := ParseScores(`{"scores": [{"id": "1", "score": 60, "reason": "same cat"}]}`, []string{"1"}, true)
	require.Len(t, r.Scores, 1)
	assert.Equal(t, "same cat", r.Scores[0].Explanation)
	assert.True(t, r.Truncated, "the server's finish_reason length is kept")
}

func TestParseProfile(t *testing.T) {
	p, err := ParseProfile("```json\n{'subject': ['cats', 'dogs'], 'style': 'anime', summary: 'Pets in anime style',}\n```")
	require.NoError(t, err)
	assert.Equal(t, Profile{Subject: "cats, dogs", Style: "anime", Summary: "Pets in anime style"}, p)
	assert.Equal(t, "Subject: cats, dogs\nStyle: anime\nSummary: Pets in anime style", p.String())
	p, err = ParseProfile("The user likes moody cyberpunk cityscapes.")
	require.NoError(t, err)
	assert.Equal(t, "The user likes moody cyberpunk cityscapes.", p.String())
	_, err = ParseProfile("  \n")
	require.ErrorIs(t, err, ErrParse)
}

func FuzzParseScores(f *testing.F) {
	for _, s := range []string{
		`[{"id": "1", "score": 85, "explanation": "a"}]`,
		"```json\n{'1': '85/100',}\n```",
		`{"scores": [{"id": 2, "score": -3}`,
		"Image 1: 85\nImage 2: 4/10",
		`[[[[[[[[[[{"id":"1","score":1e999}]]]]]]]]]]`,
		`{"a": {"b": [1, 2, {"c": 'x\u00e9`,
	} {
		f.Add(s)
	}
	ids := []string{"1", "2", "3"}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseScores(s, ids, false)
		if len(r.Scores)+len(r.Missing) != len(ids) {
			t.Fatalf("%d scores and %d missing for %d ids", len(r.Scores), len(r.Missing), len(ids))
		}
		for _, sc := range r.Scores {
			if math.IsNaN(sc.Score) || sc.Score < 0 || sc.Score > MaxScore {
				t.Fatalf("score %v out of range", sc.Score)
			}
		}
		_, _ = ParseProfile(s)
	})
}
