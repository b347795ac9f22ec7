package recsys

import (
	"math"
	"math/rand/v2"
)

// sasBlock are the views of one self-attention block's parameters (or gradients) into the
// flat vector. Matrices are stored input×output, row-major, so y = x·W + b.
type sasBlock struct {
	ln1g, ln1b     []float32
	wq, bq, wk, bk []float32
	wv, bv, wo, bo []float32
	ln2g, ln2b     []float32
	w1, b1, w2, b2 []float32
	matrices, ones [][]float32
}

// sasParams are views into one flat vector holding all SASRec parameters, in a fixed order,
// so that gradients, Adam moments and saved files share the layout.
type sasParams struct {
	flat       []float32
	emb        []float32 // (items+1)×d; row 0 is the padding item and stays zero
	pos        []float32 // maxLen×d learned positions
	blocks     []sasBlock
	lnfG, lnfB []float32
}

func sasParamCount(items, maxLen, d, blocks int) int {
	return (items+1)*d + maxLen*d + blocks*(6*d*d+12*d) + 2*d
}

// layoutSAS cuts flat into the parameter views.
func layoutSAS(flat []float32, items, maxLen, d, blocks int) sasParams {
	off := 0
	take := func(n int) []float32 {
		s := flat[off : off+n : off+n]
		off += n
		return s
	}
	p := sasParams{flat: flat}
	p.emb = take((items + 1) * d)
	p.pos = take(maxLen * d)
	for b := 0; b < blocks; b++ {
		var k sasBlock
		k.ln1g, k.ln1b = take(d), take(d)
		k.wq, k.bq = take(d*d), take(d)
		k.wk, k.bk = take(d*d), take(d)
		k.wv, k.bv = take(d*d), take(d)
		k.wo, k.bo = take(d*d), take(d)
		k.ln2g, k.ln2b = take(d), take(d)
		k.w1, k.b1 = take(d*d), take(d)
		k.w2, k.b2 = take(d*d), take(d)
		k.matrices = [][]float32{k.wq, k.wk, k.wv, k.wo, k.w1, k.w2}
		k.ones = [][]float32{k.ln1g, k.ln2g}
		p.blocks = append(p.blocks, k)
	}
	p.lnfG, p.lnfB = take(d), take(d)
	return p
}

// initSAS draws the initial weights: Xavier-normal matrices and embeddings (as
// pmixer/SASRec.pytorch main.py does with torch.nn.init.xavier_normal_), zero biases, unit
// LayerNorm gains, a zero padding row.
func initSAS(p sasParams, items, maxLen, d int, rng *rand.Rand) {
	xavier := func(w []float32, fanIn, fanOut int) {
		std := math.Sqrt(2 / float64(fanIn+fanOut))
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
	}
	xavier(p.emb, items+1, d)
	clear(p.emb[:d])
	xavier(p.pos, maxLen, d)
	for _, b := range p.blocks {
		for _, w := range b.matrices {
			xavier(w, d, d)
		}
		for _, g := range b.ones {
			for i := range g {
				g[i] = 1
			}
		}
	}
	for i := range p.lnfG {
		p.lnfG[i] = 1
	}
}
