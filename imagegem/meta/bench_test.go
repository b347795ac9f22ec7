package meta

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadFolder reads the metadata of every file of the folder named by
// IMAGEGEM_META_BENCH_DIR (scripts/meta_bench.sh makes one of 10,000 files), no pixels
// decoded, and reports images per second.
func BenchmarkReadFolder(b *testing.B) {
	dir := os.Getenv("IMAGEGEM_META_BENCH_DIR")
	if dir == "" {
		b.Skip("set IMAGEGEM_META_BENCH_DIR to a folder of images")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	files := make([]string, len(ents))
	for i, e := range ents {
		files[i] = filepath.Join(dir, e.Name())
	}
	opts := &Options{Stealth: StealthOff}
	b.ResetTimer()
	found := 0
	for b.Loop() {
		found = 0
		for _, f := range files {
			if m, err := ReadFile(f, opts); err == nil && m.Generation != nil {
				found++
			}
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(found), "with_generation")
}

// BenchmarkReadSharedGenerations reads the 18 shared generations again and again (in the
// page cache), stealth included where the file has alpha and no text.
func BenchmarkReadSharedGenerations(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "images")
	var files []string
	for name := range want {
		files = append(files, filepath.Join(dir, name))
	}
	if _, err := os.Stat(files[0]); err != nil {
		b.Skip("shared data not found")
	}
	for b.Loop() {
		for _, f := range files {
			if _, err := ReadFile(f, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
