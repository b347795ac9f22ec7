// Command cluster runs HDBSCAN over a CSV file of points (one point per line,
// comma-separated numbers) and writes one label per line (-1 for noise) in input order.
//
//	go run ./examples/cluster -in points.csv -min-cluster-size 15 -out labels.txt
//
// It prints a summary: the number of clusters and noise points and the seconds taken.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/imagegem/imagegem-go/embed/hdbscan"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "CSV file of points, one per line (required)")
	out := fs.String("out", "", "file to write one label per line (-1 = noise); none if empty")
	mcs := fs.Int("min-cluster-size", hdbscan.DefaultMinClusterSize, "smallest cluster")
	ms := fs.Int("min-samples", 0, "core-distance neighbours, the point itself not counted (0 = min-cluster-size)")
	method := fs.String("method", "eom", "cluster selection: eom or leaf")
	eps := fs.Float64("epsilon", 0, "cluster_selection_epsilon")
	alpha := fs.Float64("alpha", 1, "distance scaling of the mutual reachability")
	single := fs.Bool("allow-single-cluster", false, "let EOM select a single cluster")
	metric := fs.String("metric", "euclidean", "euclidean or cosine")
	exact := fs.Bool("exact", false, "float64 exact mode (reproduces the reference bit for bit)")
	refTies := fs.Bool("reference-ties", false, "order tied spanning-tree edges as numpy 1.24's sort does, as the reference (default: stable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		fs.Usage()
		return errors.New("-in is required")
	}
	if *out != "" {
		if same, err := samePath(*in, *out); err != nil {
			return err
		} else if same {
			return fmt.Errorf("-out %s is the input file; refusing to overwrite it", *out)
		}
	}
	sel, err := hdbscan.ParseSelection(*method)
	if err != nil {
		return err
	}
	met, err := hdbscan.ParseMetric(*metric)
	if err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	pts, err := hdbscan.ReadCSV(bufio.NewReader(f), *in)
	f.Close()
	if err != nil {
		return err
	}
	opts := hdbscan.Options{
		MinClusterSize:     *mcs,
		MinSamples:         *ms,
		Selection:          sel,
		Epsilon:            *eps,
		Alpha:              *alpha,
		AllowSingleCluster: *single,
		Metric:             met,
		ReferenceTieOrder:  *refTies,
	}
	if *exact {
		opts.Mode = hdbscan.Exact
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := hdbscan.Fit(ctx, pts, opts)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if *out != "" {
		if err := writeLabels(*out, res.Labels); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "points %d, dimensions %d, mode %v\nclusters %d, noise %d, seconds %.3f\n",
		len(pts), len(pts[0]), res.Mode, res.NumClusters, res.NumNoise(), secs)
	return nil
}

// samePath reports whether two paths name the same existing file.
func samePath(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// writeLabels writes the labels to a temporary file beside path and renames it into place.
func writeLabels(path string, labels []int) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	for _, l := range labels {
		w.WriteString(strconv.Itoa(l))
		w.WriteByte('\n')
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
