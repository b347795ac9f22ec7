// The paper's dataset figures (Appendix A and §3.3) as PNG files.

package imagegem

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// Figure limits, as the paper draws them.
const (
	// FigurePromptWords is the largest prompt length Fig. 6 bins; longer prompts are
	// counted in its last bin.
	FigurePromptWords = 200
	// FigureTopUsers is how many users Figs. 8 and 9 rank.
	FigureTopUsers = 30
)

// The figure files [Release.Figures] writes.
const (
	FigPromptWords   = "fig6_prompt_words.png"
	FigReactions     = "fig7_reactions.png"
	FigTopUsers      = "fig8_top_users_images.png"
	FigTopUploaders  = "fig9_top_uploaders_loras.png"
	FigBaseModels    = "base_model_shares.png"
	figureWidth      = 7 * vg.Inch
	figureHeight     = 4 * vg.Inch
	figureBarPadding = 0.1
)

// Figures writes the release's dataset figures into dir (created if needed) as PNG files
// and returns their paths: Fig. 6, the distribution of prompt lengths in words (one bin per
// word count up to FigurePromptWords, longer prompts in the last); Fig. 7, the emoji feedback
// (the reaction counts by kind over all images); Fig. 8, the FigureTopUsers users with the
// most images; Fig. 9, the FigureTopUsers uploaders with the most LoRA versions (users
// are shown by rank only, their hashes hidden, as the paper does); and the base-model shares
// of the LoRA versions (§3.3). Each file is written atomically.
func (r *Release) Figures(ctx context.Context, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("imagegem: figures: %w", err)
	}
	var paths []string
	for _, f := range []struct {
		name string
		make func(context.Context) (*plot.Plot, error)
	}{
		{FigPromptWords, r.figPromptWords},
		{FigReactions, r.figReactions},
		{FigTopUsers, r.figTopUsers},
		{FigTopUploaders, r.figTopUploaders},
		{FigBaseModels, r.figBaseModels},
	} {
		p, err := f.make(ctx)
		if err != nil {
			return paths, err
		}
		wt, err := p.WriterTo(figureWidth, figureHeight, "png")
		if err != nil {
			return paths, fmt.Errorf("imagegem: figures: %s: %w", f.name, err)
		}
		path := filepath.Join(dir, f.name)
		if err := atomicfile.Write(ctx, path, nil, func(w io.Writer) error {
			_, err := wt.WriteTo(w)
			return err
		}); err != nil {
			return paths, fmt.Errorf("imagegem: figures: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// counts runs a query of (label, count) rows.
func (r *Release) counts(ctx context.Context, what, q string) ([]string, []float64, error) {
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("imagegem: figures: %s: %w", what, firstLine(err))
	}
	defer rows.Close()
	var labels []string
	var vals []float64
	for rows.Next() {
		var l *string
		var v *float64
		if err := rows.Scan(&l, &v); err != nil {
			return nil, nil, fmt.Errorf("imagegem: figures: %s: %w", what, err)
		}
		labels = append(labels, str(l))
		vals = append(vals, f64(v))
	}
	return labels, vals, rows.Err()
}

func barPlot(title, xlabel, ylabel string, labels []string, vals []float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	if len(vals) == 0 {
		labels, vals = []string{"(none)"}, []float64{0}
	}
	bars, err := plotter.NewBarChart(plotter.Values(vals), vg.Points(max(2, 360/float64(len(vals)))))
	if err != nil {
		return nil, fmt.Errorf("imagegem: figures: %s: %w", title, err)
	}
	bars.Color = color.RGBA{R: 0x3b, G: 0x6e, B: 0xa8, A: 0xff}
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(labels...)
	return p, nil
}

func (r *Release) figPromptWords(ctx context.Context) (*plot.Plot, error) {
	q := fmt.Sprintf(`WITH p AS (SELECT any_value("prompt") AS prompt FROM images GROUP BY "imageId"),
	w AS (SELECT least(CASE WHEN trim(coalesce(prompt, '')) = '' THEN 0
	  ELSE len(regexp_split_to_array(trim(prompt), '\s+')) END, %d) AS n FROM p)
	SELECT CAST(n AS VARCHAR), CAST(count(*) AS DOUBLE) FROM w GROUP BY n ORDER BY n`, FigurePromptWords)
	labels, vals, err := r.counts(ctx, "prompt words", q)
	if err != nil {
		return nil, err
	}
	hist := make(plotter.XYs, FigurePromptWords+1)
	for i := range hist {
		hist[i].X = float64(i)
	}
	for i, l := range labels {
		var n int
		fmt.Sscan(l, &n)
		hist[n].Y = vals[i]
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Fig. 6: prompt length (words; the last bin holds %d and more)", FigurePromptWords)
	p.X.Label.Text = "words in the prompt"
	p.Y.Label.Text = "images"
	h, err := plotter.NewHistogram(hist, FigurePromptWords+1)
	if err != nil {
		return nil, fmt.Errorf("imagegem: figures: prompt words: %w", err)
	}
	h.FillColor = color.RGBA{R: 0x3b, G: 0x6e, B: 0xa8, A: 0xff}
	h.LineStyle.Width = 0
	p.Add(h)
	return p, nil
}

func (r *Release) figReactions(ctx context.Context) (*plot.Plot, error) {
	q := `WITH i AS (SELECT any_value("likeCount") l, any_value("heartCount") h, any_value("laughCount") a,
	  any_value("cryCount") c, any_value("dislikeCount") d, any_value("commentCount") m FROM images GROUP BY "imageId")
	SELECT k, CAST(v AS DOUBLE) FROM (
	  SELECT 'like' k, sum(l) v, 1 o FROM i UNION ALL SELECT 'heart', sum(h), 2 FROM i UNION ALL
	  SELECT 'laugh', sum(a), 3 FROM i UNION ALL SELECT 'cry', sum(c), 4 FROM i UNION ALL
	  SELECT 'dislike', sum(d), 5 FROM i UNION ALL SELECT 'comment', sum(m), 6 FROM i) ORDER BY o`
	labels, vals, err := r.counts(ctx, "reactions", q)
	if err != nil {
		return nil, err
	}
	return barPlot("Fig. 7: emoji feedback on the images", "reaction", "count", labels, vals)
}

// ranks hides users behind their rank, as the paper does.
func ranks(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i + 1)
	}
	return out
}

func (r *Release) figTopUsers(ctx context.Context) (*plot.Plot, error) {
	q := fmt.Sprintf(`SELECT "userHash", CAST(count(DISTINCT "imageId") AS DOUBLE) n FROM images
	WHERE "userHash" IS NOT NULL AND "userHash" <> '' GROUP BY 1 ORDER BY n DESC, 1 LIMIT %d`, FigureTopUsers)
	_, vals, err := r.counts(ctx, "top users", q)
	if err != nil {
		return nil, err
	}
	return barPlot(fmt.Sprintf("Fig. 8: the %d users with the most images", FigureTopUsers), "user (rank)", "images", ranks(len(vals)), vals)
}

func (r *Release) figTopUploaders(ctx context.Context) (*plot.Plot, error) {
	q := fmt.Sprintf(`SELECT "userHash", CAST(count(DISTINCT "modelVersionId") AS DOUBLE) n FROM models
	WHERE "userHash" IS NOT NULL AND "userHash" <> '' GROUP BY 1 ORDER BY n DESC, 1 LIMIT %d`, FigureTopUsers)
	_, vals, err := r.counts(ctx, "top uploaders", q)
	if err != nil {
		return nil, err
	}
	return barPlot(fmt.Sprintf("Fig. 9: the %d uploaders with the most LoRA versions", FigureTopUsers), "uploader (rank)", "LoRA versions", ranks(len(vals)), vals)
}

func (r *Release) figBaseModels(ctx context.Context) (*plot.Plot, error) {
	bm, err := r.BaseModels(ctx)
	if err != nil {
		return nil, err
	}
	var labels []string
	var vals []float64
	for _, b := range bm {
		l := b.BaseModel
		if l == "" {
			l = "(unknown)"
		}
		labels = append(labels, l)
		vals = append(vals, 100*b.Share)
	}
	return barPlot("Base models of the LoRA versions (§3.3)", "base model", "share of versions (%)", labels, vals)
}
