package w2w

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// sdxlAttnFF keeps the SDXL UNet's attention and feed-forward modules.
func sdxlAttnFF(prefix string) bool {
	if !strings.HasPrefix(prefix, "lora_unet_") {
		return false
	}
	k, _ := classifyModule(prefix, 0)
	switch k {
	case AttnQ, AttnK, AttnV, AttnOut, FF:
		return true
	}
	return false
}

// sdxlBenchFile writes the benchmark LoRA: every attention and FF module of the SDXL UNet
// (names and shapes from a real SDXL kohya LoRA's manifest), rank 32, F16.
func sdxlBenchFile(b *testing.B) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(32, 32))
	ts := manifestTensors(b, "alien_style_sdxl_kohya.manifest.json", 32, safetensors.F16, sdxlAttnFF, rng)
	p := filepath.Join(b.TempDir(), "sdxl_rank32_attn_ff.safetensors")
	require.NoError(b, safetensors.WriteFile(p, ts, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}))
	return p
}

// BenchmarkReduceSDXL compares the thin-factor rank-1 reduction of an SDXL-shaped LoRA with
// reading the file (read+reduce: LoadLoRA then Reduce; read+reduce-overlapped: ReduceFile) and
// with the naive route (form ΔW, full SVD), the latter timed on one
// module of each distinct shape and extrapolated to the file.
func BenchmarkReduceSDXL(b *testing.B) {
	path := sdxlBenchFile(b)
	ctx := context.Background()
	l, err := LoadLoRA(path)
	require.NoError(b, err)
	elems := 0
	for _, m := range l.Modules {
		elems += m.Rank * (m.Out + m.In)
	}
	b.Logf("%d modules, %d factor elements, file %s, backend %s, factor kernels %s", len(l.Modules), elems, path, DefaultBackend().Name(), cpuKernelName)
	b.Run("read", func(b *testing.B) {
		c0 := processCPUSeconds()
		defer func() { b.ReportMetric((processCPUSeconds()-c0)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			if _, err := LoadLoRA(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reduce", func(b *testing.B) {
		c0 := processCPUSeconds()
		defer func() { b.ReportMetric((processCPUSeconds()-c0)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			if _, err := Reduce(ctx, l, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read+reduce", func(b *testing.B) {
		c0 := processCPUSeconds()
		defer func() { b.ReportMetric((processCPUSeconds()-c0)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			l2, err := LoadLoRA(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Reduce(ctx, l2, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read+reduce-overlapped", func(b *testing.B) {
		c0 := processCPUSeconds()
		defer func() { b.ReportMetric((processCPUSeconds()-c0)/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			if _, err := ReduceFile(ctx, path, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("naive-full-svd", func(b *testing.B) {
		type shape struct{ out, in int }
		count := map[shape]int{}
		sample := map[shape]*Module{}
		for i := range l.Modules {
			s := shape{l.Modules[i].Out, l.Modules[i].In}
			count[s]++
			if sample[s] == nil {
				sample[s] = &l.Modules[i]
			}
		}
		for b.Loop() {
			total := 0.0
			for s, m := range sample {
				start := time.Now()
				var W mat.Dense
				W.Mul(mat.NewDense(m.Out, m.Rank, f64(m.Up)), mat.NewDense(m.Rank, m.In, f64(m.Down)))
				var svd mat.SVD
				if !svd.Factorize(&W, mat.SVDThin) {
					b.Fatal("svd failed")
				}
				sec := time.Since(start).Seconds()
				b.Logf("full SVD of formed %dx%d ΔW: %.2f s (%d such modules)", s.out, s.in, sec, count[s])
				total += sec * float64(count[s])
			}
			b.ReportMetric(total, "extrapolated-s/lora")
		}
	})
}

// benchEnvInt reads an integer benchmark size from the environment.
func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// sd15Rank1Dim returns d for SD1.5 rank-1 vectors of all UNet and text-encoder modules,
// from the key manifest of a real SD1.5 kohya LoRA.
func sd15Rank1Dim(b *testing.B) int {
	raw, err := os.ReadFile(shareddata.Path(b, "lora", "invokeai_stripped_manifests", "shinkai_makoto_offset_sd15_kohya.manifest.json"))
	require.NoError(b, err)
	var man map[string]struct {
		Shape []int `json:"shape"`
	}
	require.NoError(b, json.Unmarshal(raw, &man))
	d := 0
	for name, e := range man {
		_, _, part := classifyKey(name)
		switch part {
		case partUp:
			d += e.Shape[0]
		case partDown:
			in := 1
			for _, s := range e.Shape[1:] {
				in *= s
			}
			d += in
		}
	}
	return d
}

// BenchmarkPCA builds a space of N SD1.5-sized rank-1 vectors (W2W_BENCH_PCA_N, default
// 2000), m = 100, through the Gram route on the default backend (OpenBLAS with -tags
// openblas). Peak resident memory is reported from /proc/self/status.
func BenchmarkPCA(b *testing.B) {
	n := benchEnvInt("W2W_BENCH_PCA_N", 2000)
	d := sd15Rank1Dim(b)
	const m = 100
	core := ""
	if c, ok := DefaultBackend().(interface{ core() string }); ok {
		core = " (OpenBLAS kernels " + c.core() + ")"
	}
	b.Logf("N=%d d=%d m=%d backend=%s%s", n, d, m, DefaultBackend().Name(), core)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lay := flatLayout(d)
	for b.Loop() {
		start := time.Now()
		stages := map[string]time.Duration{}
		last, lastName := start, ""
		sp, err := BuildSpace(context.Background(), lay, x, n, &SpaceOptions{Components: m, Method: PCAGram, Overwrite: true, Progress: func(p Progress) {
			stage := p.Stage
			now := time.Now()
			if lastName != "" {
				stages[lastName] += now.Sub(last)
			}
			last, lastName = now, stage
		}})
		stages[lastName] += time.Since(last)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("components %d; stages %v; total %v", sp.M(), stages, time.Since(start))
	}
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				b.Log("peak resident memory", strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")))
			}
		}
	}
}
