// Command quickstart is the main job of imagegem-go: it opens an ImageGem release and runs
// every stage that needs no model weights, printing what it did.
//
// With no flags it first generates the synthetic demo release (package imagegem/synth) in a
// temporary folder, so it runs anywhere:
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -data /path/to/release   # ImageGem-images/ and ImageGem-models/
//	go run ./examples/quickstart -json                    # only the JSON line
//
// The last line of stdout is one JSON object: Table 1 (raw and, with a safety filter,
// filtered) and the interaction counts. Ctrl-C stops it within moments; the demo release is
// removed in every case.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/internal/cli"
)

func main() { cli.Main("quickstart", run) }

// result is the program's last line.
type result struct {
	Data         string           `json:"data"`
	Demo         bool             `json:"demo"`
	Raw          imagegem.Stats   `json:"raw"`
	Filtered     *imagegem.Stats  `json:"filtered"`
	Interactions []interactionRow `json:"interactions"`
	Figures      []string         `json:"figures,omitempty"`
}

type interactionRow struct {
	Kind         string `json:"kind"`
	Interactions int    `json:"interactions"`
	Users        int    `json:"users"`
	Items        int    `json:"items"`
	Train        int    `json:"train"`
	Valid        int    `json:"valid"`
	Test         int    `json:"test"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("quickstart", "quickstart [-data DIR] [-images N] [-seed S] [-unsafe FILE] [-figures DIR] [-json]", stderr)
	data := fs.String("data", "", "release folder holding ImageGem-images/ and ImageGem-models/ (default: generate the demo release)")
	images := fs.Int("images", 20000, "images in the generated demo release")
	seed := fs.Uint64("seed", 1, "seed of the generated demo release")
	onlyJSON := fs.Bool("json", false, "print only the JSON line")
	unsafe := fs.String("unsafe", "", "parquet or CSV table of unsafe prompts (column \"prompt\") for the filtered row of Table 1")
	figures := fs.String("figures", filepath.Join(os.TempDir(), "imagegem-figures"), "folder for the dataset figures (Figs. 6-9, base models) as PNG; \"\" for none")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	out := stdout
	if *onlyJSON {
		out = io.Discard
	}
	res, err := quickstart(ctx, out, stderr, *data, *images, *seed, *unsafe, *figures)
	if err != nil {
		return err
	}
	return cli.JSON(stdout, res)
}

func quickstart(ctx context.Context, out, stderr io.Writer, data string, images int, seed uint64, unsafeFile, figures string) (*result, error) {
	res := &result{Data: data}
	var truth *synth.Truth
	if data == "" {
		// A scratch folder, removed on every return: the demo release is not an output.
		tmp, err := os.MkdirTemp("", "imagegem-demo-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		start := time.Now()
		bar := cli.NewBar(stderr)
		truth, err = synth.Generate(ctx, tmp, &synth.Options{Seed: seed, Images: images, Progress: bar.Report})
		bar.Done()
		if err != nil {
			return nil, err
		}
		data, res.Demo = tmp, true
		fmt.Fprintf(out, "generated the demo release (%d images, seed %d) in %s in %.2fs\n", images, seed, tmp, time.Since(start).Seconds())
	}

	start := time.Now()
	rel, err := imagegem.Open(ctx, data, nil)
	if err != nil {
		return nil, err
	}
	defer rel.Close()
	imgFiles, modelFiles := rel.Files()
	fmt.Fprintf(out, "opened %s: %d images file(s), %d models file(s) in %.2fs\n", data, len(imgFiles), len(modelFiles), time.Since(start).Seconds())

	start = time.Now()
	raw, err := rel.Stats(ctx)
	if err != nil {
		return nil, err
	}
	res.Raw = raw
	rows := []row{{"Raw", raw}}
	filter, err := safetyFilter(ctx, rel, truth, unsafeFile)
	if err != nil {
		return nil, err
	}
	if filter != nil {
		filtered, err := rel.FilteredStats(ctx, *filter)
		if err != nil {
			return nil, err
		}
		res.Filtered = &filtered
		rows = append(rows, row{"Filtered", filtered})
	}
	fmt.Fprintf(out, "\nTable 1 (computed in %.2fs)\n", time.Since(start).Seconds())
	printTable(out, rows)
	if filter == nil {
		fmt.Fprintln(out, "(no safety filter: give -unsafe FILE for the filtered row)")
	} else if truth != nil {
		fmt.Fprintf(out, "(filtered: prompts containing the demo's planted unsafe words %q stand in for Detoxify > 0.2)\n", truth.UnsafeWords)
	}

	if err := printQueries(ctx, out, rel); err != nil {
		return nil, err
	}
	if res.Interactions, err = printInteractions(ctx, out, rel); err != nil {
		return nil, err
	}
	if figures != "" {
		if res.Figures, err = rel.Figures(ctx, figures); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "\nFigures written to %s:\n  %s\n", figures, strings.Join(res.Figures, "\n  "))
	}
	return res, nil
}

type row struct {
	name string
	s    imagegem.Stats
}

func printTable(out io.Writer, rows []row) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tImages\tUnique prompts\tLoRAs\tModel tags\tUsers\tUploaders\tAvg img/uploader†\tAvg models/uploader†\tAvg img/model‡\t")
	for _, r := range rows {
		s := r.s
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\n", r.name, s.Images, s.UniquePrompts,
			s.LoRAs, s.ModelTags, s.Users, s.Uploaders, s.AvgImagesPerUploader, s.AvgModelsPerUploader, s.AvgImagesPerModel)
	}
	tw.Flush()
	fmt.Fprintln(out, "† excluding the top uploader   ‡ an image made with several LoRAs counts for each")
}

// safetyFilter returns the filter for Table 1's second row: the user's table of unsafe
// prompts, or for the demo release the prompts with its planted unsafe words.
func safetyFilter(ctx context.Context, rel *imagegem.Release, truth *synth.Truth, file string) (*imagegem.SafetyFilter, error) {
	if file != "" {
		return &imagegem.SafetyFilter{File: file}, nil
	}
	if truth == nil {
		return nil, nil
	}
	var conds []string
	var args []any
	for _, w := range truth.UnsafeWords {
		conds = append(conds, `contains("prompt", ?)`)
		args = append(args, w)
	}
	rows, err := rel.Query(ctx, `SELECT DISTINCT "prompt" FROM images WHERE `+strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var f imagegem.SafetyFilter
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		f.Prompts = append(f.Prompts, p)
	}
	return &f, rows.Err()
}

func printQueries(ctx context.Context, out io.Writer, rel *imagegem.Release) error {
	bm, err := rel.BaseModels(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nBase models of the LoRA versions:")
	for _, b := range bm {
		fmt.Fprintf(out, "  %-14s %7d  %5.1f%%\n", b.BaseModel, b.Versions, 100*b.Share)
	}
	ups, err := rel.Uploaders(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nTop uploaders (versions, models, images they made):")
	for _, u := range ups[:min(3, len(ups))] {
		fmt.Fprintf(out, "  %s…  %5d %5d %6d\n", u.UserHash[:min(12, len(u.UserHash))], u.Versions, u.Models, u.Images)
	}
	if len(ups) == 0 {
		return nil
	}
	top := ups[0].UserHash
	imgs, err := rel.UserImages(ctx, top)
	if err != nil {
		return err
	}
	vs, err := rel.UserModels(ctx, top)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe top uploader made %d images and uploaded %d versions; their first LoRA: %q (%s, %s)\n",
		len(imgs), len(vs), vs[0].ModelName, vs[0].BaseModel, vs[0].PublishedAt.Format("2006-01-02"))
	vimgs, err := rel.VersionImages(ctx, vs[0].ID, 3)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Images made with it (first %d):\n", len(vimgs))
	for _, im := range vimgs {
		fmt.Fprintf(out, "  image %d (%s, %d LoRAs, %d likes): %.70s\n", im.ID, im.CreatedAt.Format("2006-01-02"),
			len(im.ModelVersionIDs), im.Reactions.Like, im.Generation.Prompt)
	}
	return nil
}

func printInteractions(ctx context.Context, out io.Writer, rel *imagegem.Release) ([]interactionRow, error) {
	fmt.Fprintln(out, "\nRecommendation interactions (§5.2; users with fewer than 3 dropped, leave-one-last split):")
	var rows []interactionRow
	for _, kind := range []imagegem.InteractionKind{imagegem.UserModel, imagegem.UserImage} {
		inters, err := rel.Interactions(ctx, kind, nil)
		if err != nil {
			return nil, err
		}
		users, items := map[string]bool{}, map[int64]bool{}
		for _, in := range inters {
			users[in.User] = true
			items[in.Item] = true
		}
		s := imagegem.SplitLeaveOneLast(inters)
		r := interactionRow{Kind: kind.String(), Interactions: len(inters), Users: len(users), Items: len(items),
			Train: len(s.Train), Valid: len(s.Valid), Test: len(s.Test)}
		rows = append(rows, r)
		fmt.Fprintf(out, "  %-10s %7d interactions, %6d users, %7d items; train %d / valid %d / test %d\n",
			r.Kind, r.Interactions, r.Users, r.Items, r.Train, r.Valid, r.Test)
	}
	return rows, nil
}
