package vlm

import (
	"bytes"
	"fmt"
	"text/template"
)

// Paper constants of the second stage (§4.2, §5.2.2, Appendix B).
const (
	// HistoryLength is H, the latest items of a user that the profile is written from.
	HistoryLength = 5
	// Candidates is M, the first-stage candidates the VLM scores.
	Candidates = 10
	// MaxScore is the top of the 100-point scale of both ranking prompts.
	MaxScore = 100
)

// The names of the four Appendix B prompts.
const (
	PromptCaptionImages = "caption-images" // B.1: a user's visual preference profile from their images
	PromptRankImages    = "rank-images"    // B.1: score candidate images against the profile
	PromptCaptionModels = "caption-models" // B.2: summarise each model from its most-liked prompts
	PromptRankModels    = "rank-models"    // B.2: score candidate models against the profile
)

// Prompts are the four prompt templates (Go text/template syntax). Replace any of them; an
// empty field means the default. The data each one receives:
//
//   - caption-images: {{.Count}} the number of images, attached after the text in order.
//   - rank-images: {{.Profile}} the user's profile text; {{.Candidates}} a list whose
//     elements have .Label (the id the model must answer with) in the order of the attached
//     images; {{.Count}}.
//   - caption-models: {{.Models}}, each with .Label, .Name and .Prompts (the most-liked
//     prompts, best first).
//   - rank-models: {{.Profile}}; {{.Candidates}} with .Label and .Text (the model's caption).
//
// Replies are read by ParseScores and ParseProfile, which accept JSON anywhere in the text:
// a template should ask for the keys those read (id, score, explanation; subject,
// visual_features, style, background, summary).
type Prompts struct {
	CaptionImages, RankImages, CaptionModels, RankModels string
}

// The default templates follow Appendix B's structure: the four aspects of the profile; the
// 100-point image rubric (overall similarity 60 = subject 20 + style 15 + colour and mood 15 +
// background 10; detail 40 = key visual features 20 + pose 10 + fine details 10); the 0–100
// bands of the model rubric. The wording is ours.
const (
	defaultCaptionImages = `You will see {{.Count}} images that one user of an image-generation site created or liked, most recent last.
Describe this user's visual preferences as a profile that another reader could use to pick new images for them. Cover four aspects:
1. subject: the subjects and content they favour;
2. visual_features: recurring visual features (composition, colours, lighting, textures);
3. style: the artistic styles and media;
4. background: the settings and backgrounds.
Answer with one JSON object and nothing else:
{"subject": "...", "visual_features": "...", "style": "...", "background": "...", "summary": "two or three sentences"}`

	defaultRankImages = `A user's visual preference profile:
{{.Profile}}

You will see {{.Count}} candidate images, in this order:{{range .Candidates}} {{.Label}}{{end}}.
Score how well each candidate matches the profile on a 100-point rubric:
- overall similarity, 60 points: subject 20, style 15, colour and mood 15, background 10;
- detail, 40 points: key visual features 20, pose 10, fine details 10.
Score every candidate independently, from 0 to 100, and explain each score in one sentence.
Answer with one JSON array and nothing else, one element per candidate, using the labels above as ids:
[{"id": "{{(index .Candidates 0).Label}}", "score": 0, "explanation": "..."}]`

	defaultCaptionModels = `Each model below is a fine-tuned image-generation model (a LoRA), listed with the prompts of its most-liked images, best first.
For each model, summarise in one or two sentences what it generates: its subjects, style and typical look.
{{range .Models}}
Model {{.Label}}{{if .Name}} ({{.Name}}){{end}}:
{{range .Prompts}}- {{.}}
{{end}}{{end}}
Answer with one JSON array and nothing else: [{"id": "<model label>", "summary": "..."}]`

	defaultRankModels = `A user's visual preference profile:
{{.Profile}}

Candidate models, each with a summary of what it generates:
{{range .Candidates}}- {{.Label}}: {{.Text}}
{{end}}
Score how likely the user is to want each model, from 0 to 100:
90-100: matches the profile's subject and style closely;
70-89: matches most of the profile;
50-69: matches some aspects;
30-49: matches little;
0-29: unrelated to the profile.
Explain each score in one sentence. Answer with one JSON array and nothing else, one element per model, using the labels above as ids:
[{"id": "<label>", "score": 0, "explanation": "..."}]`
)

// DefaultPrompts returns the default templates.
func DefaultPrompts() Prompts {
	return Prompts{CaptionImages: defaultCaptionImages, RankImages: defaultRankImages, CaptionModels: defaultCaptionModels, RankModels: defaultRankModels}
}

// text returns the template text of a named prompt, the default when empty.
func (p *Prompts) text(name string) (string, error) {
	d := DefaultPrompts()
	var own, def string
	switch name {
	case PromptCaptionImages:
		def = d.CaptionImages
		if p != nil {
			own = p.CaptionImages
		}
	case PromptRankImages:
		def = d.RankImages
		if p != nil {
			own = p.RankImages
		}
	case PromptCaptionModels:
		def = d.CaptionModels
		if p != nil {
			own = p.CaptionModels
		}
	case PromptRankModels:
		def = d.RankModels
		if p != nil {
			own = p.RankModels
		}
	default:
		return "", fmt.Errorf("%w: unknown prompt %q", ErrTemplate, name)
	}
	if own != "" {
		return own, nil
	}
	return def, nil
}

// Render executes the named prompt with data. Unknown names, templates that do not parse and
// missing fields are errors wrapping ErrTemplate.
func (p *Prompts) Render(name string, data any) (string, error) {
	src, err := p.text(name)
	if err != nil {
		return "", err
	}
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
	}
	return b.String(), nil
}

// Validate renders every template with sample data, so that a bad replacement fails before
// any request.
func (p *Prompts) Validate() error {
	cands := []PromptCandidate{{Label: "1", Text: "t"}, {Label: "2", Text: "t"}}
	samples := map[string]any{
		PromptCaptionImages: CaptionData{Count: 2},
		PromptRankImages:    RankData{Profile: "p", Candidates: cands, Count: 2},
		PromptCaptionModels: ModelCaptionData{Models: []PromptModel{{Label: "1", Name: "n", Prompts: []string{"a"}}}},
		PromptRankModels:    RankData{Profile: "p", Candidates: cands, Count: 2},
	}
	for _, name := range []string{PromptCaptionImages, PromptRankImages, PromptCaptionModels, PromptRankModels} {
		if _, err := p.Render(name, samples[name]); err != nil {
			return err
		}
	}
	return nil
}

// CaptionData is what caption-images receives.
type CaptionData struct{ Count int }

// PromptCandidate is one candidate as the ranking prompts see it.
type PromptCandidate struct{ Label, Text string }

// RankData is what rank-images and rank-models receive.
type RankData struct {
	Profile    string
	Candidates []PromptCandidate
	Count      int
}

// PromptModel is one model as caption-models sees it.
type PromptModel struct {
	Label, Name string
	Prompts     []string
}

// ModelCaptionData is what caption-models receives.
type ModelCaptionData struct{ Models []PromptModel }
