package hdbscan_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/imagegem/imagegem-go/embed/hdbscan"
)

// twoBlobs returns two tight groups of 12 points and one far outlier, row-major in two
// dimensions.
func twoBlobs() []float32 {
	var pts []float32
	for c := 0; c < 2; c++ {
		for i := 0; i < 12; i++ {
			pts = append(pts, float32(c)*10+float32(i%4)*0.2, float32(i/4)*0.2)
		}
	}
	return append(pts, 5, 40)
}

func ExampleFit() {
	res, err := hdbscan.Fit(context.Background(), twoBlobs(), 2, &hdbscan.Options{MinClusterSize: 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("clusters:", res.NumClusters, "noise:", res.NumNoise())
	fmt.Println("first blob:", res.Labels[0], "second blob:", res.Labels[12], "outlier:", res.Labels[24])
	// Output:
	// clusters: 2 noise: 1
	// first blob: 0 second blob: 1 outlier: -1
}

func ExampleFit_cosine() {
	pts := []float32{1, 0.01, 1, 0.02, 1, 0.03, 1, 0.04, 0.01, 1, 0.02, 1, 0.03, 1, 0.04, 1}
	res, err := hdbscan.Fit(context.Background(), pts, 2, &hdbscan.Options{MinClusterSize: 3, Metric: hdbscan.Cosine})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Labels)
	// Output:
	// [0 0 0 0 1 1 1 1]
}

func ExampleResult_Predict() {
	res, err := hdbscan.Fit(context.Background(), twoBlobs(), 2, &hdbscan.Options{MinClusterSize: 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	labels, _, err := res.Predict([]float32{10.3, 0.2, 0.2, 0.3, 50, 50})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(labels)
	// Output:
	// [1 0 -1]
}

func ExampleResult_NumNoise() {
	res, err := hdbscan.Fit(context.Background(), twoBlobs(), 2, &hdbscan.Options{MinClusterSize: 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.NumNoise())
	// Output:
	// 1
}

func ExampleReadCSV() {
	pts, dim, err := hdbscan.ReadCSV(strings.NewReader("0.5,1\n2,3\n"), "points.csv")
	fmt.Println(pts, dim, err)
	_, _, err = hdbscan.ReadCSV(strings.NewReader("0.5,1\n2\n"), "points.csv")
	fmt.Println(err)
	// Output:
	// [0.5 1 2 3] 2 <nil>
	// hdbscan: points.csv line 2: 1 values, earlier lines have 2: invalid input
}

func ExampleParseMetric() {
	m, err := hdbscan.ParseMetric("cosine")
	fmt.Println(m, err)
	// Output:
	// cosine <nil>
}

func ExampleParseSelection() {
	s, err := hdbscan.ParseSelection("leaf")
	fmt.Println(s, err)
	_, err = hdbscan.ParseSelection("best")
	fmt.Println(err)
	// Output:
	// leaf <nil>
	// hdbscan: unknown cluster selection method "best" (want eom or leaf)
}

func ExampleOptions_progress() {
	stages := map[string]bool{}
	opts := &hdbscan.Options{MinClusterSize: 5, Progress: func(p hdbscan.Progress) { stages[p.Stage] = true }}
	if _, err := hdbscan.Fit(context.Background(), twoBlobs(), 2, opts); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stages["core"], stages["mst"], stages["tree"])
	// Output:
	// true true true
}

func ExampleMode() {
	fmt.Println(hdbscan.Exact, hdbscan.Fast, hdbscan.Approximate)
	// Output:
	// exact fast approximate
}
