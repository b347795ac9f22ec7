// Command w2w runs the weights2weights steps of the imagegem-go library on LoRA files.
//
//	w2w reduce -in LORA -out LORA
//	    rank-1 reduction of one LoRA, written as a rank-1 kohya LoRA.
//	w2w direction -loras DIR -labels CSV -components M -out FILE
//	    builds a space over the labelled LoRAs and writes the preference direction. The CSV
//	    has a header line "file,label" and one row per LoRA: a file name relative to DIR and
//	    1 (preferred) or -1 (not preferred). FILE holds the direction in the module layout of
//	    a rank-1 LoRA (<module>.lora_up.weight out×1, <module>.lora_down.weight 1×in).
//	w2w edit -in LORA -direction FILE -alpha A -out LORA
//	    moves a LoRA along a direction (θ + α·v) and writes it as a rank-1 kohya LoRA.
//
// Extra flags: reduce and edit take -dtype (F32, F16, BF16) and -format (kohya, the default,
// or peft: diffusers' unet.…lora_A.weight names with adapter_config.json beside); direction takes -classifier
// (logistic, svm, pinv), -selection (all, ff, attn_v, ff+attn_v), -standardize and -space FILE
// (also save the space); edit takes -space FILE to project the LoRA onto a saved space first.
// Each subcommand prints its usage on -h. Human-readable lines come first; the last line of
// the output is one JSON object with the results. Ctrl-C stops the work and leaves no
// output file behind.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/w2w"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

func main() { cli.Main("w2w", run) }

const (
	reduceUsage    = "w2w reduce -in LORA -out LORA [-dtype F32|F16|BF16] [-format kohya|peft]"
	directionUsage = "w2w direction -loras DIR -labels CSV -components M -out FILE [-classifier C] [-selection S] [-standardize] [-space FILE]"
	editUsage      = "w2w edit -in LORA -direction FILE -alpha A -out LORA [-space FILE] [-dtype F32|F16|BF16] [-format kohya|peft]"
	usage          = "usage:\n  " + reduceUsage + "\n  " + directionUsage + "\n  " + editUsage + "\n"
)

func run(ctx context.Context, args []string, out, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cli.Usagef("a subcommand is required")
	}
	switch args[0] {
	case "reduce":
		return reduceCmd(ctx, args[1:], out, stderr)
	case "direction":
		return directionCmd(ctx, args[1:], out, stderr)
	case "edit":
		return editCmd(ctx, args[1:], out, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, usage)
	return cli.Usagef("unknown subcommand %q", args[0])
}

const formatHelp = "output layout: kohya (every loader) or peft (diffusers/PEFT names, adapter_config.json written beside)"

func reduceCmd(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := cli.NewFlags("reduce", reduceUsage, stderr)
	in := fs.String("in", "", "input LoRA (.safetensors)")
	dst := fs.String("out", "", "output rank-1 LoRA")
	dtype := fs.String("dtype", "F32", "output dtype: F32, F16 or BF16")
	format := fs.String("format", "kohya", formatHelp)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in", "out"); err != nil {
		return err
	}
	l, err := w2w.LoadLoRA(*in)
	if err != nil {
		return err
	}
	red, err := w2w.Reduce(ctx, l, nil)
	if err != nil {
		return err
	}
	if err := w2w.WriteRank1LoRA(*dst, red, &w2w.WriteOptions{DType: safetensors.DType(strings.ToUpper(*dtype)), Format: w2w.Convention(strings.ToLower(*format))}); err != nil {
		return err
	}
	worst, total := 0.0, 0.0
	for i := range red.Modules {
		d := red.Modules[i].Discarded()
		worst = max(worst, d)
		total += d
	}
	fmt.Fprintf(out, "%s\n", l.Summary())
	mean := total / float64(max(len(red.Modules), 1))
	fmt.Fprintf(out, "wrote %s: %d rank-1 modules; energy discarded by rank 1: mean %.4f, worst %.4f\n", *dst, len(red.Modules), mean, worst)
	return cli.JSON(out, map[string]any{"out": *dst, "family": red.Family, "modules": len(red.Modules),
		"discarded_mean": mean, "discarded_worst": worst})
}

// readLabels reads the "file,label" CSV.
func readLabels(path string) ([]string, []int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("labels %s: %w", path, err)
	}
	if len(rows) == 0 || strings.TrimSpace(rows[0][0]) != "file" || strings.TrimSpace(rows[0][1]) != "label" {
		return nil, nil, fmt.Errorf("labels %s: the header line must be \"file,label\"", path)
	}
	var files []string
	var labels []int
	for i, row := range rows[1:] {
		y, err := strconv.Atoi(strings.TrimSpace(row[1]))
		if err != nil || (y != 1 && y != -1) {
			return nil, nil, fmt.Errorf("labels %s: line %d: label %q is not 1 or -1", path, i+2, row[1])
		}
		files = append(files, strings.TrimSpace(row[0]))
		labels = append(labels, y)
	}
	return files, labels, nil
}

func directionCmd(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := cli.NewFlags("direction", directionUsage, stderr)
	dir := fs.String("loras", "", "folder of LoRAs")
	labelsPath := fs.String("labels", "", "CSV with header file,label")
	m := fs.Int("components", w2w.DefaultComponents, "principal components kept")
	dst := fs.String("out", "", "output direction file")
	classifier := fs.String("classifier", string(w2w.Logistic), "logistic, svm or pinv")
	selection := fs.String("selection", string(w2w.SelectAll), "all, ff, attn_v or ff+attn_v")
	standardize := fs.Bool("standardize", false, "standardise each coordinate before the PCA")
	spaceOut := fs.String("space", "", "also save the space to this file")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "loras", "labels", "out"); err != nil {
		return err
	}
	files, labels, err := readLabels(*labelsPath)
	if err != nil {
		return err
	}
	var reds []*w2w.Reduced
	inputs := []string{*labelsPath}
	for _, f := range files {
		p := filepath.Join(*dir, f)
		inputs = append(inputs, p)
		r, err := w2w.ReduceFile(ctx, p, nil)
		if err != nil {
			return err
		}
		reds = append(reds, r)
	}
	lay, err := w2w.NewLayout(ctx, reds, &w2w.LayoutOptions{Selection: w2w.Selection(*selection)})
	if err != nil {
		return err
	}
	n := len(reds)
	x, _, err := w2w.FlattenAll(ctx, lay, reds, nil)
	if err != nil {
		return err
	}
	sp, err := w2w.BuildSpace(ctx, lay, x, n, &w2w.SpaceOptions{Components: *m, Standardize: *standardize})
	if err != nil {
		return err
	}
	coef, err := sp.Project(ctx, x, n, nil)
	if err != nil {
		return err
	}
	d, err := sp.Direction(ctx, coef, n, labels, &w2w.DirectionOptions{Classifier: w2w.Classifier(*classifier)})
	if err != nil {
		return err
	}
	meta := map[string]string{
		"w2w.classifier": string(d.Classifier),
		"w2w.components": strconv.Itoa(sp.M()),
		"w2w.n":          strconv.Itoa(n),
		"w2w.accuracy":   strconv.FormatFloat(d.Accuracy, 'f', 4, 64),
	}
	if err := w2w.WriteDirection(*dst, &w2w.DirectionFile{Layout: lay, Vector: d.Vector, Metadata: meta}, inputs...); err != nil {
		return err
	}
	if *spaceOut != "" {
		if err := sp.Save(*spaceOut); err != nil {
			return err
		}
	}
	// The spread of the population along the direction, a scale for choosing α.
	proj := make([]float64, n)
	mean := 0.0
	for i := 0; i < n; i++ {
		for k, w := range d.Coef {
			proj[i] += w * coef[i*sp.M()+k]
		}
		mean += proj[i]
	}
	mean /= float64(n)
	sd := 0.0
	for _, p := range proj {
		sd += (p - mean) * (p - mean)
	}
	fmt.Fprintf(out, "space: %d LoRAs (%s), %d modules, %d coordinates, %d components (%s)\n", n, lay.Family, len(lay.Modules), lay.Dim, sp.M(), sp.Method)
	fmt.Fprintf(out, "direction: %s, training accuracy %.3f, population spread along it %.4g (std)\n", d.Classifier, d.Accuracy, math.Sqrt(sd/float64(n)))
	fmt.Fprintf(out, "wrote %s\n", *dst)
	return cli.JSON(out, map[string]any{"out": *dst, "loras": n, "family": lay.Family, "modules": len(lay.Modules),
		"coordinates": lay.Dim, "components": sp.M(), "method": sp.Method, "classifier": d.Classifier,
		"accuracy": d.Accuracy, "spread_std": math.Sqrt(sd / float64(n))})
}

func editCmd(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := cli.NewFlags("edit", editUsage, stderr)
	in := fs.String("in", "", "input LoRA")
	dirPath := fs.String("direction", "", "direction file from the direction subcommand")
	alpha := fs.Float64("alpha", 0, "edit strength α (Euclidean length in the flattened rank-1 space)")
	dst := fs.String("out", "", "output LoRA")
	spacePath := fs.String("space", "", "saved space: project the LoRA onto it before editing")
	dtype := fs.String("dtype", "F32", "output dtype: F32, F16 or BF16")
	format := fs.String("format", "kohya", formatHelp)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in", "direction", "out"); err != nil {
		return err
	}
	df, err := w2w.ReadDirection(*dirPath)
	if err != nil {
		return err
	}
	lay, v := df.Layout, df.Vector
	red, err := w2w.ReduceFile(ctx, *in, nil)
	if err != nil {
		return err
	}
	var ed *w2w.Reduced
	if *spacePath != "" {
		sp, err := w2w.LoadSpace(*spacePath)
		if err != nil {
			return err
		}
		if sp.Dim() != lay.Dim {
			return fmt.Errorf("edit: space %s has %d coordinates, direction %s %d", *spacePath, sp.Dim(), *dirPath, lay.Dim)
		}
		ed, err = sp.Edit(ctx, red, v, *alpha, nil)
		if err != nil {
			return err
		}
	} else if ed, err = w2w.EditVector(red, lay, v, *alpha); err != nil {
		return err
	}
	opts := &w2w.WriteOptions{
		DType:     safetensors.DType(strings.ToUpper(*dtype)),
		Format:    w2w.Convention(strings.ToLower(*format)),
		Inputs:    []string{*in, *dirPath, *spacePath},
		Direction: *dirPath,
		Alpha:     *alpha,
	}
	if err := w2w.WriteRank1LoRA(*dst, ed, opts); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d rank-1 modules, α = %g\n", *dst, len(ed.Modules), *alpha)
	return cli.JSON(out, map[string]any{"out": *dst, "modules": len(ed.Modules), "alpha": *alpha})
}
