package recsys_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagegem/imagegem-go/recsys"
)

func ExampleHNSW_WriteTo() {
	items := []float32{1, 0, 0, 1, 0.6, 0.8, -1, 0}
	idx, _ := recsys.NewHNSW(context.Background(), items, 2, &recsys.HNSWOptions{})
	var buf bytes.Buffer
	if _, err := idx.WriteTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := recsys.ReadHNSW(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	hits, _ := loaded.Search([]float32{0.6, 0.8}, 2, 0)
	fmt.Println(loaded.Len(), hits[0].Item, hits[1].Item)
	// Output: 4 2 1
}

func ExampleReadHNSW() {
	_, err := recsys.ReadHNSW(bytes.NewReader([]byte("IGEMHNSW\x02\x00\x00\x00")))
	fmt.Println(err)
	// Output: recsys: hnsw load: header at byte offset 12: truncated: unexpected EOF
}

func ExampleSaveHNSWFile() {
	dir, _ := os.MkdirTemp("", "hnsw")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "items.hnsw")
	items := []float32{0, 0, 1, 0, 2, 0, 10, 0}
	idx, _ := recsys.NewHNSW(context.Background(), items, 2, &recsys.HNSWOptions{Metric: recsys.MetricL2})
	if err := recsys.SaveHNSWFile(context.Background(), path, idx); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := recsys.LoadHNSWFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	hits, _ := loaded.Search([]float32{9, 0}, 1, 0)
	fmt.Println(hits[0].Item, hits[0].Score)
	// Output: 3 -1
}

func ExampleLoadHNSWFile() {
	dir, _ := os.MkdirTemp("", "hnsw")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "not-an-index.hnsw")
	_ = os.WriteFile(path, []byte("this is not an index, but it is long enough for a header....."), 0o644)
	_, err := recsys.LoadHNSWFile(path)
	fmt.Println(strings.Contains(err.Error(), "magic at byte offset 0"))
	// Output: true
}
