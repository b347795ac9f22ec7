// Command ingest turns a folder of generated images into an ImageGem release: the
// generation metadata of A1111/Forge, ComfyUI, NovelAI, InvokeAI, SwarmUI and Civitai (see
// package imagegem/meta), and the LoRA versions each image used, resolved by hash against a
// folder of LoRA files (see imagegem.IngestFolder).
//
//	go run ./examples/ingest -in DIR -out DIR [-loras DIR] [-user NAME] [-checkpoints]
//
// A second run over the same -out reads only new or changed files and leaves the release as
// it was when nothing changed. The release is replaced whole or not at all; Ctrl-C stops the
// program within moments and leaves the old release (or nothing). A progress bar is drawn on
// stderr when it is a terminal; the last line of stdout is one JSON object: the report.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/internal/cli"
)

func main() { cli.Main("ingest", run) }

// result is the program's last line.
type result struct {
	In      string                `json:"in"`
	Out     string                `json:"out"`
	Report  imagegem.FolderReport `json:"report"`
	Seconds float64               `json:"seconds"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("ingest", "ingest -in DIR -out DIR [-loras DIR] [-user NAME] [-checkpoints]", stderr)
	in := fs.String("in", "", "folder of generated images, searched below (required)")
	out := fs.String("out", "", "release folder to write or update (required)")
	loras := fs.String("loras", "", "folder of LoRA .safetensors files to resolve the images' LoRAs against")
	release := fs.String("release", "", "release folder (e.g. the public ImageGem release) whose models table resolves what no LoRA file does")
	user := fs.String("user", "", "the user whose images these are (only its hash is stored; default "+imagegem.FolderDefaultUser+")")
	checkpoints := fs.Bool("checkpoints", false, "keep images made with no LoRA, related to their checkpoint")
	rows := fs.Int("rows-per-file", 0, "table rows per parquet file (0: the writer's default)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in", "out"); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ingest: reading %s into %s\n", *in, *out)
	bar := cli.NewBar(stderr)
	start := time.Now()
	rep, err := imagegem.IngestFolder(ctx, *in, *out, &imagegem.FolderOptions{
		LoRAs: *loras, Release: *release, User: *user, Checkpoints: *checkpoints, RowsPerFile: *rows, Progress: bar.Report,
	})
	bar.Done()
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "ingest: %s\n", p)
	}
	state := "wrote"
	if !rep.Written {
		state = "nothing new; kept"
	}
	fmt.Fprintf(stdout, "%d files (%d new, %d unchanged, %d removed): %s %d images, %d LoRA versions into %s\n",
		rep.Files, rep.Added, rep.Unchanged, rep.Removed, state, rep.Images, rep.Versions, *out)
	fmt.Fprintf(stdout, "LoRA references: %d, by hash %d, by Civitai version id %d, by name %d, unresolved %d %v\n",
		rep.LoRARefs, rep.ByHash, rep.ByVersionID, rep.ByName, rep.Unresolved, rep.UnresolvedNames)
	return cli.JSON(stdout, result{In: *in, Out: *out, Report: rep, Seconds: time.Since(start).Seconds()})
}
