package imagegem_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
)

// BenchmarkOpenStats opens a generated release and computes Stats (paper Table 1). The
// release is IMAGEGEM_BENCH_RELEASE when set (scripts/bench_imagegem.sh makes a
// 5,000,000-row one), else a 200,000-image release generated once into the temp folder.
// It reports the process's peak resident memory (VmHWM) as peak-MiB.
func BenchmarkOpenStats(b *testing.B) {
	dir := benchRelease(b)
	ctx := context.Background()
	var rows int64
	for b.Loop() {
		r, err := imagegem.Open(ctx, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Stats(ctx); err != nil {
			b.Fatal(err)
		}
		if rows == 0 {
			if err := r.DB().QueryRow("SELECT count(*) FROM images").Scan(&rows); err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
	}
	b.ReportMetric(float64(rows), "image-rows")
	b.ReportMetric(peakMiB(), "peak-MiB")
}

// BenchmarkFilteredStats computes the filtered row of Table 1 on the same release, with the
// prompts holding the generator's planted unsafe words as the unsafe-prompt table (about 5%
// of the prompts).
func BenchmarkFilteredStats(b *testing.B) {
	dir := benchRelease(b)
	ctx := context.Background()
	r, err := imagegem.Open(ctx, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rows, err := r.Query(ctx, `SELECT DISTINCT "prompt" FROM images WHERE contains("prompt", 'gore') OR contains("prompt", 'bloodbath')`)
	if err != nil {
		b.Fatal(err)
	}
	var f imagegem.SafetyFilter
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			b.Fatal(err)
		}
		f.Prompts = append(f.Prompts, p)
	}
	rows.Close()
	for b.Loop() {
		if _, err := r.FilteredStats(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(f.Prompts)), "unsafe-prompts")
	b.ReportMetric(peakMiB(), "peak-MiB")
}

func benchRelease(b *testing.B) string {
	dir := os.Getenv("IMAGEGEM_BENCH_RELEASE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "imagegem-bench-200000")
		if _, err := os.Stat(filepath.Join(dir, imagegem.ImagesDir)); err != nil {
			if _, err := synth.Generate(context.Background(), dir, &synth.Options{Seed: 1, Images: 200000}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dir
}

// peakMiB reads the process's resident-memory high-water mark from /proc (Linux).
func peakMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
