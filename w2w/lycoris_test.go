package w2w

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// dense is a test tensor: values and shape.
type dense struct {
	v     []float32
	shape []int
}

func randDense(rng *rand.Rand, shape ...int) dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return dense{v, shape}
}

func (d dense) at(i ...int) float64 {
	k := 0
	for j, x := range i {
		k = k*d.shape[j] + x
	}
	return float64(d.v[k])
}

// tuckerRef is LyCORIS' rebuild_tucker written out: W[p, q, s] = Σ_ij t[i, j, s]·a[i, p]·b[j, q]
// (einsum "i j ..., i p, j r -> p r ..."), as a rows×(q·kk) matrix.
func tuckerRef(t, a, b dense) *mat.Dense {
	r, r2, kk := t.shape[0], t.shape[1], t.shape[2]*t.shape[3]
	p, q := a.shape[1], b.shape[1]
	w := mat.NewDense(p, q*kk, nil)
	for pi := 0; pi < p; pi++ {
		for qi := 0; qi < q; qi++ {
			for s := 0; s < kk; s++ {
				x := 0.0
				for i := 0; i < r; i++ {
					for j := 0; j < r2; j++ {
						x += t.at(i, j, s/t.shape[3], s%t.shape[3]) * a.at(i, pi) * b.at(j, qi)
					}
				}
				w.Set(pi, qi*kk+s, x)
			}
		}
	}
	return w
}

func productRef(a, b dense) *mat.Dense {
	rows, cols := a.shape[0], len(b.v)/b.shape[0]
	w := mat.NewDense(rows, cols, nil)
	w.Mul(mat.NewDense(rows, a.shape[1], f64(a.v)), mat.NewDense(b.shape[0], cols, f64(b.v)))
	return w
}

func kronRef(a, b *mat.Dense) *mat.Dense {
	var k mat.Dense
	k.Kronecker(a, b)
	return &k
}

// topSVD returns the top singular triplet of w by a dense SVD (the reference).
func topSVD(t *testing.T, w *mat.Dense) (float64, []float64, []float64) {
	var svd mat.SVD
	require.True(t, svd.Factorize(w, mat.SVDThin))
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	return svd.Values(nil)[0], mat.Col(nil, 0, &u), mat.Col(nil, 0, &v)
}

// TestLyCORISReaders reads LoHa, LoKr and LoCon modules in every stored form and checks the
// reduction against the top SVD term of ΔW rebuilt densely by LyCORIS' formulas.
func TestLyCORISReaders(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	const name = "lora_unet_down_blocks_1_resnets_0_conv1"
	type tc struct {
		name   string
		parts  map[string]dense
		alpha  float64
		ref    func(p map[string]dense) *mat.Dense
		scale  float64
		kernel []int
	}
	r := 3
	cases := []tc{
		{name: "loha linear", alpha: 2, scale: 2.0 / 3, parts: map[string]dense{
			"hada_w1_a": randDense(rng, 12, r), "hada_w1_b": randDense(rng, r, 10),
			"hada_w2_a": randDense(rng, 12, r), "hada_w2_b": randDense(rng, r, 10)},
			ref: func(p map[string]dense) *mat.Dense {
				var h mat.Dense
				h.MulElem(productRef(p["hada_w1_a"], p["hada_w1_b"]), productRef(p["hada_w2_a"], p["hada_w2_b"]))
				return &h
			}},
		{name: "loha cp", alpha: 1.5, scale: 0.5, kernel: []int{3, 3}, parts: map[string]dense{
			"hada_t1": randDense(rng, r, r, 3, 3), "hada_w1_a": randDense(rng, r, 8), "hada_w1_b": randDense(rng, r, 6),
			"hada_t2": randDense(rng, r, r, 3, 3), "hada_w2_a": randDense(rng, r, 8), "hada_w2_b": randDense(rng, r, 6)},
			ref: func(p map[string]dense) *mat.Dense {
				var h mat.Dense
				h.MulElem(tuckerRef(p["hada_t1"], p["hada_w1_a"], p["hada_w1_b"]), tuckerRef(p["hada_t2"], p["hada_w2_a"], p["hada_w2_b"]))
				return &h
			}},
		{name: "lokr cp", alpha: 6, scale: 2, kernel: []int{3, 3}, parts: map[string]dense{
			"lokr_w1": randDense(rng, 4, 2), "lokr_t2": randDense(rng, r, r, 3, 3), "lokr_w2_a": randDense(rng, r, 5), "lokr_w2_b": randDense(rng, r, 4)},
			ref: func(p map[string]dense) *mat.Dense {
				w1 := p["lokr_w1"]
				return kronRef(mat.NewDense(4, 2, f64(w1.v)), tuckerRef(p["lokr_t2"], p["lokr_w2_a"], p["lokr_w2_b"]))
			}},
		{name: "lokr conv full w2", alpha: 1, scale: 0.5, kernel: []int{3, 3}, parts: map[string]dense{
			"lokr_w1_a": randDense(rng, 4, 2), "lokr_w1_b": randDense(rng, 2, 3), "lokr_w2": randDense(rng, 5, 4, 3, 3)},
			ref: func(p map[string]dense) *mat.Dense {
				w2 := p["lokr_w2"]
				return kronRef(productRef(p["lokr_w1_a"], p["lokr_w1_b"]), mat.NewDense(5, 36, f64(w2.v)))
			}},
		{name: "locon cp", alpha: 3, scale: 1, kernel: []int{3, 3}, parts: map[string]dense{
			"lora_down.weight": randDense(rng, r, 7, 1, 1), "lora_mid.weight": randDense(rng, r, r, 3, 3), "lora_up.weight": randDense(rng, 9, r, 1, 1)},
			ref: func(p map[string]dense) *mat.Dense {
				up := p["lora_up.weight"]
				// up[p, i]·mid[i, j, s]·down[j, q]: the Tucker rebuild with a = upᵀ.
				upT := dense{transpose(up.v, 9, r), []int{r, 9}}
				down := p["lora_down.weight"]
				return tuckerRef(p["lora_mid.weight"], upT, dense{down.v, []int{r, 7}})
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, dt := range []safetensors.DType{safetensors.F32, safetensors.BF16} {
				var ts []safetensors.Tensor
				for k, d := range c.parts {
					tt, err := safetensors.FloatTensor(name+"."+k, dt, d.shape, d.v)
					require.NoError(t, err)
					ts = append(ts, tt)
				}
				at, err := safetensors.FloatTensor(name+".alpha", dt, nil, []float32{float32(c.alpha)})
				require.NoError(t, err)
				ts = append(ts, at)
				f, err := safetensors.Parse(loraBytes(t, ts, nil))
				require.NoError(t, err)
				l, err := ParseLoRAFile(f)
				require.NoError(t, err)
				require.Len(t, l.Modules, 1)
				m := l.Modules[0]
				assert.InDelta(t, c.scale, m.Scale(), 1e-12, "LyCORIS' alpha/dim")
				assert.Equal(t, c.kernel, m.Kernel)
				// The reference from the values as stored (BF16 rounds them).
				parts := map[string]dense{}
				for k, d := range c.parts {
					raw, err := f.Raw(name + "." + k)
					require.NoError(t, err)
					v := make([]float32, len(d.v))
					_, err = safetensors.DecodeFloat32Finite(dt, raw, v)
					require.NoError(t, err)
					parts[k] = dense{v, d.shape}
				}
				ref := c.ref(parts)
				ref.Scale(c.scale, ref)
				rows, cols := ref.Dims()
				require.Equal(t, rows, m.Out)
				require.Equal(t, cols, m.In)
				sigma, u, v := topSVD(t, ref)
				red, err := Reduce(context.Background(), l, nil)
				require.NoError(t, err)
				rm := red.Modules[0]
				assert.InEpsilon(t, sigma, rm.Sigma, 1e-5, "%s σ", dt)
				assert.InEpsilon(t, 1, math.Abs(dotMixed32(rm.U, u)), 1e-5, "%s u", dt)
				assert.InEpsilon(t, 1, math.Abs(dotMixed32(rm.V, v)), 1e-5, "%s v", dt)
				fro := mat.Norm(ref, 2)
				assert.InEpsilon(t, fro*fro, rm.Energy, 1e-5, "%s ‖ΔW‖²", dt)
			}
		})
	}
}

func dotMixed32(a []float32, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * b[i]
	}
	return s
}

// lycorisSeed encodes one module of the given parts (shapes) with values 0.5, 1, 1.5, …
func lycorisSeed(tb testing.TB, parts map[string][]int) []byte {
	tb.Helper()
	const name = "lora_unet_down_blocks_0_resnets_0_conv1"
	var ts []safetensors.Tensor
	for k, s := range parts {
		n := 1
		for _, d := range s {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 0.5 * float32(i%7+1)
		}
		tt, err := safetensors.FloatTensor(name+"."+k, safetensors.F16, s, v)
		require.NoError(tb, err)
		ts = append(ts, tt)
	}
	b, err := safetensors.Encode(ts, map[string]string{"ss_base_model_version": "sd_v1"})
	require.NoError(tb, err)
	return b
}

// FuzzLyCORIS feeds LoHa, LoKr and LoCon files in their CP forms, and mutations of them, to the
// reader, the reduction and the writer: errors are named, nothing panics.
func FuzzLyCORIS(f *testing.F) {
	f.Add(lycorisSeed(f, map[string][]int{"hada_w1_a": {4, 2}, "hada_w1_b": {2, 27}, "hada_w2_a": {4, 2}, "hada_w2_b": {2, 27}, "alpha": {}}))
	f.Add(lycorisSeed(f, map[string][]int{"hada_t1": {2, 2, 3, 3}, "hada_w1_a": {2, 4}, "hada_w1_b": {2, 3}, "hada_t2": {2, 2, 3, 3}, "hada_w2_a": {2, 4}, "hada_w2_b": {2, 3}, "alpha": {}}))
	f.Add(lycorisSeed(f, map[string][]int{"lokr_w1": {2, 1}, "lokr_t2": {2, 2, 3, 3}, "lokr_w2_a": {2, 2}, "lokr_w2_b": {2, 3}, "alpha": {}}))
	f.Add(lycorisSeed(f, map[string][]int{"lokr_w1_a": {2, 1}, "lokr_w1_b": {1, 1}, "lokr_w2": {2, 3, 3, 3}}))
	f.Add(lycorisSeed(f, map[string][]int{"lora_down.weight": {2, 3, 1, 1}, "lora_mid.weight": {2, 2, 3, 3}, "lora_up.weight": {4, 2, 1, 1}, "alpha": {}}))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := safetensors.Parse(b)
		if err != nil {
			return
		}
		l, err := ParseLoRAFile(sf)
		if err != nil {
			assert.Contains(t, err.Error(), "w2w: ")
			return
		}
		red, err := Reduce(ctx, l, nil)
		if err != nil {
			return
		}
		for _, m := range red.Modules {
			if math.IsNaN(m.Sigma) {
				t.Fatalf("module %s: σ is NaN", m.Name)
			}
		}
		_, _ = Rank1Tensors(red, safetensors.F16)
	})
}
