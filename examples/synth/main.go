// Command synth writes a deterministic synthetic ImageGem release in the exact schema of the
// public tables, with planted structure (see package imagegem/synth).
//
//	go run ./examples/synth -out DIR [-images N] [-seed S] [-companions]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/imagegem/imagegem-go/imagegem/synth"
)

func main() {
	out := flag.String("out", "", "folder to write the release into (required; must not hold a release)")
	images := flag.Int("images", synth.DefaultImages, "number of distinct images (about 1.5 table rows each)")
	seed := flag.Uint64("seed", 1, "random seed")
	companions := flag.Bool("companions", false, "also write synth/: vectors, LoRA files, truth.json")
	dim := flag.Int("dim", synth.DefaultDim, "length of the companion vectors")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synth: -out is required")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	truth, err := synth.Generate(ctx, *out, &synth.Config{
		Seed: *seed, Images: *images, Companions: *companions, Dim: *dim,
		Progress: func(n int) { fmt.Fprintf(os.Stderr, "\rsynth: %d images", n) },
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d images by %d users, %d LoRA versions into %s in %.1fs\n",
		*images, len(truth.Users), len(truth.Versions), *out, time.Since(start).Seconds())
}
