// Command recommend trains one retrieval recommender of package recsys on an interaction file
// and evaluates it under the leave-one-last protocol of paper §5.2. It prints progress, then
// as its last line one JSON object with the metrics.
//
//	go run ./examples/recommend -data ../shared/data/recsys/sasrec_Video.txt -model sasrec -protocol sampled100
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/imagegem/imagegem-go/recsys"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "recommend:", err)
		os.Exit(1)
	}
}

func stageName(s recsys.Stage) string {
	if s == recsys.StageValid {
		return "valid"
	}
	return "test"
}

func run() error {
	var (
		data      = flag.String("data", "", "interaction file (required)")
		format    = flag.String("format", "sasrec", "file format: sasrec (\"user item\" lines in time order) or recbole (.inter)")
		model     = flag.String("model", "itemknn", "itemknn|userknn|item2vec|twotower|sasrec")
		protocol  = flag.String("protocol", "full", "full|sampled100")
		seed      = flag.Uint64("seed", 0, "random seed")
		epochs    = flag.Int("epochs", 0, "training epochs (0: the model's default)")
		evalEvery = flag.Int("eval-every", 0, "sasrec: evaluate on the validation and test items every N epochs (0: never)")
		maxMin    = flag.Float64("max-minutes", 0, "sasrec: stop training after this many minutes (0: no limit)")
		loss      = flag.String("loss", "bce", "sasrec: bce (paper) or ce (RecBole)")
		save      = flag.String("save", "", "write the trained model to this file")
		load      = flag.String("load", "", "evaluate a model saved with -save instead of training one")
	)
	flag.Parse()
	if *data == "" {
		flag.Usage()
		return fmt.Errorf("-data is required")
	}
	// The first interrupt stops training early and still evaluates; a second one exits.
	ctx := context.Background()
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	stopTraining := func() bool {
		select {
		case <-interrupted:
			signal.Reset(os.Interrupt)
			return true
		default:
			return false
		}
	}

	in, err := recsys.ReadFile(*data, recsys.Format(*format))
	if err != nil {
		return err
	}
	split, err := recsys.LeaveOneLast(in)
	if err != nil {
		return err
	}
	fmt.Printf("data: %d users, %d items, %d interactions\n", in.NumUsers(), in.NumItems(), in.NumInteractions())

	proto := recsys.Protocol(*protocol)
	var sasTrain time.Duration
	var m recsys.Model
	switch *model {
	case "itemknn":
		m = recsys.NewItemKNN(recsys.KNNOptions{})
	case "userknn":
		m = recsys.NewUserKNN(recsys.KNNOptions{})
	case "sasrec":
		o := recsys.SASRecOptions{Seed: *seed, Epochs: *epochs}
		if *loss == "ce" {
			o.Loss = recsys.LossCE
		}
		var sm *recsys.SASRec
		o.Progress = func(epoch int, l float64, el time.Duration) bool {
			sasTrain = el
			fmt.Printf("epoch %d loss %.4f train %.1fs (process CPU %.0fs)\n", epoch, l, el.Seconds(), cpuSeconds())
			if *evalEvery > 0 && epoch%*evalEvery == 0 {
				for _, st := range []recsys.Stage{recsys.StageValid, recsys.StageTest} {
					met, err := recsys.Evaluate(ctx, sm, split, recsys.EvalOptions{Protocol: proto, Stage: st, Seed: *seed, Ks: []int{10}})
					if err == nil {
						fmt.Printf("epoch %d %s %s HR@10 %.4f NDCG@10 %.4f (train %.0fs)\n", epoch, stageName(st), proto, met.Recall[10], met.NDCG[10], el.Seconds())
					}
				}
			}
			if *maxMin > 0 && el.Minutes() >= *maxMin {
				fmt.Printf("stopping after %.1f minutes\n", el.Minutes())
				return false
			}
			return !stopTraining()
		}
		sm = recsys.NewSASRec(o)
		m = sm
	default:
		if extra, ok := extraModel(*model, *seed, *epochs); ok {
			m = extra
			break
		}
		return fmt.Errorf("unknown -model %q", *model)
	}
	start := time.Now()
	if *load != "" {
		if m, err = recsys.LoadFile(*load); err != nil {
			return err
		}
		fmt.Printf("loaded %s from %s\n", m.Name(), *load)
	} else if err := m.Fit(ctx, split); err != nil {
		return err
	}
	trainSeconds := time.Since(start).Seconds()
	if *load != "" {
		trainSeconds = 0
	}
	if sasTrain > 0 {
		trainSeconds = sasTrain.Seconds() // without the evaluations run during training
	}
	fmt.Printf("trained %s in %.1fs\n", m.Name(), trainSeconds)
	if *save != "" {
		if err := saveModel(m, *save); err != nil {
			return err
		}
		fmt.Printf("saved %s\n", *save)
	}
	met, err := recsys.Evaluate(ctx, m, split, recsys.EvalOptions{Protocol: proto, Seed: *seed, Ks: []int{10, 50, 100}})
	if err != nil {
		return err
	}
	out := map[string]any{
		"model": m.Name(), "protocol": string(proto), "users": in.NumUsers(), "items": in.NumItems(),
		"recall@10": met.Recall[10], "ndcg@10": met.NDCG[10], "recall@50": met.Recall[50],
		"recall@100": met.Recall[100], "train_seconds": trainSeconds,
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// cpuSeconds is the user+system CPU time of this process so far: on a machine shared with
// other jobs it shows how much of the wall time the training actually ran.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
