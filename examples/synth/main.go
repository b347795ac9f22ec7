// Command synth writes a deterministic synthetic ImageGem release in the exact schema of the
// public tables, with planted structure (see package imagegem/synth).
//
//	go run ./examples/synth -out DIR [-images N] [-seed S] [-companions] [-dim D] [-rows-per-file N]
//
// DIR becomes a release folder (ImageGem-images/, ImageGem-models/ and, with -companions,
// synth/): it is created if needed and must not hold a release already. The release appears
// whole or not at all; Ctrl-C stops the program within moments and leaves nothing. A progress
// bar is drawn on stderr when it is a terminal; the last line of stdout is one JSON object
// describing what was written.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/internal/cli"
)

func main() { cli.Main("synth", run) }

// result is the program's last line.
type result struct {
	Out        string  `json:"out"`
	Seed       uint64  `json:"seed"`
	Images     int     `json:"images"`
	Users      int     `json:"users"`
	Uploaders  int     `json:"uploaders"`
	Versions   int     `json:"versions"`
	Companions bool    `json:"companions"`
	Seconds    float64 `json:"seconds"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("synth", "synth -out DIR [-images N] [-seed S] [-companions] [-dim D] [-rows-per-file N]", stderr)
	out := fs.String("out", "", "release folder to write (required; must not hold a release)")
	images := fs.Int("images", synth.DefaultImages, "number of distinct images (about 1.5 table rows each)")
	seed := fs.Uint64("seed", 1, "random seed")
	companions := fs.Bool("companions", false, "also write synth/: vectors, LoRA files, truth.json")
	dim := fs.Int("dim", synth.DefaultDim, "length of the companion vectors")
	rows := fs.Int("rows-per-file", 0, "table rows per parquet file (0: the writer's default)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "out"); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "synth: writing %d images into %s\n", *images, *out)
	bar := cli.NewBar(stderr)
	start := time.Now()
	truth, err := synth.Generate(ctx, *out, &synth.Options{
		Seed: *seed, Images: *images, Companions: *companions, Dim: *dim, RowsPerFile: *rows,
		Progress: bar.Report,
	})
	bar.Done()
	if err != nil {
		return err
	}
	r := result{Out: *out, Seed: *seed, Images: *images, Users: len(truth.Users), Versions: len(truth.Versions),
		Companions: *companions, Seconds: time.Since(start).Seconds()}
	for _, u := range truth.Users {
		if u.Uploader {
			r.Uploaders++
		}
	}
	fmt.Fprintf(stdout, "wrote %d images by %d users, %d LoRA versions by %d uploaders into %s in %.1fs\n",
		r.Images, r.Users, r.Versions, r.Uploaders, r.Out, r.Seconds)
	return cli.JSON(stdout, r)
}
