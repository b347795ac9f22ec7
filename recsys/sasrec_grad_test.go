package recsys

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinySAS builds a small network and a fixed batch for gradient checks.
func tinySAS(t *testing.T, dropout float32) (*sasNet, []sasSeq) {
	t.Helper()
	const items, maxLen, d, blocks = 9, 5, 6, 2
	flat := make([]float32, sasParamCount(items, maxLen, d, blocks))
	p := layoutSAS(flat, items, maxLen, d, blocks)
	rng := rand.New(rand.NewPCG(11, 12))
	initSAS(p, items, maxLen, d, rng)
	// Move LayerNorm gains, biases and embeddings off their initial values so every path
	// carries gradient.
	for i := range flat {
		flat[i] += float32(rng.NormFloat64() * 0.3)
	}
	clear(p.emb[:d])
	net := &sasNet{items: items, maxLen: maxLen, d: d, blocks: blocks, dropout: dropout, p: p}
	seqs := []sasSeq{
		{in: []int32{1, 2, 3}, pos: []int32{2, 3, 4}, neg: []int32{5, 6, 7}},
		{in: []int32{4, 5, 6, 7, 8}, pos: []int32{5, 6, 7, 8, 9}, neg: []int32{1, 1, 2, 3, 2}},
		{in: []int32{9}, pos: []int32{1}, neg: []int32{3}},
	}
	return net, seqs
}

func sasLoss(net *sasNet, seqs []sasSeq, ce bool, seed uint64) (float64, *sasWork) {
	w := newSASWork(net, true)
	w.pack(seqs)
	var rng *rand.Rand
	if net.dropout > 0 {
		rng = rand.New(rand.NewPCG(seed, 1))
	}
	w.forward(rng)
	inv := 1 / float32(w.T)
	if ce {
		return w.lossCE(inv) * float64(inv), w
	}
	return w.lossBCE(inv) * float64(inv), w
}

func TestSASRecGradientsMatchFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dropout float32
		ce      bool
	}{{"bce", 0, false}, {"bce-dropout", 0.3, false}, {"ce", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			net, seqs := tinySAS(t, tc.dropout)
			_, w := sasLoss(net, seqs, tc.ce, 5)
			w.backward()
			grad := append([]float32(nil), w.gflat...)
			const eps = 3e-3
			rng := rand.New(rand.NewPCG(1, 1))
			checked, bad := 0, 0
			d := net.d
			for k := 0; k < 400; k++ {
				i := rng.IntN(len(net.p.flat))
				if i < d { // padding row: fixed at zero
					continue
				}
				orig := net.p.flat[i]
				net.p.flat[i] = orig + eps
				lp, _ := sasLoss(net, seqs, tc.ce, 5)
				net.p.flat[i] = orig - eps
				lm, _ := sasLoss(net, seqs, tc.ce, 5)
				net.p.flat[i] = orig
				num := (lp - lm) / (2 * eps)
				checked++
				if math.Abs(num-float64(grad[i])) > 2e-3+3e-2*math.Abs(num) {
					bad++
					t.Logf("param %d: analytic %.6g numeric %.6g", i, grad[i], num)
				}
			}
			require.Greater(t, checked, 300)
			assert.LessOrEqual(t, bad, 2, "gradient mismatches out of %d", checked)
		})
	}
}
