package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Two-Tower defaults. The streaming-frequency learning rate follows Yi et al. 2019
// ("Sampling-Bias-Corrected Neural Modeling for Large Corpus Item Recommendations",
// Algorithm 2, where α = 0.01 is used); the rest are ours. Temperature, epochs and history
// were chosen on the validation split of the SASRec "Video" (Amazon Games) data with
// scripts/recsys_tune (full ranking, Recall@10; see BENCHMARKS.md): temperature 0.05 / 0.2 /
// 0.5 / 1 gave 0.044 / 0.083 / 0.057 / 0.035 at 5 epochs; 10 epochs gave 0.081, pooling the
// last 10 items instead of 50 gave 0.086.
const (
	DefaultTwoTowerDim         = 64
	DefaultTwoTowerBatch       = 256
	DefaultTwoTowerEpochs      = 5
	DefaultTwoTowerLR          = 0.005
	DefaultTwoTowerTemperature = 0.2
	DefaultTwoTowerFreqAlpha   = 0.01
	// DefaultTwoTowerHistory is the number of most recent items the user tower pools.
	DefaultTwoTowerHistory = 10
)

// TwoTowerOptions configure TwoTower. Nil and the zero value mean the defaults above, without
// the log-Q correction. A negative value is an error, and so is a BatchSize of 1 (in-batch
// softmax needs a second example as the negative) and a FreqAlpha above 1.
type TwoTowerOptions struct {
	Dim, BatchSize, Epochs, History int
	LR, Temperature, FreqAlpha      float64
	// LogQ turns on the sampling-bias correction of Yi et al. 2019 (eq. 3): every in-batch
	// logit minus the log of its item's estimated batch probability. It is off by default:
	// on the validation split of the SASRec "Video" (Amazon Games) data under full ranking
	// it cost more than half of Recall@10 (0.044 → 0.018 at temperature 0.05, 0.083 → 0.025
	// at 0.2), because it removes the popularity signal that full-ranking metrics on such
	// data reward; see BENCHMARKS.md. Turn it on where debiased retrieval is the goal.
	LogQ bool
	// ItemVectors, when set, holds one feature vector per item (row-major, NumItems rows of
	// equal width), e.g. the ViT image embeddings the paper initialises image items with. The
	// item tower then starts as a learned projection of these vectors.
	ItemVectors []float32
	Seed        uint64
	Workers     int
	// Progress, when set, is called after every epoch with stage "epoch", Done the epochs
	// finished, Total the epochs, and Loss the epoch's mean in-batch softmax loss.
	Progress func(Progress)
}

// TwoTower is a two-tower retrieval model: the item tower is a normalised item embedding
// (plus a projection of given item vectors), the user tower a normalised linear map of the
// mean of the history's item representations plus learned context embeddings. It trains with
// in-batch softmax; with TwoTowerOptions.LogQ each logit is corrected by −log p(item), p being the
// streaming estimate of the item's per-batch sampling probability (Yi et al. 2019, eq. 3
// and Algorithm 2).
type TwoTower struct {
	opt      TwoTowerOptions // resolved
	numItems int
	numUsers int
	vecDim   int
	flat     []float32
	e, c, w  []float32 // n×d, n×d, d×d
	p        []float32 // vecDim×d
	itemVecs []float32 // normalised item tower outputs, n×d, for scoring
}

// NewTwoTower returns an unfitted TwoTower; opts nil means the defaults. An out-of-range
// option is an error wrapping ErrInvalidOptions. The model keeps opts.ItemVectors (it does not
// copy them): they must not change while the model is in use.
func NewTwoTower(opts *TwoTowerOptions) (*TwoTower, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &TwoTower{opt: o}, nil
}

// Name implements Model.
func (m *TwoTower) Name() string { return "twotower" }

// Sequential implements Model.
func (m *TwoTower) Sequential() bool { return false }

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *TwoTowerOptions) resolve() (TwoTowerOptions, error) {
	var r TwoTowerOptions
	if o != nil {
		r = *o
	}
	const typ = "TwoTowerOptions"
	if r.BatchSize == 1 {
		return r, invalidf(typ, "BatchSize", "1 leaves in-batch softmax without negatives (0 means the default %d)", DefaultTwoTowerBatch)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"Dim", &r.Dim, DefaultTwoTowerDim}, {"BatchSize", &r.BatchSize, DefaultTwoTowerBatch},
		{"Epochs", &r.Epochs, DefaultTwoTowerEpochs}, {"History", &r.History, DefaultTwoTowerHistory}} {
		if err := positiveInt(typ, f.name, f.v, f.def); err != nil {
			return r, err
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
		def  float64
	}{{"LR", &r.LR, DefaultTwoTowerLR}, {"Temperature", &r.Temperature, DefaultTwoTowerTemperature},
		{"FreqAlpha", &r.FreqAlpha, DefaultTwoTowerFreqAlpha}} {
		if err := positiveFloat(typ, f.name, f.v, f.def); err != nil {
			return r, err
		}
	}
	if r.FreqAlpha > 1 {
		return r, invalidf(typ, "FreqAlpha", "%g is above 1 (it is a moving-average weight)", r.FreqAlpha)
	}
	for i, v := range r.ItemVectors {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return r, invalidf(typ, "ItemVectors", "value %d is %v", i, v)
		}
	}
	return r, checkWorkers(typ, r.Workers)
}

// freqEstimator is Algorithm 2 of Yi et al. 2019: for each item, A holds the step it was
// last seen and B a moving average of the gap between sightings; 1/B estimates the
// probability that the item appears in a batch.
type freqEstimator struct {
	alpha float64
	a, b  []float64
}

func (f *freqEstimator) update(item int32, step int) {
	if f.a[item] == 0 && f.b[item] == 0 {
		// First sighting: no gap is known yet; start from the elapsed steps.
		f.b[item] = float64(step)
	} else {
		f.b[item] = (1-f.alpha)*f.b[item] + f.alpha*(float64(step)-f.a[item])
	}
	f.a[item] = float64(step)
}

func (f *freqEstimator) logQ(item int32) float32 {
	return float32(-math.Log(math.Max(f.b[item], 1)))
}

type ttExample struct {
	hist   []int32
	target int32
}

// Fit implements Model.
func (m *TwoTower) Fit(ctx context.Context, s *Split) error {
	if err := checkSplit(m.Name(), s); err != nil {
		return err
	}
	o := m.opt
	n, d := s.NumItems, o.Dim
	if o.ItemVectors != nil {
		if len(o.ItemVectors)%n != 0 || len(o.ItemVectors) == 0 {
			return fmt.Errorf("recsys: twotower: ItemVectors has %d values, not a multiple of %d items", len(o.ItemVectors), n)
		}
		m.vecDim = len(o.ItemVectors) / n
	}
	var ex []ttExample
	for _, seq := range s.Train {
		for t := 1; t < len(seq); t++ {
			ex = append(ex, ttExample{hist: seq[max(0, t-o.History):t], target: seq[t]})
		}
	}
	if len(ex) < 2 {
		return fmt.Errorf("recsys: twotower: fewer than two training examples")
	}
	m.numItems, m.numUsers = n, s.NumUsers()
	m.flat = make([]float32, 2*n*d+d*d+m.vecDim*d)
	m.e, m.c, m.w, m.p = m.flat[:n*d], m.flat[n*d:2*n*d], m.flat[2*n*d:2*n*d+d*d], m.flat[2*n*d+d*d:]
	rng := rand.New(rand.NewPCG(o.Seed, 3))
	if m.vecDim == 0 {
		for i := range m.e {
			m.e[i] = float32(rng.NormFloat64() * 0.1)
		}
	} else {
		std := math.Sqrt(2 / float64(m.vecDim+d))
		for i := range m.p {
			m.p[i] = float32(rng.NormFloat64() * std)
		}
	}
	for i := 0; i < d; i++ {
		m.w[i*d+i] = 1
	}
	opt := newAdam(len(m.flat), o.LR, 0.9, 0.999, 1e-8)
	freq := &freqEstimator{alpha: o.FreqAlpha, a: make([]float64, n), b: make([]float64, n)}
	tr := newTTTrainer(m, o)
	step := 0
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		rng.Shuffle(len(ex), func(a, b int) { ex[a], ex[b] = ex[b], ex[a] })
		var total float64
		batches := 0
		for lo := 0; lo+o.BatchSize <= len(ex) || (lo == 0 && len(ex) >= 2); lo += o.BatchSize {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("recsys: twotower: %w", err)
			}
			batch := ex[lo:min(len(ex), lo+o.BatchSize)]
			step++
			for _, e := range batch {
				freq.update(e.target, step)
			}
			total += tr.step(ctx, batch, freq, opt)
			batches++
		}
		if o.Progress != nil {
			o.Progress(Progress{Stage: "epoch", Done: epoch, Total: o.Epochs, Loss: total / float64(max(1, batches))})
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recsys: twotower: %w", err)
	}
	m.itemVecs = make([]float32, n*d)
	for i := 0; i < n; i++ {
		raw := m.itemRaw(int32(i), m.itemVecs[i*d:i*d+d])
		normalize32(raw)
	}
	return nil
}

// itemRaw writes e_i + x_i·P into dst.
func (m *TwoTower) itemRaw(i int32, dst []float32) []float32 {
	d := len(dst)
	copy(dst, m.e[int(i)*d:int(i)*d+d])
	if m.vecDim > 0 {
		x := m.opt.ItemVectors[int(i)*m.vecDim:][:m.vecDim]
		for k, xv := range x {
			if xv != 0 {
				axpy32(xv, m.p[k*d:k*d+d], dst)
			}
		}
	}
	return dst
}

// normalize32 scales v to unit length in place and returns the length it had.
func normalize32(v []float32) float32 {
	nv := float32(math.Sqrt(float64(dot32(v, v))))
	if nv > 0 {
		inv := 1 / nv
		for i := range v {
			v[i] *= inv
		}
	}
	return nv
}

// userVector computes the user tower for a history into u (len d), returning the pooled
// input h and the pre-normalisation length.
func (m *TwoTower) userVector(hist []int32, h, u, tmp []float32) float32 {
	d := len(u)
	clear(h)
	for _, j := range hist {
		axpy32(1, m.itemRaw(j, tmp), h)
		axpy32(1, m.c[int(j)*d:int(j)*d+d], h)
	}
	inv := 1 / float32(len(hist))
	for i := range h {
		h[i] *= inv
	}
	gemm(false, false, 1, d, d, 1, h, m.w, 0, u)
	return normalize32(u)
}

// Score implements Model.
func (m *TwoTower) Score(user int, history []int32, dst []float32) error {
	d := m.opt.Dim
	if err := checkScoreArgs(m.Name(), m.numUsers, len(m.itemVecs)/max(1, d), user, history, len(dst)); err != nil {
		return err
	}
	if len(history) > m.opt.History {
		history = history[len(history)-m.opt.History:]
	}
	h, u, tmp := make([]float32, d), make([]float32, d), make([]float32, d)
	m.userVector(history, h, u, tmp)
	gemm(false, true, 1, m.numItems, d, 1, u, m.itemVecs, 0, dst)
	return nil
}

// ttTrainer holds the per-batch buffers of TwoTower training.
type ttTrainer struct {
	m                *TwoTower
	o                TwoTowerOptions
	hs, us, uraw, vs []float32 // B×d
	un, vn           []float32 // B lengths
	logits           []float32 // B×B
	du, dv, dh       []float32
	workers          int
	grad             []float32
	touched          map[int32]bool
	tmp              []float32
}

func newTTTrainer(m *TwoTower, o TwoTowerOptions) *ttTrainer {
	B, d := o.BatchSize, o.Dim
	return &ttTrainer{m: m, o: o, hs: make([]float32, B*d), us: make([]float32, B*d), uraw: make([]float32, B*d),
		vs: make([]float32, B*d), un: make([]float32, B), vn: make([]float32, B), logits: make([]float32, B*B),
		du: make([]float32, B*d), dv: make([]float32, B*d), dh: make([]float32, B*d), workers: workerCount(o.Workers, B), grad: make([]float32, len(m.flat)),
		touched: map[int32]bool{}, tmp: make([]float32, d)}
}

// normBackward turns dy (gradient at y = x/|x|) into the gradient at x, in place.
func normBackward(dy, y []float32, nx float32) {
	if nx == 0 {
		clear(dy)
		return
	}
	p := dot32(y, dy)
	for i := range dy {
		dy[i] = (dy[i] - y[i]*p) / nx
	}
}

// gradient runs one batch of in-batch softmax (with the log-Q correction if set), leaving the
// gradient of the mean loss in t.grad and the embedding rows it touched in t.touched.
func (t *ttTrainer) gradient(ctx context.Context, batch []ttExample, freq *freqEstimator) float64 {
	m, d, B := t.m, t.o.Dim, len(batch)
	tau := float32(1 / t.o.Temperature)
	// The towers of the batch's examples are independent: compute them on every core.
	_ = parallelChunks(ctx, B, t.workers, func(_, lo, hi int) error {
		tmp := make([]float32, d)
		for a := lo; a < hi; a++ {
			e := batch[a]
			t.un[a] = m.userVector(e.hist, t.hs[a*d:a*d+d], t.us[a*d:a*d+d], tmp)
			v := m.itemRaw(e.target, t.vs[a*d:a*d+d])
			t.vn[a] = normalize32(v)
		}
		return nil
	})
	lg := t.logits[:B*B]
	gemm(false, true, B, B, d, tau, t.us[:B*d], t.vs[:B*d], 0, lg)
	var loss float64
	invB := 1 / float32(B)
	for a := 0; a < B; a++ {
		row := lg[a*B : a*B+B]
		mx := float32(math.Inf(-1))
		for b := range row {
			if b != a && batch[b].target == batch[a].target {
				row[b] = float32(math.Inf(-1)) // the same item twice is no negative
				continue
			}
			if t.o.LogQ {
				row[b] += freq.logQ(batch[b].target)
			}
			mx = max(mx, row[b])
		}
		var sum float64
		for b, v := range row {
			e := math.Exp(float64(v - mx))
			row[b] = float32(e)
			sum += e
		}
		loss -= math.Log(float64(row[a])/sum + 1e-30)
		for b := range row {
			row[b] = row[b] / float32(sum) * invB * tau
		}
		row[a] -= invB * tau
	}
	// du = dL·V, dv = dLᵀ·U (the 1/τ factor is folded into dL above).
	gemm(false, false, B, d, B, 1, lg, t.vs[:B*d], 0, t.du[:B*d])
	gemm(true, false, B, d, B, 1, lg, t.us[:B*d], 0, t.dv[:B*d])
	g := t.grad
	n := m.numItems
	ge, gc, gw, gp := g[:n*d], g[n*d:2*n*d], g[2*n*d:2*n*d+d*d], g[2*n*d+d*d:]
	clear(t.touched)
	addRaw := func(i int32, dr []float32) {
		t.touched[i] = true
		axpy32(1, dr, ge[int(i)*d:int(i)*d+d])
		if m.vecDim > 0 {
			x := t.o.ItemVectors[int(i)*m.vecDim:][:m.vecDim]
			for k, xv := range x {
				if xv != 0 {
					axpy32(xv, dr, gp[k*d:k*d+d])
				}
			}
		}
	}
	// Per-example gradients in parallel (dv, and dh = du·Wᵀ/|history| into du's rows), then
	// scattered into the shared gradient in example order.
	_ = parallelChunks(ctx, B, t.workers, func(_, lo, hi int) error {
		dh := make([]float32, d)
		for a := lo; a < hi; a++ {
			normBackward(t.dv[a*d:a*d+d], t.vs[a*d:a*d+d], t.vn[a])
			du := t.du[a*d : a*d+d]
			normBackward(du, t.us[a*d:a*d+d], t.un[a])
			gemm(false, true, 1, d, d, 1, du, m.w, 0, dh)
			inv := 1 / float32(len(batch[a].hist))
			for i := range dh {
				t.dh[a*d+i] = dh[i] * inv
			}
		}
		return nil
	})
	// u_raw = h·W: dW += Hᵀ·dU over the batch.
	gemm(true, false, d, d, B, 1, t.hs[:B*d], t.du[:B*d], 1, gw)
	for a, e := range batch {
		addRaw(e.target, t.dv[a*d:a*d+d])
		dh := t.dh[a*d : a*d+d]
		for _, j := range e.hist {
			addRaw(j, dh)
			axpy32(1, dh, gc[int(j)*d:int(j)*d+d])
		}
	}
	return loss / float64(B)
}

// step computes the batch's gradient and applies a lazy Adam update (only the embedding rows
// the batch touched move, as TensorFlow's LazyAdam). It returns the batch's mean loss.
func (t *ttTrainer) step(ctx context.Context, batch []ttExample, freq *freqEstimator, opt *adam) float64 {
	loss := t.gradient(ctx, batch, freq)
	m, d, n, g := t.m, t.o.Dim, t.m.numItems, t.grad
	opt.t++
	for i := range t.touched {
		lo := int(i) * d
		opt.stepRange(m.flat, g, lo, lo+d)
		opt.stepRange(m.flat, g, n*d+lo, n*d+lo+d)
		clear(g[lo : lo+d])
		clear(g[n*d+lo : n*d+lo+d])
	}
	opt.stepRange(m.flat, g, 2*n*d, len(m.flat))
	clear(g[2*n*d:])
	return loss
}
