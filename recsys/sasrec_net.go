package recsys

import (
	"math"
	"math/rand/v2"
)

// sasNet is the SASRec network of Kang & McAuley 2018 §III: item embeddings scaled by √d plus
// learned positions, b blocks of [LayerNorm → causal single-head self-attention with the
// normalised input as query and residual, LayerNorm → point-wise feed-forward (ReLU) with
// residual], a final LayerNorm, and scores as inner products with the shared item
// embeddings. Padding is never materialised: each sequence is packed at its true length
// (at most maxLen) and attends only to its own earlier positions, which equals the original's
// key masking of padded positions.
type sasNet struct {
	items, maxLen, d, blocks int
	dropout                  float32
	p                        sasParams
}

// sasSeq is one training or scoring sequence: embedding rows (item index + 1) oldest first,
// and for training the positive and negative target rows of each position (0 = none).
type sasSeq struct {
	in, pos, neg []int32
}

// sasAct holds one block's activations for a packed batch.
type sasAct struct {
	x                         []float32 // block input (not owned)
	xh1, qn, q, k, v, o       []float32
	x1, xh2, x2, z, h, m1, m2 []float32
	out                       []float32
	rs1, rs2                  []float32
	a, ma                     []float32
}

// sasWork is one goroutine's workspace: activations for a packed batch of sequences, a
// gradient vector, and scratch for the backward pass.
type sasWork struct {
	net       *sasNet
	capT      int
	capA      int
	T         int
	off, aoff []int
	rows      []int32
	prow      []int32
	pos, neg  []int32
	x0, m0    []float32
	acts      []sasAct
	xhf, f    []float32
	rsf       []float32
	// backward scratch
	dx, dt, dq, dk, dv, do, dqn, dz, df []float32
	dar                                 []float32
	gflat                               []float32
	g                                   sasParams
	logits                              []float32
}

func newSASWork(net *sasNet, withGrad bool) *sasWork {
	w := &sasWork{net: net}
	if withGrad {
		n := len(net.p.flat)
		w.gflat = make([]float32, n)
		w.g = layoutSAS(w.gflat, net.items, net.maxLen, net.d, net.blocks)
	}
	w.acts = make([]sasAct, net.blocks)
	return w
}

func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// pack lays the sequences out row after row and sizes the buffers.
func (w *sasWork) pack(seqs []sasSeq) {
	d := w.net.d
	w.off = append(w.off[:0], 0)
	w.aoff = append(w.aoff[:0], 0)
	w.rows, w.prow, w.pos, w.neg = w.rows[:0], w.prow[:0], w.pos[:0], w.neg[:0]
	for _, s := range seqs {
		L := len(s.in)
		for i, r := range s.in {
			w.rows = append(w.rows, r)
			w.prow = append(w.prow, int32(w.net.maxLen-L+i))
			if s.pos != nil {
				w.pos = append(w.pos, s.pos[i])
				w.neg = append(w.neg, s.neg[i])
			}
		}
		w.off = append(w.off, w.off[len(w.off)-1]+L)
		w.aoff = append(w.aoff, w.aoff[len(w.aoff)-1]+L*L)
	}
	T, A := len(w.rows), w.aoff[len(w.aoff)-1]
	w.T = T
	if T <= w.capT && A <= w.capA {
		w.resize(T, A)
		return
	}
	w.capT, w.capA = max(T, w.capT), max(A, w.capA)
	n, na := w.capT*d, w.capA
	w.x0, w.m0 = make([]float32, n), make([]float32, n)
	for b := range w.acts {
		a := &w.acts[b]
		a.xh1, a.qn, a.q, a.k, a.v, a.o = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		a.x1, a.xh2, a.x2, a.z, a.h = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		a.m1, a.m2, a.out = make([]float32, n), make([]float32, n), make([]float32, n)
		a.rs1, a.rs2 = make([]float32, w.capT), make([]float32, w.capT)
		a.a, a.ma = make([]float32, na), make([]float32, na)
	}
	w.xhf, w.f, w.rsf = make([]float32, n), make([]float32, n), make([]float32, w.capT)
	w.dx, w.dt, w.dq, w.dk, w.dv = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	w.do, w.dqn, w.dz, w.df = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	w.resize(T, A)
}

// resize reslices every buffer to T rows (and A attention entries) within capacity.
func (w *sasWork) resize(T, A int) {
	n := T * w.net.d
	w.x0, w.m0 = w.x0[:n], w.m0[:n]
	for b := range w.acts {
		a := &w.acts[b]
		for _, p := range []*[]float32{&a.xh1, &a.qn, &a.q, &a.k, &a.v, &a.o, &a.x1, &a.xh2, &a.x2, &a.z, &a.h, &a.m1, &a.m2, &a.out} {
			*p = (*p)[:n]
		}
		a.rs1, a.rs2 = a.rs1[:T], a.rs2[:T]
		a.a, a.ma = a.a[:A], a.ma[:A]
	}
	w.xhf, w.f, w.rsf = w.xhf[:n], w.f[:n], w.rsf[:T]
	for _, p := range []*[]float32{&w.dx, &w.dt, &w.dq, &w.dk, &w.dv, &w.do, &w.dqn, &w.dz, &w.df} {
		*p = (*p)[:n]
	}
}

// dropMask fills m with 0 or 1/(1-p) (inverted dropout); with rng nil it fills ones. Each
// 64-bit draw decides four entries by comparing 16-bit slices with p·2¹⁶, so p is applied
// to within 2⁻¹⁶.
func dropMask(m []float32, p float32, rng *rand.Rand) {
	if rng == nil || p == 0 {
		for i := range m {
			m[i] = 1
		}
		return
	}
	keep := 1 / (1 - p)
	threshold := uint64(p * (1 << 16))
	var bits uint64
	for i := range m {
		if i%4 == 0 {
			bits = rng.Uint64()
		}
		if bits&0xffff < threshold {
			m[i] = 0
		} else {
			m[i] = keep
		}
		bits >>= 16
	}
}

// forward runs the network over the packed batch; rng nil means inference (no dropout).
func (w *sasWork) forward(rng *rand.Rand) {
	net, p := w.net, w.net.p
	d, T := net.d, w.T
	scale := float32(math.Sqrt(float64(d)))
	for t := 0; t < T; t++ {
		x := w.x0[t*d : t*d+d]
		e := p.emb[int(w.rows[t])*d:][:d]
		ps := p.pos[int(w.prow[t])*d:][:d]
		for j := range x {
			x[j] = e[j]*scale + ps[j]
		}
	}
	dropMask(w.m0, net.dropout, rng)
	for i, m := range w.m0 {
		w.x0[i] *= m
	}
	x := w.x0
	attScale := float32(1 / math.Sqrt(float64(d)))
	for b := range w.acts {
		a, bp := &w.acts[b], &p.blocks[b]
		a.x = x
		layerNorm(a.qn, a.xh1, a.rs1, x, T, d, bp.ln1g, bp.ln1b)
		gemm(false, false, T, d, d, 1, a.qn, bp.wq, 0, a.q)
		addBias(a.q, T, d, bp.bq)
		gemm(false, false, T, d, d, 1, x, bp.wk, 0, a.k)
		addBias(a.k, T, d, bp.bk)
		gemm(false, false, T, d, d, 1, x, bp.wv, 0, a.v)
		addBias(a.v, T, d, bp.bv)
		dropMask(a.ma, net.dropout, rng)
		for s := 0; s+1 < len(w.off); s++ {
			w.attend(a, w.off[s], w.off[s+1]-w.off[s], w.aoff[s], attScale)
		}
		gemm(false, false, T, d, d, 1, a.o, bp.wo, 0, a.x1)
		addBias(a.x1, T, d, bp.bo)
		for i, v := range a.qn {
			a.x1[i] += v
		}
		layerNorm(a.x2, a.xh2, a.rs2, a.x1, T, d, bp.ln2g, bp.ln2b)
		gemm(false, false, T, d, d, 1, a.x2, bp.w1, 0, a.z)
		addBias(a.z, T, d, bp.b1)
		dropMask(a.m1, net.dropout, rng)
		for i, v := range a.z {
			if v > 0 {
				a.h[i] = v * a.m1[i]
			} else {
				a.h[i] = 0
			}
		}
		gemm(false, false, T, d, d, 1, a.h, bp.w2, 0, a.out)
		addBias(a.out, T, d, bp.b2)
		dropMask(a.m2, net.dropout, rng)
		for i, v := range a.out {
			a.out[i] = v*a.m2[i] + a.x2[i]
		}
		x = a.out
	}
	layerNorm(w.f, w.xhf, w.rsf, x, T, d, p.lnfG, p.lnfB)
}

// attend computes causal attention for one sequence of L rows starting at row r0.
func (w *sasWork) attend(a *sasAct, r0, L, ao int, scale float32) {
	d := w.net.d
	for i := 0; i < L; i++ {
		qi := a.q[(r0+i)*d:][:d]
		row := a.a[ao+i*L:][:L]
		mx := float32(math.Inf(-1))
		for j := 0; j <= i; j++ {
			s := dot32(qi, a.k[(r0+j)*d:][:d]) * scale
			row[j] = s
			if s > mx {
				mx = s
			}
		}
		var sum float32
		for j := 0; j <= i; j++ {
			e := float32(math.Exp(float64(row[j] - mx)))
			row[j] = e
			sum += e
		}
		inv := 1 / sum
		oi := a.o[(r0+i)*d:][:d]
		clear(oi)
		mrow := a.ma[ao+i*L:][:L]
		for j := 0; j <= i; j++ {
			row[j] *= inv
			axpy32(row[j]*mrow[j], a.v[(r0+j)*d:][:d], oi)
		}
		for j := i + 1; j < L; j++ {
			row[j] = 0
		}
	}
}

// attendBackward adds the gradients of one sequence's attention into dq, dk, dv given do.
func (w *sasWork) attendBackward(a *sasAct, r0, L, ao int, scale float32) {
	d := w.net.d
	w.dar = grow(w.dar, L)
	da := w.dar
	for i := 0; i < L; i++ {
		doi := w.do[(r0+i)*d:][:d]
		row := a.a[ao+i*L:][:L]
		mrow := a.ma[ao+i*L:][:L]
		var s float32
		for j := 0; j <= i; j++ {
			vj := a.v[(r0+j)*d:][:d]
			dap := dot32(doi, vj)
			axpy32(row[j]*mrow[j], doi, w.dv[(r0+j)*d:][:d])
			da[j] = dap * mrow[j]
			s += row[j] * da[j]
		}
		qi := a.q[(r0+i)*d:][:d]
		dqi := w.dq[(r0+i)*d:][:d]
		for j := 0; j <= i; j++ {
			ds := row[j] * (da[j] - s) * scale
			if ds == 0 {
				continue
			}
			axpy32(ds, a.k[(r0+j)*d:][:d], dqi)
			axpy32(ds, qi, w.dk[(r0+j)*d:][:d])
		}
	}
}

// backward adds into w.g the gradient of the loss whose gradient with respect to the final
// outputs is w.df.
func (w *sasWork) backward() {
	net, p, g := w.net, w.net.p, w.g
	d, T := net.d, w.T
	attScale := float32(1 / math.Sqrt(float64(d)))
	clear(w.dx)
	layerNormBackward(w.dx, w.df, w.xhf, w.rsf, T, d, p.lnfG, g.lnfG, g.lnfB)
	for b := len(w.acts) - 1; b >= 0; b-- {
		a, bp, gb := &w.acts[b], &p.blocks[b], &g.blocks[b]
		// feed-forward: out = drop(relu(x2 W1 + b1)) W2 + b2, dropped, plus x2
		for i, v := range w.dx {
			w.dt[i] = v * a.m2[i]
		}
		sumRows(gb.b2, w.dt, T, d)
		gemm(true, false, d, d, T, 1, a.h, w.dt, 1, gb.w2)
		gemm(false, true, T, d, d, 1, w.dt, bp.w2, 0, w.dz)
		for i, z := range a.z {
			if z > 0 {
				w.dz[i] *= a.m1[i]
			} else {
				w.dz[i] = 0
			}
		}
		sumRows(gb.b1, w.dz, T, d)
		gemm(true, false, d, d, T, 1, a.x2, w.dz, 1, gb.w1)
		gemm(false, true, T, d, d, 1, w.dz, bp.w1, 1, w.dx)
		clear(w.dt)
		layerNormBackward(w.dt, w.dx, a.xh2, a.rs2, T, d, bp.ln2g, gb.ln2g, gb.ln2b)
		// attention: x1 = qn + o Wo + bo
		sumRows(gb.bo, w.dt, T, d)
		gemm(true, false, d, d, T, 1, a.o, w.dt, 1, gb.wo)
		gemm(false, true, T, d, d, 1, w.dt, bp.wo, 0, w.do)
		copy(w.dqn, w.dt)
		clear(w.dq)
		clear(w.dk)
		clear(w.dv)
		for s := 0; s+1 < len(w.off); s++ {
			w.attendBackward(a, w.off[s], w.off[s+1]-w.off[s], w.aoff[s], attScale)
		}
		sumRows(gb.bq, w.dq, T, d)
		gemm(true, false, d, d, T, 1, a.qn, w.dq, 1, gb.wq)
		gemm(false, true, T, d, d, 1, w.dq, bp.wq, 1, w.dqn)
		sumRows(gb.bk, w.dk, T, d)
		gemm(true, false, d, d, T, 1, a.x, w.dk, 1, gb.wk)
		sumRows(gb.bv, w.dv, T, d)
		gemm(true, false, d, d, T, 1, a.x, w.dv, 1, gb.wv)
		gemm(false, true, T, d, d, 1, w.dk, bp.wk, 0, w.dx)
		gemm(false, true, T, d, d, 1, w.dv, bp.wv, 1, w.dx)
		layerNormBackward(w.dx, w.dqn, a.xh1, a.rs1, T, d, bp.ln1g, gb.ln1g, gb.ln1b)
	}
	scale := float32(math.Sqrt(float64(d)))
	for t := 0; t < T; t++ {
		dx := w.dx[t*d : t*d+d]
		m := w.m0[t*d : t*d+d]
		ge := g.emb[int(w.rows[t])*d:][:d]
		gp := g.pos[int(w.prow[t])*d:][:d]
		for j, v := range dx {
			v *= m[j]
			ge[j] += v * scale
			gp[j] += v
		}
	}
	clear(g.emb[:d]) // the padding row never learns
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// softplus is log(1+e^x), computed stably.
func softplus(x float32) float64 {
	v := float64(x)
	if v > 0 {
		return v + math.Log1p(math.Exp(-v))
	}
	return math.Log1p(math.Exp(v))
}

// lossBCE is the SASRec objective (Kang & McAuley 2018 eq. 8): for every position with a
// target, −log σ(r_pos) − log(1 − σ(r_neg)), each term scaled by inv (1 / positions in the
// batch). It fills w.df and adds the embedding gradients of the targets; it returns the
// unscaled sum.
func (w *sasWork) lossBCE(inv float32) float64 {
	d := w.net.d
	p, g := w.net.p, w.g
	clear(w.df)
	var loss float64
	for t := 0; t < w.T; t++ {
		pr, nr := w.pos[t], w.neg[t]
		if pr == 0 {
			continue
		}
		f := w.f[t*d : t*d+d]
		ep := p.emb[int(pr)*d:][:d]
		en := p.emb[int(nr)*d:][:d]
		lp, ln := dot32(f, ep), dot32(f, en)
		loss += softplus(-lp) + softplus(ln)
		gp := (sigmoid(lp) - 1) * inv
		gn := sigmoid(ln) * inv
		df := w.df[t*d : t*d+d]
		axpy32(gp, ep, df)
		axpy32(gn, en, df)
		axpy32(gp, f, g.emb[int(pr)*d:][:d])
		axpy32(gn, f, g.emb[int(nr)*d:][:d])
	}
	return loss
}

// ceChunk bounds the rows whose full softmax is held at once by lossCE.
const ceChunk = 32

// lossCE is RecBole's SASRec "CE" objective: softmax cross-entropy of every position's
// target against all items, scaled by inv. It fills w.df, adds the embedding gradients and
// returns the unscaled sum.
func (w *sasWork) lossCE(inv float32) float64 {
	d, n := w.net.d, w.net.items
	p, g := w.net.p, w.g
	clear(w.df)
	items := p.emb[d:] // rows 1..n
	gitems := g.emb[d:]
	var loss float64
	rows := make([]int, 0, ceChunk)
	fs := make([]float32, ceChunk*d)
	for t0 := 0; t0 < w.T; {
		rows = rows[:0]
		for ; t0 < w.T && len(rows) < ceChunk; t0++ {
			if w.pos[t0] != 0 {
				copy(fs[len(rows)*d:], w.f[t0*d:t0*d+d])
				rows = append(rows, t0)
			}
		}
		if len(rows) == 0 {
			continue
		}
		m := len(rows)
		w.logits = grow(w.logits, m*n)
		lg := w.logits
		gemm(false, true, m, n, d, 1, fs[:m*d], items, 0, lg)
		for r, t := range rows {
			row := lg[r*n : r*n+n]
			mx := float32(math.Inf(-1))
			for _, v := range row {
				mx = max(mx, v)
			}
			var sum float64
			for j, v := range row {
				e := float32(math.Exp(float64(v - mx)))
				row[j] = e
				sum += float64(e)
			}
			target := int(w.pos[t]) - 1
			loss += -math.Log(float64(row[target])/sum + 1e-30)
			is := float32(1/sum) * inv
			for j := range row {
				row[j] *= is
			}
			row[target] -= inv
		}
		// df = dlogits · E, dE += dlogitsᵀ · F
		tmp := w.dz[:m*d]
		gemm(false, false, m, d, n, 1, lg, items, 0, tmp)
		for r, t := range rows {
			axpy32(1, tmp[r*d:r*d+d], w.df[t*d:t*d+d])
		}
		gemm(true, false, n, d, m, 1, lg, fs[:m*d], 1, gitems)
	}
	return loss
}
