package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rank1LoRA builds a one-module-per-spec rank-1 LoRA in memory.
func rank1LoRA(family Family, mods map[string][2][]float32) *LoRA {
	l := &LoRA{Family: family, Convention: Kohya}
	for name, f := range mods {
		m := Module{Name: name, Component: UNet, Out: len(f[0]), In: len(f[1]), Rank: 1, Alpha: 1, Up: f[0], Down: f[1]}
		m.Kind, m.Attn = classifyModule(name, 0)
		l.Modules = append(l.Modules, m)
	}
	return l
}

func TestLayoutSignsAcrossPopulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const q = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_v"
	const f = "lora_unet_mid_block_attentions_0_transformer_blocks_0_ff_net_2"
	u0, v0 := randFloats(rng, 12, 1), randFloats(rng, 9, 1)
	w0, z0 := randFloats(rng, 7, 1), randFloats(rng, 5, 1)
	var reds []*Reduced
	for i := 0; i < 20; i++ {
		// Small perturbations of one LoRA, each stored with a random sign on each module; a
		// per-file rule would orient them differently, the population reference must not.
		s := float32(1)
		if rng.IntN(2) == 0 {
			s = -1
		}
		up, down := make([]float32, 12), make([]float32, 9)
		for j := range up {
			up[j] = s * (u0[j] + float32(rng.NormFloat64()*0.3))
		}
		for j := range down {
			down[j] = s * (v0[j] + float32(rng.NormFloat64()*0.3))
		}
		mods := map[string][2][]float32{q: {up, down}}
		if i%4 != 0 {
			mods[f] = [2][]float32{w0, z0}
		}
		r, err := Reduce(context.Background(), rank1LoRA(SD1, mods), nil)
		require.NoError(t, err)
		reds = append(reds, r)
	}
	lay, err := NewLayout(context.Background(), reds, nil)
	require.NoError(t, err)
	require.Len(t, lay.Modules, 2)
	assert.Equal(t, (12+9)+(7+5), lay.Dim)
	iq := lay.Find(q)
	require.GreaterOrEqual(t, iq, 0)
	var first []float32
	for i, r := range reds {
		x := make([]float32, lay.Dim)
		mask, err := lay.Flatten(r, x)
		require.NoError(t, err)
		assert.Equal(t, i%4 != 0, mask[lay.Find(f)])
		seg := x[lay.Modules[iq].Offset : lay.Modules[iq].Offset+21]
		if first == nil {
			first = seg
			continue
		}
		// Same hemisphere as the first LoRA's segment.
		assert.Positive(t, dotMixed(seg, first), "LoRA %d", i)
		// The flattened segment reproduces ΔW = up·downᵀ (sign-free).
		up, down := seg[:12], seg[12:]
		rm, _ := r.Module(q)
		assert.InDelta(t, rm.Sigma, math.Sqrt(dotMixed(up, up)*dotMixed(down, down)), 1e-4)
	}
	// Unflatten gives back the modules (the missing one left out).
	x := make([]float32, lay.Dim)
	mask, err := lay.Flatten(reds[0], x)
	require.NoError(t, err)
	back, err := lay.Unflatten(x, mask)
	require.NoError(t, err)
	require.Len(t, back.Modules, 1)
	assert.InDelta(t, reds[0].Modules[0].Sigma, back.Modules[0].Sigma, 1e-4)
}

func TestLayoutSelections(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	names := []string{
		"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
		"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v",
		"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v",
		"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj",
		"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2",
		"lora_unet_down_blocks_0_attentions_0_proj_in",
	}
	mods := map[string][2][]float32{}
	for _, n := range names {
		mods[n] = [2][]float32{randFloats(rng, 4, 1), randFloats(rng, 3, 1)}
	}
	r, err := Reduce(context.Background(), rank1LoRA(SD1, mods), nil)
	require.NoError(t, err)
	for sel, want := range map[Selection]int{SelectAll: 6, SelectFF: 2, SelectAttnV: 2, SelectFFAttnV: 4} {
		lay, err := NewLayout(context.Background(), []*Reduced{r}, &LayoutOptions{Selection: sel})
		require.NoError(t, err)
		assert.Len(t, lay.Modules, want, sel)
	}
	_, err = NewLayout(context.Background(), []*Reduced{r}, &LayoutOptions{Selection: "bogus"})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	other := *r
	other.Family = SDXL
	_, err = NewLayout(context.Background(), []*Reduced{r, &other}, nil)
	assert.ErrorIs(t, err, ErrLayout)

	// Fixed rank: only rank-1 LoRAs enter, raw factors.
	l1 := rank1LoRA(SD1, mods)
	l2 := rank1LoRA(SD1, mods)
	l2.Modules[0].Rank = 2
	fl, keep, err := NewFixedRankLayout([]*LoRA{l1, l2}, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{0}, keep)
	x := make([]float32, fl.Dim)
	_, err = fl.FlattenLoRA(l1, x)
	require.NoError(t, err)
	m := l1.Modules[0]
	seg := x[fl.Modules[fl.Find(m.Name)].Offset:]
	assert.Equal(t, m.Up, seg[:m.Out])
}

// TestLayoutFixesPerFileSignFlips uses LoRAs whose u has two entries of nearly equal size and
// opposite sign, so the per-file rule (largest entry positive) orients similar LoRAs
// oppositely; the population reference orients them all alike.
func TestLayoutFixesPerFileSignFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 34))
	const q = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v"
	var reds []*Reduced
	for i := 0; i < 40; i++ {
		up := []float32{1, -1, 0.3, 0.2}
		for j := range up {
			up[j] += float32(rng.NormFloat64() * 0.02)
		}
		r, err := Reduce(context.Background(), rank1LoRA(SD1, map[string][2][]float32{q: {up, []float32{0.5, 0.5, 0.1}}}), nil)
		require.NoError(t, err)
		reds = append(reds, r)
	}
	flips := 0
	for _, r := range reds {
		if dotMixed(r.Modules[0].U, reds[0].Modules[0].U) < 0 {
			flips++
		}
	}
	require.Positive(t, flips, "the per-file rule flips some of these LoRAs")
	lay, err := NewLayout(context.Background(), reds, nil)
	require.NoError(t, err)
	x, _, err := FlattenAll(context.Background(), lay, reds, nil)
	require.NoError(t, err)
	for i := 1; i < len(reds); i++ {
		assert.Positive(t, dotMixed(x[i*lay.Dim:(i+1)*lay.Dim], x[:lay.Dim]), "LoRA %d", i)
	}
}
