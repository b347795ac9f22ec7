package vlm

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ItemScore is one candidate's score read from a reply.
type ItemScore struct {
	ID          string
	Score       float64
	Explanation string
	// Clamped reports a score outside [0, MaxScore] that was clamped into it; Raw is the
	// value as written.
	Clamped bool
	Raw     string
}

// ScoreReply is what ParseScores read from one reply: a score for some of the expected ids,
// the expected ids it did not find (Missing), the ids it found that were not expected
// (Unknown, ignored), and whether the reply was cut off.
type ScoreReply struct {
	Scores    []ItemScore
	Missing   []string
	Unknown   []string
	Truncated bool
}

// idKeys and scoreKeys are the keys read as a candidate's id and score.
var (
	idKeys     = []string{"id", "label", "image", "image_id", "imageId", "candidate", "candidate_id", "model", "model_id", "index", "name"}
	scoreKeys  = []string{"score", "total", "total_score", "rating", "points", "overall"}
	reasonKeys = []string{"explanation", "reason", "reasoning", "rationale", "justification", "comment"}
)

// lineScore matches "Image 3: 85/100 - because …" style lines of a reply without JSON.
var lineScore = regexp.MustCompile(`(?i)(?:^|\n)[\s*#\-]*(?:image|candidate|model|id|label)?\s*[#:]?\s*\**\s*([A-Za-z0-9_]+)\s*\**\s*[:=\-–—)]\s*(?:score\s*[:=]?\s*)?([-+]?\d+(?:\.\d+)?(?:\s*/\s*\d+)?)\s*(?:points|%)?[^\n]*`)

// ParseScores reads the scores of the expected candidate ids from a model's reply. It
// accepts JSON anywhere in the text (in prose, in code fences, several objects or one array,
// a map from id to score, trailing commas, single quotes, a cut-off end), scores as numbers
// or strings ("85", "85/100", "8/10" scaled to 100), and as a last resort lines such as
// "Image 2: 85/100". Ids match case-insensitively, with or without a prefix word ("image 2",
// "#2"). Scores outside [0, MaxScore] are clamped and flagged; the first score of an id wins.
// It never panics; a reply with no score at all gives every id as Missing.
func ParseScores(text string, ids []string, truncated bool) ScoreReply {
	want := map[string]string{}
	for _, id := range ids {
		want[normID(id)] = id
	}
	out := ScoreReply{Truncated: truncated}
	seen := map[string]bool{}
	unknown := map[string]bool{}
	add := func(id any, score any, reason string) {
		idStr := scalarString(id)
		key := normID(idStr)
		orig, ok := want[key]
		if !ok {
			if idStr != "" && !unknown[idStr] && len(out.Unknown) < 64 {
				unknown[idStr] = true
				out.Unknown = append(out.Unknown, idStr)
			}
			return
		}
		if seen[orig] {
			return
		}
		v, raw, ok := scoreValue(score)
		if !ok {
			return
		}
		s := ItemScore{ID: orig, Score: v, Explanation: reason, Raw: raw}
		if v < 0 || v > MaxScore {
			s.Score, s.Clamped = math.Min(math.Max(v, 0), MaxScore), true
		}
		seen[orig] = true
		out.Scores = append(out.Scores, s)
	}

	vals, cut := jsonValues(stripFences(text))
	out.Truncated = out.Truncated || cut
	for _, v := range vals {
		walkScores(v, add, 0)
	}
	if len(out.Scores) == 0 {
		for _, m := range lineScore.FindAllStringSubmatch(text, 256) {
			add(m[1], m[2], strings.TrimSpace(strings.TrimLeft(m[0][strings.Index(m[0], m[2])+len(m[2]):], " -–—:.,)/0123456789points%")))
		}
	}
	for _, id := range ids {
		if !seen[id] {
			out.Missing = append(out.Missing, id)
		}
	}
	return out
}

// walkScores finds the scored candidates in a JSON value: objects with an id key and a score
// key, maps from id to a score or to an object with one, and any of these nested in arrays
// or under other keys ("scores", "rankings", …).
func walkScores(v any, add func(id, score any, reason string), depth int) {
	if depth > maxJSONDepth {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkScores(e, add, depth+1)
		}
	case *object:
		id, hasID := x.get(idKeys...)
		score, hasScore := x.get(scoreKeys...)
		if hasID && hasScore {
			reason, _ := x.get(reasonKeys...)
			add(id, score, scalarString(reason))
			return
		}
		for i, k := range x.keys {
			switch val := x.vals[i].(type) {
			case float64, string:
				if _, _, ok := scoreValue(val); ok {
					add(k, val, "")
				}
			case *object:
				if s, ok := val.get(scoreKeys...); ok {
					if _, hasOwnID := val.get(idKeys...); !hasOwnID {
						reason, _ := val.get(reasonKeys...)
						add(k, s, scalarString(reason))
						continue
					}
				}
				walkScores(val, add, depth+1)
			default:
				walkScores(val, add, depth+1)
			}
		}
	}
}

// scoreValue reads a score: a number, or a string "85", "85/100", "85 points", "85%", "8/10"
// (scaled to 100).
func scoreValue(v any) (float64, string, bool) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, "", false
		}
		return x, strconv.FormatFloat(x, 'g', -1, 64), true
	case string:
		s := strings.TrimSpace(x)
		m := scoreString.FindStringSubmatch(s)
		if m == nil {
			return 0, "", false
		}
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil || math.IsInf(f, 0) {
			return 0, "", false
		}
		if m[2] != "" {
			d, err := strconv.ParseFloat(m[2], 64)
			if err != nil || d <= 0 || math.IsInf(d, 0) {
				return 0, "", false
			}
			f = f / d * MaxScore
		}
		return f, s, true
	}
	return 0, "", false
}

var scoreString = regexp.MustCompile(`^\s*([-+]?\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?))?\s*(?:points?|pts|%)?\s*$`)

// scalarString renders a scalar JSON value as text ("" for containers and null).
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// normID folds an id for matching: lower case, without spaces, punctuation and a leading
// word such as "image", "candidate", "model" or "id".
func normID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"image", "img", "candidate", "model", "item", "id", "label", "no."} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" {
			s = rest
			break
		}
	}
	var b strings.Builder
	for _, r := range s {
		if r == ' ' || r == '#' || r == '_' || r == '-' || r == ':' || r == '.' || r == '"' || r == '\'' || r == '*' || r == '(' || r == ')' || r == '[' || r == ']' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// stripFences removes Markdown code-fence lines (```json … ```), keeping their content.
func stripFences(s string) string {
	if !strings.Contains(s, "```") {
		return s
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			b.WriteByte('\n')
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// Profile is a user's visual preference profile, as written by the caption-images prompt.
type Profile struct {
	Subject        string `json:"subject,omitempty"`
	VisualFeatures string `json:"visual_features,omitempty"`
	Style          string `json:"style,omitempty"`
	Background     string `json:"background,omitempty"`
	Summary        string `json:"summary,omitempty"`
	// Text is the whole reply when it held no JSON object with these fields.
	Text string `json:"text,omitempty"`
}

// String is the profile as the ranking prompts show it.
func (p Profile) String() string {
	var b strings.Builder
	for _, f := range [][2]string{{"Subject", p.Subject}, {"Visual features", p.VisualFeatures}, {"Style", p.Style}, {"Background", p.Background}, {"Summary", p.Summary}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", f[0], f[1])
		}
	}
	if b.Len() == 0 {
		return strings.TrimSpace(p.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// ParseProfile reads a profile from a reply: the first JSON object with any of the four
// aspects or a summary, else the reply's text. It returns ErrParse for an empty reply.
func ParseProfile(text string) (Profile, error) {
	vals, _ := jsonValues(stripFences(text))
	for _, v := range vals {
		if p, ok := profileFrom(v, 0); ok {
			return p, nil
		}
	}
	t := strings.TrimSpace(text)
	if t == "" {
		return Profile{}, fmt.Errorf("%w: empty profile", ErrParse)
	}
	return Profile{Text: t}, nil
}

func profileFrom(v any, depth int) (Profile, bool) {
	if depth > maxJSONDepth {
		return Profile{}, false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if p, ok := profileFrom(e, depth+1); ok {
				return p, true
			}
		}
	case *object:
		get := func(names ...string) string {
			val, _ := x.get(names...)
			if s := scalarString(val); s != "" {
				return s
			}
			if a, ok := val.([]any); ok { // a list of keywords
				var parts []string
				for _, e := range a {
					if s := scalarString(e); s != "" {
						parts = append(parts, s)
					}
				}
				return strings.Join(parts, ", ")
			}
			return ""
		}
		p := Profile{Subject: get("subject", "subjects"), VisualFeatures: get("visual_features", "visual features", "features"),
			Style: get("style", "styles"), Background: get("background", "backgrounds"), Summary: get("summary", "profile", "description")}
		if p != (Profile{}) {
			return p, true
		}
		for _, val := range x.vals {
			if p, ok := profileFrom(val, depth+1); ok {
				return p, true
			}
		}
	}
	return Profile{}, false
}
