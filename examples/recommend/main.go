// Command recommend trains one retrieval recommender of package recsys on an interaction file
// and evaluates it under the leave-one-last protocol of paper §5.2. Its last line on stdout is
// one JSON object with the metrics; progress goes to stderr (a bar on a terminal, one line per
// epoch otherwise).
//
//	go run ./examples/recommend -in ../shared/data/recsys/sasrec_Video.txt -recommender sasrec -protocol sampled100
//
// Flags:
//
//	-in FILE             the interaction file (required): "user item" lines in time order
//	                     (-format sasrec, the default) or a RecBole .inter file (-format recbole)
//	-recommender NAME    itemknn (default), userknn, item2vec, twotower or sasrec
//	-protocol P          full (rank against every item) or sampled100 (against 100 sampled
//	                     negatives, as in the SASRec paper)
//	-seed N              random seed of training and of the sampled negatives
//	-epochs N            training epochs of item2vec, twotower and sasrec (0: the default)
//	-eval-every N        sasrec: print validation and test HR@10 every N epochs (stderr)
//	-max-minutes M       sasrec: end training after the first epoch past M minutes of
//	                     training time (recsys.SASRecOptions.MaxTrainTime); the model keeps
//	                     that epoch's weights and is evaluated
//	-loss bce|ce         sasrec: the paper's loss or RecBole's
//	-out FILE            write the trained model to FILE (as soon as training ends)
//	-load FILE           evaluate a model written with -out instead of training one
//
// A saved model is one file, not a folder, so it is named with -out and -load rather than the
// -model flag the other programs use for model folders; the kind of model is -recommender.
// The input is an interaction file (-in) rather than a release folder (-data): turning a
// release into interactions is the imagegem package's export.
//
// Ctrl-C cancels training or evaluation: the program exits at once with status 130 and writes
// no model file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/recsys"
)

const synopsis = "recommend -in FILE [-format sasrec|recbole] [-recommender NAME] [-protocol full|sampled100] [-out FILE | -load FILE] [flags]"

func main() { cli.Main("recommend", run) }

// reportKs are the cut-offs in the JSON result.
var reportKs = []int{10, 50, 100}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("recommend", synopsis, stderr)
	var (
		in          = fs.String("in", "", "interaction `file` (required)")
		format      = fs.String("format", "sasrec", "file format: sasrec (\"user item\" lines in time order) or recbole (.inter)")
		recommender = fs.String("recommender", "itemknn", "itemknn|userknn|item2vec|twotower|sasrec")
		protocol    = fs.String("protocol", "full", "full|sampled100")
		seed        = fs.Uint64("seed", 0, "random seed")
		epochs      = fs.Int("epochs", 0, "training epochs (0: the model's default)")
		evalEvery   = fs.Int("eval-every", 0, "sasrec: evaluate on the validation and test items every N epochs (0: never)")
		maxMin      = fs.Float64("max-minutes", 0, "sasrec: end training after the first epoch past this many minutes (0: no limit)")
		loss        = fs.String("loss", "bce", "sasrec: bce (paper) or ce (RecBole)")
		out         = fs.String("out", "", "write the trained model to this `file`")
		load        = fs.String("load", "", "evaluate the model in this `file` (written with -out) instead of training one")
	)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in"); err != nil {
		return err
	}
	proto := recsys.Protocol(*protocol)
	if proto != recsys.ProtocolFull && proto != recsys.ProtocolSampled100 {
		return cli.Usagef("-protocol %q: want full or sampled100", *protocol)
	}
	if *format != string(recsys.FormatSASRec) && *format != string(recsys.FormatRecBole) {
		return cli.Usagef("-format %q: want sasrec or recbole", *format)
	}
	if *loss != "bce" && *loss != "ce" {
		return cli.Usagef("-loss %q: want bce or ce", *loss)
	}
	if *out != "" && *load != "" {
		return cli.Usagef("-out and -load exclude each other")
	}
	if *maxMin < 0 || *epochs < 0 || *evalEvery < 0 {
		return cli.Usagef("-epochs, -eval-every and -max-minutes must not be negative")
	}
	if *out != "" {
		// Refuse before hours of training, not after.
		if err := atomicfile.CheckInputs(*out, *in); err != nil {
			return fmt.Errorf("-out %s: %w", *out, err)
		}
	}

	data, err := recsys.LoadInteractionsFile(*in, recsys.Format(*format))
	if err != nil {
		return err
	}
	split, err := recsys.LeaveOneLast(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "data: %d users, %d items, %d interactions\n", data.NumUsers(), data.NumItems(), data.NumInteractions())

	terminal := cli.IsTerminal(stderr)
	bar := cli.NewBar(stderr)
	defer bar.Done()
	report := func(p recsys.Progress) {
		switch {
		case terminal:
			bar.Report(p)
		case p.Stage == "epoch":
			fmt.Fprintf(stderr, "epoch %d/%d loss %.4f\n", p.Done, p.Total, p.Loss)
		}
	}

	var m recsys.Model
	var trainSeconds float64
	if *load != "" {
		if set(fs, "recommender") {
			return cli.Usagef("-recommender and -load exclude each other (the file says which model it holds)")
		}
		if m, err = recsys.LoadModelFile(*load); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "loaded %s from %s\n", m.Name(), *load)
	} else {
		var evalTime time.Duration // spent evaluating inside training, not counted as training
		var sas *recsys.SASRec
		switch *recommender {
		case "itemknn":
			m, err = recsys.NewItemKNN(nil)
		case "userknn":
			m, err = recsys.NewUserKNN(nil)
		case "item2vec":
			m, err = recsys.NewItem2Vec(&recsys.Item2VecOptions{Seed: *seed, Epochs: *epochs, Progress: report})
		case "twotower":
			m, err = recsys.NewTwoTower(&recsys.TwoTowerOptions{Seed: *seed, Epochs: *epochs, Progress: report})
		case "sasrec":
			o := &recsys.SASRecOptions{Seed: *seed, Epochs: *epochs, MaxTrainTime: time.Duration(*maxMin * float64(time.Minute))}
			if *loss == "ce" {
				o.Loss = recsys.LossCE
			}
			o.Progress = func(p recsys.Progress) {
				report(p)
				if *evalEvery > 0 && p.Done%*evalEvery == 0 {
					t0 := time.Now()
					evaluateDuringTraining(ctx, stderr, sas, split, proto, *seed, p.Done)
					evalTime += time.Since(t0)
				}
			}
			sas, err = recsys.NewSASRec(o)
			m = sas
		default:
			return cli.Usagef("unknown -recommender %q (want itemknn, userknn, item2vec, twotower or sasrec)", *recommender)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "training %s\n", m.Name())
		start := time.Now()
		if err := m.Fit(ctx, split); err != nil {
			return err
		}
		bar.Done()
		trainSeconds = (time.Since(start) - evalTime).Seconds()
		fmt.Fprintf(stderr, "trained %s in %.1fs\n", m.Name(), trainSeconds)
		if *out != "" {
			if err := recsys.SaveModelFile(ctx, *out, m, *in); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "saved %s\n", *out)
		}
	}

	met, err := recsys.Evaluate(ctx, m, split, &recsys.EvalOptions{Protocol: proto, Seed: *seed, Ks: reportKs, Progress: report})
	if err != nil {
		return err
	}
	bar.Done()
	res := map[string]any{
		"model": m.Name(), "protocol": string(proto), "users": data.NumUsers(), "items": data.NumItems(),
		"interactions": data.NumInteractions(), "evaluated_users": met.Users, "train_seconds": trainSeconds,
	}
	for _, k := range reportKs {
		res[fmt.Sprintf("recall@%d", k)] = met.Recall[k]
		res[fmt.Sprintf("ndcg@%d", k)] = met.NDCG[k]
		res[fmt.Sprintf("mrr@%d", k)] = met.MRR[k]
	}
	return cli.JSON(stdout, res)
}

// evaluateDuringTraining prints HR@10 and NDCG@10 on the validation and test items after an
// epoch. It is called from SASRec's progress report, while training waits.
func evaluateDuringTraining(ctx context.Context, stderr io.Writer, m recsys.Model, split *recsys.Split, proto recsys.Protocol, seed uint64, epoch int) {
	for _, st := range []recsys.Stage{recsys.StageValid, recsys.StageTest} {
		met, err := recsys.Evaluate(ctx, m, split, &recsys.EvalOptions{Protocol: proto, Stage: st, Seed: seed, Ks: []int{10}})
		if err != nil {
			return // cancelled: Fit reports it
		}
		name := "test"
		if st == recsys.StageValid {
			name = "valid"
		}
		fmt.Fprintf(stderr, "epoch %d %s %s HR@10 %.4f NDCG@10 %.4f\n", epoch, name, proto, met.Recall[10], met.NDCG[10])
	}
}

// set reports whether the flag was given on the command line.
func set(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
