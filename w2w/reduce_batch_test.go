package w2w

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// batchRecorder is the CPU backend with a preferred batch size, recording each call's size.
type batchRecorder struct {
	CPU
	batch int
	calls []int
}

func (b *batchRecorder) ReduceBatch() int { return b.batch }

func (b *batchRecorder) TopTriplets(ctx context.Context, in []ScaledFactor, out []Triplet) error {
	b.calls = append(b.calls, len(in))
	return b.CPU.TopTriplets(ctx, in, out)
}

func TestReduceHonoursBackendBatchSize(t *testing.T) {
	l, err := LoadLoRA(shareddata.Path(t, "lora", "diffusers_sd15_rank4_pokemon.safetensors"))
	require.NoError(t, err)
	ctx := context.Background()
	want, err := Reduce(ctx, l, &ReduceOptions{Backend: CPU{}})
	require.NoError(t, err)
	n := len(l.Modules)
	for _, bs := range []int{4096, 50, 0} {
		be := &batchRecorder{batch: bs}
		got, err := Reduce(ctx, l, &ReduceOptions{Backend: be})
		require.NoError(t, err)
		size := max(bs, 1)
		var wantCalls []int
		for b := 0; b < n; b += size {
			wantCalls = append(wantCalls, min(size, n-b))
		}
		assert.Equal(t, wantCalls, be.calls, "batch %d", bs)
		assert.Equal(t, want.Modules, got.Modules, "batch %d", bs)
	}
}
