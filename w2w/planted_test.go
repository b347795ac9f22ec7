package w2w

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plantedModules are the synthetic modules: (name, out, in, conv kernel side).
var plantedModules = []struct {
	name    string
	out, in int
	kernel  int
}{
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", 24, 24, 0},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v", 24, 24, 0},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v", 24, 32, 0},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj", 48, 24, 0},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2", 24, 48, 0},
	{"lora_unet_down_blocks_0_attentions_0_proj_in", 24, 24, 1},
}

type plantedPopulation struct {
	files  []string
	labels []int
	// planted is the unit direction in flattened coordinates, modules in plantedModules order
	// (up then down segment each).
	planted []float32
	// theta0 is the shared base LoRA in the same coordinates.
	theta0 []float32
}

// orthoAgainst removes from x its components along each of the unit vectors in basis.
func orthoAgainst(x []float64, basis ...[]float64) {
	for _, b := range basis {
		c := 0.0
		for i := range x {
			c += x[i] * b[i]
		}
		for i := range x {
			x[i] -= c * b[i]
		}
	}
}

// makePlanted writes n synthetic SD1 LoRAs: a shared base LoRA θ0, plus a random combination
// of baseDirs directions, plus label·gamma along the planted direction, plus noise; each module
// is stored at a random rank (the extra components small), with a random alpha, random sign,
// in F16 or F32, and some LoRAs lack a module.
func makePlanted(t *testing.T, dir string, n int, rng *rand.Rand) plantedPopulation {
	t.Helper()
	const (
		baseDirs = 6
		baseAmp  = 0.5
		gamma    = 0.4
		noise    = 0.01
		extraAmp = 0.04
	)
	var offs []int
	d := 0
	for _, m := range plantedModules {
		offs = append(offs, d)
		d += m.out + m.in
	}
	// θ0: unit up and down segments per module (‖a‖ = ‖b‖, the balanced split).
	theta0 := make([]float64, d)
	var segBasis [][]float64
	for k, m := range plantedModules {
		for _, part := range [][2]int{{offs[k], m.out}, {offs[k] + m.out, m.in}} {
			seg := make([]float64, d)
			for i := part[0]; i < part[0]+part[1]; i++ {
				seg[i] = rng.NormFloat64()
			}
			normalize(seg)
			for i := range seg {
				theta0[i] += seg[i]
			}
			segBasis = append(segBasis, seg)
		}
	}
	// Variation directions orthogonal to every θ0 segment (so they do not change the segment
	// norms to first order), and the planted direction orthogonal to them all.
	var dirs [][]float64
	for j := 0; j <= baseDirs; j++ {
		v := make([]float64, d)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		orthoAgainst(v, segBasis...)
		orthoAgainst(v, dirs...)
		normalize(v)
		dirs = append(dirs, v)
	}
	planted := dirs[baseDirs]
	pop := plantedPopulation{planted: make([]float32, d), theta0: make([]float32, d)}
	for i, x := range planted {
		pop.planted[i] = float32(x)
		pop.theta0[i] = float32(theta0[i])
	}
	for s := 0; s < n; s++ {
		y := 1
		if s%2 == 1 {
			y = -1
		}
		theta := append([]float64(nil), theta0...)
		for j := 0; j < baseDirs; j++ {
			z := rng.NormFloat64() * baseAmp
			for i := range theta {
				theta[i] += z * dirs[j][i]
			}
		}
		for i := range theta {
			theta[i] += float64(y)*gamma*planted[i] + rng.NormFloat64()*noise
		}
		drop := -1
		if rng.Float64() < 0.15 {
			drop = rng.IntN(len(plantedModules))
		}
		dt := safetensors.F32
		if s%3 == 0 {
			dt = safetensors.F16
		}
		var ts []safetensors.Tensor
		for k, m := range plantedModules {
			if k == drop {
				continue
			}
			r := 1 + rng.IntN(6)
			alpha := []float64{1, float64(r), float64(r) / 2}[rng.IntN(3)]
			sign := 1.0
			if rng.IntN(2) == 0 {
				sign = -1
			}
			a := theta[offs[k] : offs[k]+m.out]
			b := theta[offs[k]+m.out : offs[k]+m.out+m.in]
			// up (out×r): column 0 is a, the others small; down (r×in): row 0 is b.
			up := make([]float32, m.out*r)
			down := make([]float32, r*m.in)
			unscale := float64(r) / alpha
			for i := 0; i < m.out; i++ {
				up[i*r] = float32(sign * a[i] * unscale)
				for c := 1; c < r; c++ {
					up[i*r+c] = float32(rng.NormFloat64() * extraAmp * unscale)
				}
			}
			for j := 0; j < m.in; j++ {
				down[j] = float32(sign * b[j])
				for c := 1; c < r; c++ {
					down[c*m.in+j] = float32(rng.NormFloat64() * extraAmp)
				}
			}
			downShape, upShape := []int{r, m.in}, []int{m.out, r}
			if m.kernel > 0 {
				downShape, upShape = []int{r, m.in, 1, 1}, []int{m.out, r, 1, 1}
			}
			tu, err := safetensors.FloatTensor(m.name+".lora_up.weight", dt, upShape, up)
			require.NoError(t, err)
			td, err := safetensors.FloatTensor(m.name+".lora_down.weight", dt, downShape, down)
			require.NoError(t, err)
			ta, err := safetensors.FloatTensor(m.name+".alpha", dt, nil, []float32{float32(alpha)})
			require.NoError(t, err)
			ts = append(ts, tu, td, ta)
		}
		p := filepath.Join(dir, fmt.Sprintf("lora_%03d.safetensors", s))
		require.NoError(t, safetensors.WriteFile(p, ts, map[string]string{"ss_base_model_version": "sd_v1"}))
		pop.files = append(pop.files, p)
		pop.labels = append(pop.labels, y)
	}
	return pop
}

func cosine32(a, b []float32) float64 {
	return dotMixed(a, b) / math.Sqrt(dotMixed(a, a)*dotMixed(b, b))
}

// deltaWs forms every module's ΔW = scale·Up·Down of a file (sign-convention free).
func deltaWs(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	l, err := LoadLoRA(path)
	require.NoError(t, err)
	out := map[string][]float64{}
	for _, m := range l.Modules {
		w := make([]float64, m.Out*m.In)
		for i := 0; i < m.Out; i++ {
			for c := 0; c < m.Rank; c++ {
				u := float64(m.Up[i*m.Rank+c]) * m.Scale()
				for j := 0; j < m.In; j++ {
					w[i*m.In+j] += u * float64(m.Down[c*m.In+j])
				}
			}
		}
		out[m.Name] = w
	}
	return out
}

// TestPlantedDirectionRecovery builds a space over synthetic LoRAs with a planted,
// label-following direction and checks each classifier recovers it (cosine ≥ 0.95), then that
// edits along it move a not-preferred LoRA toward the preferred class (+α) or away (−α), by a
// score computed from the written files' ΔW.
func TestPlantedDirectionRecovery(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 7))
	dir := t.TempDir()
	const n = 300
	pop := makePlanted(t, dir, n, rng)
	ctx := context.Background()
	var reds []*Reduced
	for _, p := range pop.files {
		l, err := LoadLoRA(p)
		require.NoError(t, err)
		require.Equal(t, SD1, l.Family)
		r, err := Reduce(ctx, l, nil)
		require.NoError(t, err)
		reds = append(reds, r)
	}
	lay, err := NewLayout(ctx, reds, nil)
	require.NoError(t, err)
	require.Len(t, lay.Modules, len(plantedModules))
	// The planted direction in the layout's orientation: a module whose sign reference points
	// against the base LoRA's up factor is stored as (−u, −v), so its coordinates flip.
	// The layout orders modules by name, so segments are moved to their layout offsets.
	planted := make([]float32, lay.Dim)
	src := 0
	for _, pm := range plantedModules {
		m := lay.Modules[lay.Find(pm.name)]
		sign := float32(1)
		if dotMixed(pop.theta0[src:src+m.Out], m.Ref) < 0 {
			sign = -1
		}
		for j := 0; j < m.Size(); j++ {
			planted[m.Offset+j] = sign * pop.planted[src+j]
		}
		src += m.Size()
	}
	x, masks, err := FlattenAll(ctx, lay, reds, nil)
	require.NoError(t, err)
	require.Len(t, masks, n)
	for _, std := range []bool{false, true} {
		sp, err := BuildSpace(ctx, lay, x, n, &SpaceOptions{Components: 20, Standardize: std})
		require.NoError(t, err)
		coef, err := sp.Project(ctx, x, n, nil)
		require.NoError(t, err)
		for _, c := range []Classifier{Logistic, SVM, PseudoInverse} {
			d, err := sp.Direction(ctx, coef, n, pop.labels, &DirectionOptions{Classifier: c})
			require.NoError(t, err)
			cos := cosine32(d.Vector, planted)
			t.Logf("standardize=%v %s: cosine %.4f, training accuracy %.3f", std, c, cos, d.Accuracy)
			assert.GreaterOrEqual(t, cos, 0.95, "standardize=%v %s", std, c)
		}
	}

	// Edits, measured on written files.
	sp, err := BuildSpace(ctx, lay, x, n, &SpaceOptions{Components: 20})
	require.NoError(t, err)
	coef, err := sp.Project(ctx, x, n, nil)
	require.NoError(t, err)
	d, err := sp.Direction(ctx, coef, n, pop.labels, nil)
	require.NoError(t, err)
	mean := map[int]map[string][]float64{1: {}, -1: {}}
	count := map[int]map[string]int{1: {}, -1: {}}
	for i, p := range pop.files {
		for name, w := range deltaWs(t, p) {
			acc := mean[pop.labels[i]][name]
			if acc == nil {
				acc = make([]float64, len(w))
			}
			for j := range w {
				acc[j] += w[j]
			}
			mean[pop.labels[i]][name] = acc
			count[pop.labels[i]][name]++
		}
	}
	score := func(path string) float64 {
		s := 0.0
		for name, w := range deltaWs(t, path) {
			pos, neg := mean[1][name], mean[-1][name]
			for j := range w {
				s += w[j] * (pos[j]/float64(count[1][name]) - neg[j]/float64(count[-1][name]))
			}
		}
		return s
	}
	src = 1 // a not-preferred LoRA
	require.Equal(t, -1, pop.labels[src])
	scores := map[float64]float64{}
	for _, alpha := range []float64{-0.8, 0, 0.8} {
		ed, err := sp.Edit(ctx, reds[src], d.Vector, alpha, nil)
		require.NoError(t, err)
		out := filepath.Join(dir, fmt.Sprintf("edited_%g.safetensors", alpha))
		require.NoError(t, WriteRank1LoRA(out, ed, nil))
		back, err := LoadLoRA(out)
		require.NoError(t, err)
		orig, err := LoadLoRA(pop.files[src])
		require.NoError(t, err)
		require.Len(t, back.Modules, len(orig.Modules), "same module names as the input")
		for k, m := range back.Modules {
			assert.Equal(t, orig.Modules[k].Name, m.Name)
			assert.Equal(t, orig.Modules[k].Out, m.Out)
			assert.Equal(t, orig.Modules[k].In, m.In)
			assert.Equal(t, 1, m.Rank)
			assert.InDelta(t, 1, m.Alpha, 0)
		}
		assert.Equal(t, "sd_v1", back.Metadata["ss_base_model_version"])
		assert.Equal(t, "1", back.Metadata["ss_network_dim"])
		scores[alpha] = score(out)
	}
	t.Logf("preference scores: −α %.4f, 0 %.4f, +α %.4f", scores[-0.8], scores[0], scores[0.8])
	assert.Greater(t, scores[0.8], scores[0], "+α moves toward the preferred class")
	assert.Less(t, scores[-0.8], scores[0], "−α moves away from it")
}

func TestDirectionHelpers(t *testing.T) {
	// Debias removes exactly the other direction's component.
	v := []float32{1, 1, 0}
	o := []float32{1, 0, 0}
	got, err := Debias(v, o)
	require.NoError(t, err)
	assert.InDelta(t, 0, got[0], 1e-7)
	assert.InDelta(t, 1, got[1], 1e-7)
	_, err = Debias(o, o)
	assert.ErrorIs(t, err, ErrLayout)

	coef := []float64{1, 2, 3, 4}
	_, _, err = TrainDirection(coef, 4, 1, []int{1, 1, 1, 1}, nil)
	assert.ErrorIs(t, err, ErrBadLabels)
	_, _, err = TrainDirection(coef, 4, 1, []int{1, 0, -1, 1}, nil)
	assert.ErrorIs(t, err, ErrBadLabels)
	_, _, err = TrainDirection(coef, 4, 1, []int{1, -1}, nil)
	assert.ErrorIs(t, err, ErrBadLabels)
	_, _, err = TrainDirection(coef, 4, 1, []int{1, 1, -1, -1}, &DirectionOptions{Classifier: "tree"})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	// One-dimensional separable data: every classifier points toward the +1 side.
	for _, c := range []Classifier{Logistic, SVM, PseudoInverse} {
		w, acc, err := TrainDirection(coef, 4, 1, []int{-1, -1, 1, 1}, &DirectionOptions{Classifier: c})
		require.NoError(t, err)
		assert.InDelta(t, 1, w[0], 1e-12, c)
		assert.InDelta(t, 1, acc, 0, c)
	}
}
