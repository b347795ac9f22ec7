package vlm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"

	"github.com/imagegem/imagegem-go/internal/progress"
)

// Progress is the library's one progress report (see internal/progress). ScoreCandidates
// reports stage "trial", Done trials finished out of Total.
type Progress = progress.Progress

// Randomized scoring defaults (Appendix B.1.5 averages over trials on random subsets; the
// paper's T and k are not restated here: these are ours).
const (
	DefaultTrials = 5
	DefaultK      = 5
)

// Candidate is one item to score: an image (image ranking) or a model described by text
// (model ranking, Text being its caption). All candidates of one call are of one kind.
type Candidate struct {
	ID    string
	Image Image
	Text  string
}

func (c Candidate) hasImage() bool {
	return c.Image.Path != "" || c.Image.Data != nil || c.Image.URL != ""
}

// ScoreOptions configure ScoreCandidates. Nil and zero fields mean the defaults.
type ScoreOptions struct {
	// Trials is T, the number of requests (DefaultTrials).
	Trials int
	// K is the candidates per request (DefaultK, at most the number of candidates and, for
	// images, the client's MaxImages). A K above the server's images per request is an error.
	K int
	// Seed fixes the subsets and their order: the same seed gives the same requests.
	Seed uint64
	// Prompts replaces the templates (nil: DefaultPrompts).
	Prompts *Prompts
	// Progress receives stage "trial" after each trial, from one goroutine at a time.
	Progress func(Progress)
}

// CandidateScore is one candidate's result over the trials: Score is the mean of the scores
// of the trials that saw it and scored it (NaN when none did), Std their population standard
// deviation, Seen the trials whose subset held it, Scores and Explanations per scoring
// trial in trial order, Failures one line per trial that saw it without a score (a failed
// request, a reply without its id), Clamped the scores clamped into [0, 100].
type CandidateScore struct {
	ID           string    `json:"id"`
	Score        float64   `json:"score"`
	Std          float64   `json:"std"`
	Seen         int       `json:"seen"`
	Scores       []float64 `json:"scores"`
	Explanations []string  `json:"explanations"`
	Failures     []string  `json:"failures,omitempty"`
	Clamped      int       `json:"clamped,omitempty"`
}

// Scored reports whether any trial scored the candidate.
func (c CandidateScore) Scored() bool { return len(c.Scores) > 0 }

func (o *ScoreOptions) resolve(n, maxImages int, images bool) (ScoreOptions, error) {
	var r ScoreOptions
	if o != nil {
		r = *o
	}
	const typ = "ScoreOptions"
	if r.Trials < 0 {
		return r, invalidf(typ, "Trials", "%d is negative", r.Trials)
	}
	if r.Trials == 0 {
		r.Trials = DefaultTrials
	}
	if r.K < 0 {
		return r, invalidf(typ, "K", "%d is negative", r.K)
	}
	limit := n
	if images && maxImages > 0 {
		limit = min(limit, maxImages)
	}
	if r.K == 0 {
		r.K = min(DefaultK, limit)
	}
	if r.K > n {
		return r, invalidf(typ, "K", "%d is above the %d candidates", r.K, n)
	}
	if images && maxImages > 0 && r.K > maxImages {
		return r, invalidf(typ, "K", "%d is above the server's %d images per request (Options.MaxImages)", r.K, maxImages)
	}
	if r.Prompts == nil {
		p := DefaultPrompts()
		r.Prompts = &p
	}
	return r, r.Prompts.Validate()
}

// Subsets returns the candidate indices each trial scores: trial t takes a uniform random
// k-subset of 0..n-1 in random order, drawn from (seed, t) alone.
func Subsets(n, k, trials int, seed uint64) [][]int {
	out := make([][]int, trials)
	for t := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(t)))
		out[t] = rng.Perm(n)[:k]
	}
	return out
}

// ScoreCandidates scores the candidates against a profile by randomized scoring (Appendix
// B.1.5): Trials requests, each on a random subset of K candidates, each candidate's score
// the mean over the trials that saw it. Trials run concurrently up to the client's
// Concurrency; the result does not depend on their timing. Results come best first (NaN
// scores last, ties in input order). A failed trial is recorded in its candidates' Failures;
// configuration errors (too many images, an image over the limit, a bad template) and a
// cancelled ctx stop the call.
func (c *Client) ScoreCandidates(ctx context.Context, profile Profile, cands []Candidate, opts *ScoreOptions) ([]CandidateScore, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	images := cands[0].hasImage()
	ids := map[string]bool{}
	for i, cd := range cands {
		if cd.hasImage() != images {
			return nil, fmt.Errorf("%w: ScoreCandidates: candidate %d: mixes images and text candidates", ErrInvalidOptions, i)
		}
		if cd.ID == "" || ids[cd.ID] {
			return nil, fmt.Errorf("%w: ScoreCandidates: candidate %d: empty or repeated id %q", ErrInvalidOptions, i, cd.ID)
		}
		ids[cd.ID] = true
	}
	o, err := opts.resolve(len(cands), c.MaxImages(), images)
	if err != nil {
		return nil, err
	}
	subsets := Subsets(len(cands), o.K, o.Trials, o.Seed)
	type trialResult struct {
		reply ScoreReply
		err   error
	}
	results := make([]trialResult, o.Trials)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		done  int
		fatal error
	)
	for t, sub := range subsets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := c.scoreTrial(ctx, profile, cands, sub, images, o.Prompts)
			mu.Lock()
			defer mu.Unlock()
			results[t] = trialResult{rep, err}
			if err != nil && fatal == nil && (ctx.Err() != nil || !errors.Is(err, ErrRequest)) {
				fatal = err
				cancel()
			}
			done++
			if o.Progress != nil {
				o.Progress(Progress{Stage: "trial", Done: done, Total: o.Trials})
			}
		}()
	}
	wg.Wait()
	if fatal != nil {
		return nil, fatal
	}
	out := make([]CandidateScore, len(cands))
	for i, cd := range cands {
		out[i] = CandidateScore{ID: cd.ID, Scores: []float64{}, Explanations: []string{}}
	}
	for t, sub := range subsets {
		r := results[t]
		byID := map[string]ItemScore{}
		for _, s := range r.reply.Scores {
			byID[s.ID] = s
		}
		for _, i := range sub {
			cs := &out[i]
			cs.Seen++
			switch s, ok := byID[cands[i].ID]; {
			case r.err != nil:
				cs.Failures = append(cs.Failures, fmt.Sprintf("trial %d: %v", t, r.err))
			case !ok && r.reply.Truncated:
				cs.Failures = append(cs.Failures, fmt.Sprintf("trial %d: reply cut off before this candidate", t))
			case !ok:
				cs.Failures = append(cs.Failures, fmt.Sprintf("trial %d: no score for this candidate in the reply", t))
			default:
				cs.Scores = append(cs.Scores, s.Score)
				cs.Explanations = append(cs.Explanations, s.Explanation)
				if s.Clamped {
					cs.Clamped++
					cs.Failures = append(cs.Failures, fmt.Sprintf("trial %d: score %s clamped to %g", t, s.Raw, s.Score))
				}
			}
		}
	}
	for i := range out {
		out[i].Score, out[i].Std = meanStd(out[i].Scores)
		if out[i].Seen == 0 {
			out[i].Failures = append(out[i].Failures, "no trial drew this candidate")
		}
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return better(out[order[a]].Score, out[order[b]].Score) })
	sorted := make([]CandidateScore, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted, nil
}

// better orders scores high first, NaN last.
func better(a, b float64) bool {
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	return !math.IsNaN(a) && a > b
}

// meanStd is the mean and population standard deviation (NaN, 0 for none).
func meanStd(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return math.NaN(), 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)))
}

// scoreTrial sends one trial's request and reads its scores. Candidates are labelled 1..k
// in the order sent.
func (c *Client) scoreTrial(ctx context.Context, profile Profile, cands []Candidate, sub []int, images bool, prompts *Prompts) (ScoreReply, error) {
	labels := make([]string, len(sub))
	data := RankData{Profile: profile.String(), Count: len(sub)}
	req := Request{Schema: scoreSchema, SchemaName: "scores"}
	for j, i := range sub {
		labels[j] = strconv.Itoa(j + 1)
		data.Candidates = append(data.Candidates, PromptCandidate{Label: labels[j], Text: cands[i].Text})
		if images {
			req.Images = append(req.Images, cands[i].Image)
		}
	}
	name := PromptRankModels
	if images {
		name = PromptRankImages
	}
	prompt, err := prompts.Render(name, data)
	if err != nil {
		return ScoreReply{}, err
	}
	req.Prompt = prompt
	rep, err := c.Complete(ctx, req)
	if err != nil {
		return ScoreReply{}, err
	}
	parsed := ParseScores(rep.Text, labels, rep.Truncated)
	// Back from labels to the candidates' ids.
	for k := range parsed.Scores {
		j, _ := strconv.Atoi(parsed.Scores[k].ID)
		parsed.Scores[k].ID = cands[sub[j-1]].ID
	}
	for k, l := range parsed.Missing {
		j, _ := strconv.Atoi(l)
		parsed.Missing[k] = cands[sub[j-1]].ID
	}
	return parsed, nil
}

// scoreSchema is the structured-output schema of both ranking prompts: an object holding
// the array (strict json_schema wants an object at the top).
var scoreSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"scores": map[string]any{
			"type": "array",
			"items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id":          map[string]any{"type": "string"},
					"score":       map[string]any{"type": "number"},
					"explanation": map[string]any{"type": "string"},
				},
				"required":             []string{"id", "score", "explanation"},
				"additionalProperties": false,
			},
		},
	},
	"required":             []string{"scores"},
	"additionalProperties": false,
}

// profileSchema is the structured-output schema of caption-images.
var profileSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"subject":         map[string]any{"type": "string"},
		"visual_features": map[string]any{"type": "string"},
		"style":           map[string]any{"type": "string"},
		"background":      map[string]any{"type": "string"},
		"summary":         map[string]any{"type": "string"},
	},
	"required":             []string{"subject", "visual_features", "style", "background", "summary"},
	"additionalProperties": false,
}

// DescribeUser writes a user's visual preference profile from their latest images (H =
// HistoryLength in the paper), all in one request, with the caption-images prompt.
func (c *Client) DescribeUser(ctx context.Context, history []Image, prompts *Prompts) (Profile, error) {
	if len(history) == 0 {
		return Profile{}, fmt.Errorf("%w: DescribeUser: no images", ErrInvalidOptions)
	}
	prompt, err := prompts.Render(PromptCaptionImages, CaptionData{Count: len(history)})
	if err != nil {
		return Profile{}, err
	}
	rep, err := c.Complete(ctx, Request{Prompt: prompt, Images: history, Schema: profileSchema, SchemaName: "profile"})
	if err != nil {
		return Profile{}, err
	}
	return ParseProfile(rep.Text)
}

// ModelInfo is a model to caption: its id, name and the prompts of its most-liked images.
type ModelInfo struct {
	ID, Name string
	Prompts  []string
}

// DescribeModels summarises each model from its most-liked prompts (the caption-models
// prompt), in one request; the result maps ids to captions, and models the reply left out
// are absent.
func (c *Client) DescribeModels(ctx context.Context, models []ModelInfo, prompts *Prompts) (map[string]string, error) {
	data := ModelCaptionData{}
	labels := make([]string, len(models))
	for i, m := range models {
		labels[i] = strconv.Itoa(i + 1)
		data.Models = append(data.Models, PromptModel{Label: labels[i], Name: m.Name, Prompts: m.Prompts})
	}
	prompt, err := prompts.Render(PromptCaptionModels, data)
	if err != nil {
		return nil, err
	}
	rep, err := c.Complete(ctx, Request{Prompt: prompt})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	vals, _ := jsonValues(stripFences(rep.Text))
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxJSONDepth {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case *object:
			id, okID := x.get(idKeys...)
			sum, okSum := x.get("summary", "caption", "description")
			if okID && okSum {
				key := normID(scalarString(id))
				for i, l := range labels {
					if l == key && out[models[i].ID] == "" {
						out[models[i].ID] = scalarString(sum)
					}
				}
				return
			}
			for _, e := range x.vals {
				walk(e, depth+1)
			}
		}
	}
	for _, v := range vals {
		walk(v, 0)
	}
	return out, nil
}
