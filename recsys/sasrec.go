package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// SASRec defaults, from Kang & McAuley 2018 §IV-C ("Implementation Details") and the
// authors' kang205/SASRec main.py: d = 50, two self-attention blocks, one head, learning
// rate 0.001, batch 128, maximum length 50 for the Amazon data (200 for MovieLens-1M),
// dropout 0.5 on the sparse datasets, Adam with β2 = 0.98, 200 epochs.
const (
	DefaultSASRecHidden  = 50
	DefaultSASRecBlocks  = 2
	DefaultSASRecMaxLen  = 50
	DefaultSASRecDropout = 0.5
	DefaultSASRecLR      = 0.001
	DefaultSASRecBatch   = 128
	DefaultSASRecEpochs  = 200
	sasAdamBeta1         = 0.9
	sasAdamBeta2         = 0.98
	sasAdamEps           = 1e-8
)

// SASRecLoss selects the training objective.
type SASRecLoss int

const (
	// LossBCE is the paper's binary cross-entropy with one sampled negative per position.
	LossBCE SASRecLoss = iota
	// LossCE is RecBole's variant: softmax cross-entropy over all items at every position.
	LossCE
)

// SASRecOptions configure SASRec. Nil and the zero value mean the paper's defaults; a
// negative size, rate or duration is an error.
type SASRecOptions struct {
	Hidden, Blocks, MaxLen int
	// Dropout is the drop rate, below 1; 0 means DefaultSASRecDropout and a negative value
	// none.
	Dropout   float64
	LR        float64
	BatchSize int
	Epochs    int
	Loss      SASRecLoss
	Seed      uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. Results are deterministic for
	// a given Seed and Workers.
	Workers int
	// MaxTrainTime, when positive, ends training after the first epoch that finishes past
	// that much training time (not counting the time spent in Progress); the model keeps
	// that epoch's weights and Fit returns nil. Zero means no limit. The weights then depend
	// on the machine's speed; cancelling the context instead stops at once with an error.
	MaxTrainTime time.Duration
	// Progress, when set, is called after every epoch with stage "epoch", Done the epochs
	// finished, Total the epochs, and Loss the epoch's mean loss per position. The model can
	// be scored from inside Progress (training waits for it to return).
	Progress func(Progress)
}

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *SASRecOptions) resolve() (SASRecOptions, error) {
	var r SASRecOptions
	if o != nil {
		r = *o
	}
	const typ = "SASRecOptions"
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"Hidden", &r.Hidden, DefaultSASRecHidden}, {"Blocks", &r.Blocks, DefaultSASRecBlocks},
		{"MaxLen", &r.MaxLen, DefaultSASRecMaxLen}, {"BatchSize", &r.BatchSize, DefaultSASRecBatch},
		{"Epochs", &r.Epochs, DefaultSASRecEpochs}} {
		if err := positiveInt(typ, f.name, f.v, f.def); err != nil {
			return r, err
		}
	}
	switch {
	case math.IsNaN(r.Dropout) || r.Dropout >= 1:
		return r, invalidf(typ, "Dropout", "%v is not below 1", r.Dropout)
	case r.Dropout == 0:
		r.Dropout = DefaultSASRecDropout
	case r.Dropout < 0:
		r.Dropout = 0
	}
	if err := positiveFloat(typ, "LR", &r.LR, DefaultSASRecLR); err != nil {
		return r, err
	}
	if r.Loss != LossBCE && r.Loss != LossCE {
		return r, invalidf(typ, "Loss", "unknown loss %d", r.Loss)
	}
	if r.MaxTrainTime < 0 {
		return r, invalidf(typ, "MaxTrainTime", "%v is negative (0 means no limit)", r.MaxTrainTime)
	}
	return r, checkWorkers(typ, r.Workers)
}

// SASRec is the self-attentive sequential recommender of Kang & McAuley 2018.
type SASRec struct {
	opt      SASRecOptions // resolved
	net      *sasNet
	numUsers int
	pool     sync.Pool // inference workspaces
}

// NewSASRec returns an unfitted SASRec; opts nil means the defaults. An out-of-range option
// is an error wrapping ErrInvalidOptions.
func NewSASRec(opts *SASRecOptions) (*SASRec, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &SASRec{opt: o}, nil
}

// Name implements Model.
func (m *SASRec) Name() string { return "sasrec" }

// Sequential implements Model.
func (m *SASRec) Sequential() bool { return true }

func (m *SASRec) init(items int) SASRecOptions {
	o := m.opt
	flat := make([]float32, sasParamCount(items, o.MaxLen, o.Hidden, o.Blocks))
	p := layoutSAS(flat, items, o.MaxLen, o.Hidden, o.Blocks)
	initSAS(p, items, o.MaxLen, o.Hidden, rand.New(rand.NewPCG(o.Seed, 0x5a5)))
	m.net = &sasNet{items: items, maxLen: o.MaxLen, d: o.Hidden, blocks: o.Blocks, dropout: float32(o.Dropout), p: p}
	return o
}

// Fit trains on s.Train as kang205/SASRec does: each step draws BatchSize users with at
// least two training items uniformly with replacement; a user's input is its training
// sequence without the last item (at most MaxLen, the most recent), the target at each
// position is the next item, and the negative is an item drawn uniformly from those the user
// never trained on. An epoch is NumUsers/BatchSize steps.
//
// Each batch's sequences are packed at their true lengths (no padding rows), the dense layers
// of all sequences run as one float32 matrix product per layer, and the batch is split
// across the workers with per-worker gradient buffers summed in a fixed order, which keeps
// training deterministic for a given Seed and Workers.
func (m *SASRec) Fit(ctx context.Context, s *Split) error {
	if err := checkSplit(m.Name(), s); err != nil {
		return err
	}
	var trainable []int
	for u, seq := range s.Train {
		if len(seq) >= 2 {
			trainable = append(trainable, u)
		}
	}
	if len(trainable) == 0 {
		return fmt.Errorf("recsys: sasrec: no user has two training items")
	}
	o := m.init(s.NumItems)
	m.numUsers = s.NumUsers()
	net := m.net
	workers := workerCount(o.Workers, o.BatchSize)
	works := make([]*sasWork, workers)
	for i := range works {
		works[i] = newSASWork(net, true)
	}
	opt := newAdam(len(net.p.flat), o.LR, sasAdamBeta1, sasAdamBeta2, sasAdamEps)
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	steps := max(1, s.NumUsers()/o.BatchSize)
	batch := make([]sasSeq, o.BatchSize)
	seeds := make([]uint64, workers)
	losses := make([]float64, workers)
	var trained time.Duration // excludes the time spent in Progress
	inTrain := make(map[int32]struct{})
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		epochStart := time.Now()
		var epochLoss float64
		var epochPos int
		for step := 0; step < steps; step++ {
			if err := ctx.Err(); err != nil {
				m.net, m.numUsers = nil, 0 // unfitted, as before Fit
				return fmt.Errorf("recsys: sasrec: %w", err)
			}
			npos := 0
			for b := range batch {
				u := trainable[rng.IntN(len(trainable))]
				batch[b] = m.sample(batch[b], s.Train[u], s.NumItems, o.MaxLen, rng, inTrain)
				npos += len(batch[b].in)
			}
			for i := range seeds {
				seeds[i] = rng.Uint64()
			}
			inv := 1 / float32(npos)
			_ = parallelChunks(ctx, len(batch), workers, func(wi, lo, hi int) error {
				w := works[wi]
				w.pack(batch[lo:hi])
				w.forward(rand.New(rand.NewPCG(seeds[wi], uint64(step))))
				if o.Loss == LossCE {
					losses[wi] = w.lossCE(inv)
				} else {
					losses[wi] = w.lossBCE(inv)
				}
				w.backward()
				return nil
			})
			for _, l := range losses {
				epochLoss += l
			}
			epochPos += npos
			opt.t++
			n := len(net.p.flat)
			_ = parallelChunks(ctx, n, workers, func(_, lo, hi int) error {
				g := works[0].gflat
				for _, w := range works[1:] {
					gw := w.gflat[lo:hi]
					for i, v := range gw {
						g[lo+i] += v
					}
					clear(gw)
				}
				opt.stepRange(net.p.flat, g, lo, hi)
				clear(g[lo:hi])
				return nil
			})
		}
		trained += time.Since(epochStart)
		if o.Progress != nil {
			o.Progress(Progress{Stage: "epoch", Done: epoch, Total: o.Epochs, Loss: epochLoss / float64(epochPos)})
		}
		if o.MaxTrainTime > 0 && trained >= o.MaxTrainTime {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		m.net, m.numUsers = nil, 0
		return fmt.Errorf("recsys: sasrec: %w", err)
	}
	return nil
}

// sample builds one training sequence from a user's training items.
func (m *SASRec) sample(dst sasSeq, train []int32, items, maxLen int, rng *rand.Rand, seen map[int32]struct{}) sasSeq {
	clear(seen)
	for _, it := range train {
		seen[it] = struct{}{}
	}
	in := train[:len(train)-1]
	next := train[1:]
	if len(in) > maxLen {
		in, next = in[len(in)-maxLen:], next[len(next)-maxLen:]
	}
	dst.in, dst.pos, dst.neg = dst.in[:0], dst.pos[:0], dst.neg[:0]
	for i := range in {
		dst.in = append(dst.in, in[i]+1)
		dst.pos = append(dst.pos, next[i]+1)
		neg := int32(rng.IntN(items))
		for len(seen) < items {
			if _, ok := seen[neg]; !ok {
				break
			}
			neg = int32(rng.IntN(items))
		}
		dst.neg = append(dst.neg, neg+1)
	}
	return dst
}

// represent runs the network over the last MaxLen items of history and returns the final
// position's output (the user's representation), using a fresh workspace.
func (m *SASRec) represent(history []int32) []float32 {
	net := m.net
	if len(history) > net.maxLen {
		history = history[len(history)-net.maxLen:]
	}
	seq := sasSeq{in: make([]int32, len(history))}
	for i, it := range history {
		seq.in[i] = it + 1
	}
	w, _ := m.pool.Get().(*sasWork)
	if w == nil || w.net != net {
		w = newSASWork(net, false)
	}
	defer m.pool.Put(w)
	w.pack([]sasSeq{seq})
	w.forward(nil)
	d := net.d
	return append([]float32(nil), w.f[(w.T-1)*d:w.T*d]...)
}

func (m *SASRec) items() int {
	if m.net == nil {
		return 0
	}
	return m.net.items
}

// Score implements Model: the inner product of the last position's output with every item
// embedding. Any history works, so cold users need no special case.
func (m *SASRec) Score(user int, history []int32, dst []float32) error {
	if err := checkScoreArgs(m.Name(), m.numUsers, m.items(), user, history, len(dst)); err != nil {
		return err
	}
	f := m.represent(history)
	d := m.net.d
	gemm(false, true, 1, m.net.items, d, 1, f, m.net.p.emb[d:], 0, dst)
	return nil
}

// ScoreCandidates implements CandidateScorer: like Score, for the listed items only.
func (m *SASRec) ScoreCandidates(user int, history []int32, items []int32, dst []float32) error {
	if err := checkScoreArgs(m.Name(), m.numUsers, m.items(), user, history, m.items()); err != nil {
		return err
	}
	f := m.represent(history)
	d := m.net.d
	for k, it := range items {
		if it < 0 || int(it) >= m.net.items {
			return fmt.Errorf("recsys: sasrec: candidate %d: unknown item %d", k, it)
		}
		dst[k] = dot32(f, m.net.p.emb[int(it+1)*d:][:d])
	}
	return nil
}

// CandidateScorer is implemented by models that can score a few items faster than all of
// them; Evaluate uses it for the sampled protocol. dst has one entry per item in items.
type CandidateScorer interface {
	ScoreCandidates(user int, history []int32, items []int32, dst []float32) error
}
