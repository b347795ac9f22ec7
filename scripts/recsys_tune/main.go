// Command recsys_tune trains Item2Vec or Two-Tower over a grid of options on the training
// part of a leave-one-last split and reports full-ranking metrics on the validation items
// only (the test items are never looked at), one line per setting. It is how the defaults
// of those two models were chosen; see BENCHMARKS.md (section recsys).
//
//	go run ./scripts/recsys_tune -data ../shared/data/recsys/sasrec_Video.txt \
//	    -model item2vec -grid 'lr=0.025,0.05;epochs=10,20'
//
// Grid keys: item2vec: dim, neg, epochs, lr, pairs, window, scoring (0 in·out, 1 cosine,
// 2 dot: recsys.Item2VecScoring); twotower: dim, batch, epochs, lr, temp,
// logq (0 or 1; off unless given), history. Keys left out keep the model's defaults.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imagegem/imagegem-go/recsys"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "recsys_tune:", err)
		os.Exit(1)
	}
}

// expand turns "a=1,2;b=3" into every combination, keys in the order given.
func expand(grid string) ([]map[string]float64, []string, error) {
	combos := []map[string]float64{{}}
	var keys []string
	for _, part := range strings.Split(grid, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, vals, ok := strings.Cut(part, "=")
		if !ok {
			return nil, nil, fmt.Errorf("grid part %q is not key=v1,v2", part)
		}
		keys = append(keys, k)
		var next []map[string]float64
		for _, c := range combos {
			for _, v := range strings.Split(vals, ",") {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, nil, fmt.Errorf("grid %s: %w", k, err)
				}
				m := map[string]float64{k: x}
				for kk, vv := range c {
					m[kk] = vv
				}
				next = append(next, m)
			}
		}
		combos = next
	}
	return combos, keys, nil
}

func build(model string, c map[string]float64, seed uint64) (recsys.Model, error) {
	known := map[string][]string{
		"item2vec": {"dim", "neg", "epochs", "lr", "pairs", "window", "scoring"},
		"twotower": {"dim", "batch", "epochs", "lr", "temp", "logq", "history"},
	}[model]
	for k := range c {
		if !contains(known, k) {
			return nil, fmt.Errorf("model %s has no grid key %q (known: %v)", model, k, known)
		}
	}
	switch model {
	case "item2vec":
		return recsys.NewItem2Vec(&recsys.Item2VecOptions{Seed: seed, Dim: int(c["dim"]), Negatives: int(c["neg"]),
			Epochs: int(c["epochs"]), LR: c["lr"], MaxPairs: int(c["pairs"]), Window: int(c["window"]),
			Scoring: recsys.Item2VecScoring(c["scoring"])})
	case "twotower":
		return recsys.NewTwoTower(&recsys.TwoTowerOptions{Seed: seed, Dim: int(c["dim"]), BatchSize: int(c["batch"]),
			Epochs: int(c["epochs"]), LR: c["lr"], Temperature: c["temp"], LogQ: c["logq"] != 0,
			History: int(c["history"])})
	}
	return nil, fmt.Errorf("unknown -model %q (item2vec or twotower)", model)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func run() error {
	var (
		data  = flag.String("data", "", "interaction file, SASRec layout (required)")
		model = flag.String("model", "item2vec", "item2vec|twotower")
		grid  = flag.String("grid", "", "settings to try: key=v1,v2;key2=...")
		seed  = flag.Uint64("seed", 0, "random seed")
	)
	flag.Parse()
	if *data == "" {
		flag.Usage()
		return fmt.Errorf("-data is required")
	}
	combos, keys, err := expand(*grid)
	if err != nil {
		return err
	}
	in, err := recsys.LoadInteractionsFile(*data, recsys.FormatSASRec)
	if err != nil {
		return err
	}
	split, err := recsys.LeaveOneLast(in)
	if err != nil {
		return err
	}
	ctx := context.Background()
	sort.Strings(keys)
	for _, c := range combos {
		m, err := build(*model, c, *seed)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := m.Fit(ctx, split); err != nil {
			return err
		}
		train := time.Since(start)
		met, err := recsys.Evaluate(ctx, m, split, &recsys.EvalOptions{Protocol: recsys.ProtocolFull, Stage: recsys.StageValid, Seed: *seed})
		if err != nil {
			return err
		}
		var desc []string
		for _, k := range keys {
			desc = append(desc, fmt.Sprintf("%s=%g", k, c[k]))
		}
		fmt.Printf("%s %s: valid Recall@10 %.4f NDCG@10 %.4f Recall@50 %.4f Recall@100 %.4f (train %.0fs)\n",
			*model, strings.Join(desc, " "), met.Recall[10], met.NDCG[10], met.Recall[50], met.Recall[100], train.Seconds())
	}
	return nil
}
