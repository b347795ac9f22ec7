package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Item2Vec defaults (Barkan & Koenigstein 2016, which follows word2vec's skip-gram with
// negative sampling: unigram^0.75 noise, 5 negatives, a learning rate decaying linearly from
// 0.025). The epochs were chosen on the validation split of the SASRec "Video" (Amazon
// Games) data with scripts/recsys_tune (full ranking, Recall@10 with Item2VecInOut; see
// BENCHMARKS.md): 10 / 20 / 40 epochs gave 0.047 / 0.065 / 0.067. A starting rate of 0.05
// gave 0.066 at 20 epochs but failed the conformance suite's small planted data (a round's
// updates are summed before they are applied, so on dense data an item takes large steps),
// 0.2 diverged on Games, and 10 negatives gave 0.056.
const (
	DefaultItem2VecDim       = 64
	DefaultItem2VecNegatives = 5
	DefaultItem2VecEpochs    = 20
	DefaultItem2VecLR        = 0.025
	// DefaultItem2VecMaxPairs bounds the context items drawn per item of a user's set; the
	// set is the window, so long histories are sampled rather than fully paired.
	DefaultItem2VecMaxPairs = 10
	// item2vecNoisePower is word2vec's exponent on unigram counts for the noise distribution.
	item2vecNoisePower = 0.75
	// item2vecRoundUsers is the number of users each worker processes between the
	// deterministic merges of its updates.
	item2vecRoundUsers = 64
)

// Item2VecScoring is how Item2Vec scores a candidate item j for a history H.
type Item2VecScoring int

const (
	// Item2VecInOut sums the inner products of H's input vectors with j's output
	// (context) vector: the skip-gram model's own logit for j in H's context. It is the
	// default: on the validation split of the SASRec "Video" (Amazon Games) data it gave
	// three times the Recall@10 of Item2VecCosine (BENCHMARKS.md, section recsys).
	Item2VecInOut Item2VecScoring = iota
	// Item2VecCosine sums the cosine similarities of j's input vector with those of H (the
	// item-similarity reading of Barkan & Koenigstein 2016). Rare items, whose vectors
	// training barely moved, get random directions and crowd the top of the ranking.
	Item2VecCosine
	// Item2VecDot sums the inner products of the input vectors (rare items keep small norms
	// and score near zero).
	Item2VecDot
)

// Item2VecOptions configure Item2Vec. Nil and the zero value mean the defaults above; a
// negative count or rate is an error.
type Item2VecOptions struct {
	Dim, Negatives, Epochs, MaxPairs int
	// Window, when positive, restricts an item's contexts to the items at most Window
	// positions away in the user's time-ordered training sequence (every one of them is a
	// pair, as in word2vec; MaxPairs is then unused). Zero means the whole set is the
	// window, as in Item2Vec.
	Window int
	// Scoring is how a candidate is scored against the history (see Item2VecScoring).
	Scoring Item2VecScoring
	LR      float64
	Seed    uint64
	Workers int
	// Progress, when set, is called after every epoch with stage "epoch", Done the epochs
	// finished, Total the epochs, and Loss the mean skip-gram loss of the epoch's pairs
	// (computed only when Progress is set).
	Progress func(Progress)
}

// Item2Vec learns item vectors with skip-gram and negative sampling over each user's item
// set (every other item of the set is a context); a candidate is scored against the history
// as Item2VecOptions.Scoring says, by default with the skip-gram logits (history input vectors ·
// candidate output vector), summed over the history.
type Item2Vec struct {
	opt      Item2VecOptions // resolved
	in, out  []float32
	unit     []float32 // in, rows normalised, for scoring
	numItems int
	numUsers int
}

// NewItem2Vec returns an unfitted Item2Vec; opts nil means the defaults. An out-of-range
// option is an error wrapping ErrInvalidOptions.
func NewItem2Vec(opts *Item2VecOptions) (*Item2Vec, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &Item2Vec{opt: o}, nil
}

// Name implements Model.
func (m *Item2Vec) Name() string { return "item2vec" }

// Sequential implements Model.
func (m *Item2Vec) Sequential() bool { return false }

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *Item2VecOptions) resolve() (Item2VecOptions, error) {
	var r Item2VecOptions
	if o != nil {
		r = *o
	}
	const typ = "Item2VecOptions"
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"Dim", &r.Dim, DefaultItem2VecDim}, {"Negatives", &r.Negatives, DefaultItem2VecNegatives},
		{"Epochs", &r.Epochs, DefaultItem2VecEpochs}, {"MaxPairs", &r.MaxPairs, DefaultItem2VecMaxPairs}} {
		if err := positiveInt(typ, f.name, f.v, f.def); err != nil {
			return r, err
		}
	}
	if r.Window < 0 {
		return r, invalidf(typ, "Window", "%d is negative (0 means the whole set)", r.Window)
	}
	if r.Scoring < Item2VecInOut || r.Scoring > Item2VecDot {
		return r, invalidf(typ, "Scoring", "unknown scoring %d", r.Scoring)
	}
	if err := positiveFloat(typ, "LR", &r.LR, DefaultItem2VecLR); err != nil {
		return r, err
	}
	return r, checkWorkers(typ, r.Workers)
}

// Fit implements Model. Workers process disjoint users against the same weights and their
// updates are added in worker order after every round, so training is deterministic for a
// given Seed and Workers.
func (m *Item2Vec) Fit(ctx context.Context, s *Split) error {
	if err := checkSplit(m.Name(), s); err != nil {
		return err
	}
	o := m.opt
	n, d := s.NumItems, o.Dim
	rng := rand.New(rand.NewPCG(o.Seed, 2))
	in, out := make([]float32, n*d), make([]float32, n*d)
	for i := range in {
		in[i] = (rng.Float32() - 0.5) / float32(d)
	}
	noise := newAliasTable(s.Train, n)
	var users []int
	for u, seq := range s.Train {
		if len(seq) >= 2 {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return fmt.Errorf("recsys: item2vec: no user has two training items")
	}
	workers := workerCount(o.Workers, len(users))
	deltas := make([]*i2vDelta, workers)
	for w := range deltas {
		deltas[w] = newI2VDelta(n, d)
	}
	losses := make([]i2vLoss, workers)
	withLoss := o.Progress != nil
	totalRounds := o.Epochs * ((len(users) + workers*item2vecRoundUsers - 1) / (workers * item2vecRoundUsers))
	round := 0
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		rng.Shuffle(len(users), func(a, b int) { users[a], users[b] = users[b], users[a] })
		var epochLoss i2vLoss
		for lo := 0; lo < len(users); lo += workers * item2vecRoundUsers {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("recsys: item2vec: %w", err)
			}
			hi := min(len(users), lo+workers*item2vecRoundUsers)
			lr := float32(o.LR * math.Max(1e-4, 1-float64(round)/float64(totalRounds)))
			round++
			seed := rng.Uint64()
			err := parallelChunks(ctx, hi-lo, workers, func(w, a, b int) error {
				losses[w] = trainI2VUsers(in, out, s, users[lo+a:lo+b], &o, lr, noise, rand.New(rand.NewPCG(seed, uint64(w))), deltas[w], withLoss)
				return nil
			})
			if err != nil {
				return fmt.Errorf("recsys: item2vec: %w", err)
			}
			for w, dl := range deltas {
				dl.apply(in, out, d)
				epochLoss.sum += losses[w].sum
				epochLoss.pairs += losses[w].pairs
				losses[w] = i2vLoss{}
			}
		}
		if withLoss {
			o.Progress(Progress{Stage: "epoch", Done: epoch, Total: o.Epochs, Loss: epochLoss.sum / float64(max(1, epochLoss.pairs))})
		}
	}
	m.in, m.out = in, out
	m.numItems, m.numUsers = n, s.NumUsers()
	m.unit = unitRows(m.in, n, d)
	return nil
}

// i2vLoss sums the skip-gram loss over a number of (target, context) pairs, each with its
// negatives.
type i2vLoss struct {
	sum   float64
	pairs int
}

// i2vDelta collects one worker's updates of a round in dense buffers, remembering which
// rows it touched so that applying and clearing them costs only those rows.
type i2vDelta struct {
	in, out         []float32
	inMark, outMark []bool
	inRows, outRows []int32
}

func newI2VDelta(n, d int) *i2vDelta {
	return &i2vDelta{in: make([]float32, n*d), out: make([]float32, n*d), inMark: make([]bool, n), outMark: make([]bool, n)}
}

func (dl *i2vDelta) rowIn(i int32, d int) []float32 {
	if !dl.inMark[i] {
		dl.inMark[i] = true
		dl.inRows = append(dl.inRows, i)
	}
	return dl.in[int(i)*d : int(i)*d+d]
}

func (dl *i2vDelta) rowOut(i int32, d int) []float32 {
	if !dl.outMark[i] {
		dl.outMark[i] = true
		dl.outRows = append(dl.outRows, i)
	}
	return dl.out[int(i)*d : int(i)*d+d]
}

// apply adds the updates into the weights in row order and clears them.
func (dl *i2vDelta) apply(in, out []float32, d int) {
	slices.Sort(dl.inRows)
	slices.Sort(dl.outRows)
	for _, i := range dl.inRows {
		r := dl.in[int(i)*d : int(i)*d+d]
		axpy32(1, r, in[int(i)*d:int(i)*d+d])
		clear(r)
		dl.inMark[i] = false
	}
	for _, i := range dl.outRows {
		r := dl.out[int(i)*d : int(i)*d+d]
		axpy32(1, r, out[int(i)*d:int(i)*d+d])
		clear(r)
		dl.outMark[i] = false
	}
	dl.inRows, dl.outRows = dl.inRows[:0], dl.outRows[:0]
}

// trainI2VUsers runs SGNS over the users' item sets against the current weights in and out,
// collecting the updates in dl. With withLoss it also sums the loss −log σ(v·u) −
// Σ log σ(−v·u') of every pair.
func trainI2VUsers(in, out []float32, s *Split, users []int, o *Item2VecOptions, lr float32, noise *aliasTable, rng *rand.Rand, dl *i2vDelta, withLoss bool) i2vLoss {
	var loss i2vLoss
	d := o.Dim
	grad := make([]float32, d)
	for _, u := range users {
		set := s.Train[u]
		for ti, target := range set {
			pairs, lo := min(o.MaxPairs, len(set)-1), 0
			if o.Window > 0 {
				lo = max(0, ti-o.Window)
				pairs = min(len(set)-1, ti+o.Window) - lo + 1
			}
			for p := 0; p < pairs; p++ {
				var ctxItem int32
				if o.Window > 0 {
					ctxItem = set[lo+p]
				} else {
					ctxItem = set[rng.IntN(len(set))]
				}
				if ctxItem == target {
					continue
				}
				vin := in[int(target)*d:][:d]
				clear(grad)
				for k := 0; k <= o.Negatives; k++ {
					oi, label := ctxItem, float32(1)
					if k > 0 {
						oi, label = noise.draw(rng), 0
						if oi == ctxItem {
							continue
						}
					}
					vout := out[int(oi)*d:][:d]
					sg := sigmoid(dot32(vin, vout))
					if withLoss {
						if label == 1 {
							loss.sum -= math.Log(float64(sg) + 1e-12)
						} else {
							loss.sum -= math.Log(1 - float64(sg) + 1e-12)
						}
					}
					gr := (label - sg) * lr
					axpy32(gr, vout, grad)
					axpy32(gr, vin, dl.rowOut(oi, d))
				}
				loss.pairs++
				axpy32(1, grad, dl.rowIn(target, d))
			}
		}
	}
	return loss
}

// Score implements Model.
func (m *Item2Vec) Score(user int, history []int32, dst []float32) error {
	if err := checkScoreArgs(m.Name(), m.numUsers, m.numItems, user, history, len(dst)); err != nil {
		return err
	}
	d := m.opt.Dim
	q := make([]float32, d)
	src, cand := m.in, m.out
	switch m.opt.Scoring {
	case Item2VecCosine:
		src, cand = m.unit, m.unit
	case Item2VecDot:
		src, cand = m.in, m.in
	}
	for _, it := range history {
		axpy32(1, src[int(it)*d:][:d], q)
	}
	gemm(false, true, 1, m.numItems, d, 1, q, cand, 0, dst)
	return nil
}

// aliasTable draws items from the unigram^0.75 distribution of the training counts in O(1)
// (Walker's alias method).
type aliasTable struct {
	prob  []float32
	alias []int32
}

func newAliasTable(seqs [][]int32, n int) *aliasTable {
	w := make([]float64, n)
	for _, s := range seqs {
		for _, it := range s {
			w[it]++
		}
	}
	var total float64
	for i, c := range w {
		w[i] = math.Pow(c, item2vecNoisePower)
		total += w[i]
	}
	t := &aliasTable{prob: make([]float32, n), alias: make([]int32, n)}
	if total == 0 {
		for i := range w {
			w[i] = 1
		}
		total = float64(n)
	}
	var small, large []int32
	scaled := make([]float64, n)
	for i, c := range w {
		scaled[i] = c * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s], t.alias[s] = float32(scaled[s]), l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		t.prob[i], t.alias[i] = 1, i
	}
	return t
}

func (t *aliasTable) draw(rng *rand.Rand) int32 {
	i := rng.IntN(len(t.prob))
	if rng.Float32() < t.prob[i] {
		return int32(i)
	}
	return t.alias[i]
}

// unitRows returns a copy of the n×d matrix v with every row scaled to unit length.
func unitRows(v []float32, n, d int) []float32 {
	u := append([]float32(nil), v...)
	for i := 0; i < n; i++ {
		normalize32(u[i*d : i*d+d])
	}
	return u
}
