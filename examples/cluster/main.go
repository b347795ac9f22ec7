// Command cluster runs HDBSCAN over a CSV file of points (one point per line,
// comma-separated numbers, read as float32) and writes one label per line (-1 for noise) in
// input order.
//
//	go run ./examples/cluster -in points.csv -min-cluster-size 15 -out labels.txt
//
// It prints a summary, then one line of JSON: the number of points, clusters and noise
// points, the mode and the seconds taken. A progress bar is drawn on stderr when it is a
// terminal; Ctrl-C stops the fit and writes nothing.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/imagegem/imagegem-go/embed/hdbscan"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
)

// summary is the last line the program prints.
type summary struct {
	Points     int     `json:"points"`
	Dimensions int     `json:"dimensions"`
	Mode       string  `json:"mode"`
	Clusters   int     `json:"clusters"`
	Noise      int     `json:"noise"`
	Seconds    float64 `json:"seconds"`
	Out        string  `json:"out,omitempty"`
}

func main() { cli.Main("cluster", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("cluster", "cluster -in points.csv [-out labels.txt] [flags]", stderr)
	in := fs.String("in", "", "CSV file of points, one per line (required)")
	out := fs.String("out", "", "file to write one label per line (-1 = noise); none if empty")
	mcs := fs.Int("min-cluster-size", hdbscan.DefaultMinClusterSize, "smallest cluster")
	ms := fs.Int("min-samples", 0, "core-distance neighbours, the point itself not counted (0 = min-cluster-size)")
	method := fs.String("method", "eom", "cluster selection: eom or leaf")
	eps := fs.Float64("epsilon", 0, "cluster_selection_epsilon")
	alpha := fs.Float64("alpha", 1, "distance scaling of the mutual reachability")
	single := fs.Bool("allow-single-cluster", false, "let EOM select a single cluster")
	metric := fs.String("metric", "euclidean", "euclidean or cosine")
	exact := fs.Bool("exact", false, "float64 exact mode (the reference's arithmetic, bit for bit)")
	refTies := fs.Bool("reference-ties", false, "order tied spanning-tree edges as numpy 1.24's sort does, as the reference (default: stable)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in"); err != nil {
		return err
	}
	if *out != "" {
		if err := atomicfile.CheckInputs(*out, *in); err != nil {
			return err
		}
	}
	sel, err := hdbscan.ParseSelection(*method)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	met, err := hdbscan.ParseMetric(*metric)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	pts, dim, err := hdbscan.ReadCSV(bufio.NewReader(f), *in)
	f.Close()
	if err != nil {
		return err
	}
	bar := cli.NewBar(stderr)
	defer bar.Done()
	opts := &hdbscan.Options{
		MinClusterSize:     *mcs,
		MinSamples:         *ms,
		Selection:          sel,
		Epsilon:            *eps,
		Alpha:              *alpha,
		AllowSingleCluster: *single,
		Metric:             met,
		ReferenceTieOrder:  *refTies,
		Progress:           bar.Report,
	}
	if *exact {
		opts.Mode = hdbscan.Exact
	}
	start := time.Now()
	res, err := hdbscan.Fit(ctx, pts, dim, opts)
	if err != nil {
		return err
	}
	bar.Done()
	s := summary{Points: len(res.Labels), Dimensions: dim, Mode: res.Mode.String(), Clusters: res.NumClusters,
		Noise: res.NumNoise(), Seconds: time.Since(start).Seconds(), Out: *out}
	if *out != "" {
		if err := writeLabels(ctx, *out, *in, res.Labels); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "points %d, dimensions %d, mode %s\nclusters %d, noise %d, seconds %.3f\n",
		s.Points, s.Dimensions, s.Mode, s.Clusters, s.Noise, s.Seconds)
	return cli.JSON(stdout, s)
}

// writeLabels writes the labels atomically, never over the input.
func writeLabels(ctx context.Context, path, input string, labels []int) error {
	return atomicfile.Write(ctx, path, &atomicfile.Options{Inputs: []string{input}}, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		for _, l := range labels {
			w.WriteString(strconv.Itoa(l))
			w.WriteByte('\n')
		}
		return w.Flush()
	})
}
