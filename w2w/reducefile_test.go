package w2w

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// TestReduceFileMatchesLoadAndReduce checks the overlapped read and reduction against
// LoadLoRA followed by Reduce, bit for bit, on every real LoRA of the shared data (kohya,
// diffusers, PEFT with its adapter_config.json alpha, cloneofsimo, LyCORIS LoKr, Flux) and on
// a many-module synthetic file, and that both fail alike on the files that do not parse.
func TestReduceFileMatchesLoadAndReduce(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	paths, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	require.NoError(t, err)
	paths = append(paths, filepath.Join(dir, "peft_distilbert_imdb_tashu014", "adapter_model.safetensors"))
	rng := rand.New(rand.NewPCG(8, 8))
	ts := manifestTensors(t, "alien_style_sdxl_kohya.manifest.json", 4, safetensors.F16, sampleModules(rng, 4), rng)
	syn := filepath.Join(t.TempDir(), "sdxl_rank4.safetensors")
	require.NoError(t, safetensors.WriteFile(syn, ts, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}))
	paths = append(paths, syn)
	ctx := context.Background()
	for _, p := range paths {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			var last [2]int
			got, gerr := ReduceFile(ctx, p, &ReduceOptions{Progress: func(p Progress) { last = [2]int{p.Done, p.Total} }})
			l, lerr := LoadLoRA(p)
			if lerr != nil {
				require.Error(t, gerr)
				assert.Equal(t, lerr.Error(), gerr.Error())
				return
			}
			require.NoError(t, gerr)
			require.NotEmpty(t, l.Modules)
			want, err := Reduce(ctx, l, nil)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, [2]int{len(l.Modules), len(l.Modules)}, last, "progress ends at total")
		})
	}
}

// sampleModules keeps about one module in every.
func sampleModules(rng *rand.Rand, every int) func(prefix string) bool {
	keep := map[string]bool{}
	return func(prefix string) bool {
		k, ok := keep[prefix]
		if !ok {
			k = rng.IntN(every) == 0
			keep[prefix] = k
		}
		return k
	}
}

// failingBackend fails every reduction.
type failingBackend struct{ CPU }

var errBackendDown = errors.New("backend down")

func (failingBackend) TopTriplets(context.Context, []ScaledFactor, []Triplet) error {
	return errBackendDown
}

// TestReduceFileErrors checks that bad files, non-finite weights in a late module, a failing
// backend and a cancelled context give named errors.
func TestReduceFileErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	ts := manifestTensors(t, "alien_style_sdxl_kohya.manifest.json", 2, safetensors.F32, sampleModules(rng, 8), rng)
	require.Greater(t, len(ts), 4*pipelineBatch)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	require.NoError(t, safetensors.WriteFile(good, ts, nil))
	ctx := context.Background()

	// NaN in the factor of the last module by name, decoded last: the modules before it are
	// already being reduced.
	bad := append([]safetensors.Tensor(nil), ts...)
	li := 0
	for i, x := range bad {
		if x.Name > bad[li].Name {
			li = i
		}
	}
	last := bad[li]
	vals := make([]float32, len(last.Data)/4)
	require.NoError(t, safetensors.DecodeFloat32(safetensors.F32, last.Data, vals))
	vals[len(vals)-1] = float32(math.NaN())
	raw, err := safetensors.EncodeFloat32(safetensors.F32, vals)
	require.NoError(t, err)
	bad[li] = safetensors.Tensor{Name: last.Name, DType: safetensors.F32, Shape: last.Shape, Data: raw}
	nanPath := filepath.Join(dir, "nan.safetensors")
	require.NoError(t, safetensors.WriteFile(nanPath, bad, nil))
	_, err = ReduceFile(ctx, nanPath, nil)
	assert.ErrorIs(t, err, ErrNonFinite)
	assert.Contains(t, err.Error(), last.Name)

	// Truncated file.
	b, err := os.ReadFile(good)
	require.NoError(t, err)
	trunc := filepath.Join(dir, "trunc.safetensors")
	require.NoError(t, os.WriteFile(trunc, b[:len(b)-10], 0o644))
	_, err = ReduceFile(ctx, trunc, nil)
	assert.ErrorIs(t, err, safetensors.ErrTruncated)

	_, err = ReduceFile(ctx, filepath.Join(dir, "missing.safetensors"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = ReduceFile(ctx, good, &ReduceOptions{Backend: failingBackend{}})
	assert.ErrorIs(t, err, errBackendDown)
	assert.Contains(t, err.Error(), good)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ReduceFile(cctx, good, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// FuzzReduceFile checks that the overlapped read and reduction never panics and agrees with
// LoadLoRA followed by Reduce on any file: the same error, or the same result.
func FuzzReduceFile(f *testing.F) {
	mk := func(ts ...safetensors.Tensor) []byte {
		b, err := safetensors.Encode(ts, map[string]string{"ss_network_dim": "1"})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	one := func(v float32) []byte {
		b, _ := safetensors.EncodeFloat32(safetensors.F32, []float32{v, v * 2})
		return b
	}
	f.Add(mk(
		safetensors.Tensor{Name: "lora_unet_a_attn1_to_q.lora_down.weight", DType: safetensors.F32, Shape: []int{1, 2}, Data: one(1)},
		safetensors.Tensor{Name: "lora_unet_a_attn1_to_q.lora_up.weight", DType: safetensors.F32, Shape: []int{2, 1}, Data: one(3)},
		safetensors.Tensor{Name: "lora_unet_b_ff_net_2.lora_down.weight", DType: safetensors.F16, Shape: []int{1, 2}, Data: []byte{0, 60, 0, 188}},
		safetensors.Tensor{Name: "lora_unet_b_ff_net_2.lora_up.weight", DType: safetensors.BF16, Shape: []int{2, 1}, Data: []byte{128, 63, 0, 64}},
		safetensors.Tensor{Name: "lora_unet_b_ff_net_2.alpha", DType: safetensors.F32, Shape: []int{}, Data: one(0.5)[:4]},
	))
	f.Add([]byte{})
	dir := f.TempDir()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, gerr := ReduceFile(ctx, p, nil)
		l, err := LoadLoRA(p)
		if err != nil {
			if gerr == nil || gerr.Error() != err.Error() {
				t.Fatalf("LoadLoRA: %v; ReduceFile: %v", err, gerr)
			}
			return
		}
		want, werr := Reduce(ctx, l, nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("Reduce: %v; ReduceFile: %v", werr, gerr)
		}
		if werr == nil && !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("results differ")
		}
	})
}
