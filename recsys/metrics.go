package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
)

// Protocol is an evaluation protocol of §5.2.
type Protocol string

const (
	// ProtocolFull ranks the held-out item against every item (RecBole full sort). The user's
	// history is masked for non-sequential models.
	ProtocolFull Protocol = "full"
	// ProtocolSampled100 ranks the held-out item against SampledNegatives items drawn
	// uniformly from those the user never touched (Kang & McAuley 2018 §IV-B).
	ProtocolSampled100 Protocol = "sampled100"
)

// SampledNegatives is the number of negatives of the sampled protocol (Kang & McAuley 2018,
// §IV-B: "we randomly sample 100 negative items").
const SampledNegatives = 100

// DefaultKs are the cut-offs reported by default: 10 as in the SASRec paper, 50 and 100 as in
// the ImageGem retrieval tables.
var DefaultKs = []int{10, 50, 100}

// EvalOptions configure Evaluate. Nil and the zero value mean the test stage, full ranking,
// DefaultKs and seed 0. An unknown protocol or stage and a cut-off below 1 are errors.
type EvalOptions struct {
	Protocol Protocol
	Stage    Stage
	// Ks are the cut-offs k of the metrics; empty means DefaultKs.
	Ks []int
	// Seed drives the sampled negatives; user u's draw depends on (Seed, u) only.
	Seed uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called with stage "evaluate", Done the users ranked so far out of
	// Total, from one goroutine at a time, with Done increasing.
	Progress func(Progress)
}

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *EvalOptions) resolve() (EvalOptions, error) {
	var r EvalOptions
	if o != nil {
		r = *o
	}
	const typ = "EvalOptions"
	switch r.Protocol {
	case "":
		r.Protocol = ProtocolFull
	case ProtocolFull, ProtocolSampled100:
	default:
		return r, invalidf(typ, "Protocol", "unknown protocol %q (want %q or %q)", r.Protocol, ProtocolFull, ProtocolSampled100)
	}
	if r.Stage != StageTest && r.Stage != StageValid {
		return r, invalidf(typ, "Stage", "unknown stage %d", r.Stage)
	}
	if len(r.Ks) == 0 {
		r.Ks = DefaultKs
	}
	for _, k := range r.Ks {
		if k < 1 {
			return r, invalidf(typ, "Ks", "cut-off %d is below 1", k)
		}
	}
	r.Ks = append([]int(nil), r.Ks...)
	return r, checkWorkers(typ, r.Workers)
}

// Metrics are the means over evaluated users of Recall@k (equal to HR@k with one held-out
// item), NDCG@k = 1/log2(rank+1) for a 1-based rank within k, and MRR@k.
type Metrics struct {
	Protocol Protocol
	Users    int
	Recall   map[int]float64
	NDCG     map[int]float64
	MRR      map[int]float64
}

// RankMetrics adds one user's contribution for a held-out item at 0-based rank into the
// sums. It is exported for tests and for callers that rank themselves.
func RankMetrics(rank int, k int) (recall, ndcg, mrr float64) {
	if rank < 0 || rank >= k {
		return 0, 0, 0
	}
	return 1, 1 / math.Log2(float64(rank)+2), 1 / float64(rank+1)
}

// rankOf counts the candidates that score at least as high as the target (ties count
// against the target, so a model that scores everything equal gets the worst rank).
func rankOf(scores []float32, target int32, candidates []int32, masked map[int32]struct{}) int {
	t := scores[target]
	if t != t { // NaN
		return math.MaxInt32
	}
	r := 0
	if candidates != nil {
		for _, c := range candidates {
			if c != target && scores[c] >= t {
				r++
			}
		}
		return r
	}
	for i, v := range scores {
		if int32(i) == target || v < t {
			continue
		}
		if _, ok := masked[int32(i)]; ok {
			continue
		}
		r++
	}
	return r
}

// rankLast ranks the last score among all of them, ties counting against it.
func rankLast(scores []float32) int {
	t := scores[len(scores)-1]
	if t != t {
		return math.MaxInt32
	}
	r := 0
	for _, v := range scores[:len(scores)-1] {
		if v >= t {
			r++
		}
	}
	return r
}

// Evaluate ranks each evaluable user's held-out item with m and averages the metrics; opts nil
// means the defaults. It stops promptly, with an error wrapping ctx.Err(), when ctx is
// cancelled.
func Evaluate(ctx context.Context, m Model, s *Split, opts *EvalOptions) (Metrics, error) {
	opt, err := opts.resolve()
	if err != nil {
		return Metrics{}, err
	}
	ks := opt.Ks
	if s == nil {
		return Metrics{}, ErrEmpty
	}
	var users []int
	for u := range s.Train {
		if s.Target(u, opt.Stage) >= 0 {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return Metrics{}, fmt.Errorf("recsys: evaluate: no user has a held-out item")
	}
	workers := workerCount(opt.Workers, len(users))
	type sums struct{ r, n, m []float64 }
	part := make([]sums, workers)
	var (
		mu   sync.Mutex
		done int
	)
	err = parallelChunks(ctx, len(users), workers, func(w, lo, hi int) error {
		sm := sums{make([]float64, len(ks)), make([]float64, len(ks)), make([]float64, len(ks))}
		dst := make([]float32, s.NumItems)
		var cands []int32
		for _, u := range users[lo:hi] {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("recsys: evaluate: %w", err)
			}
			target := s.Target(u, opt.Stage)
			hist := s.History(u, opt.Stage)
			var rank int
			if opt.Protocol == ProtocolSampled100 {
				cands = sampleNegatives(cands[:0], s, u, opt.Seed)
				if cs, ok := m.(CandidateScorer); ok {
					cands = append(cands, target)
					if err := cs.ScoreCandidates(u, hist, cands, dst[:len(cands)]); err != nil {
						return fmt.Errorf("recsys: evaluate user %d: %w", u, err)
					}
					rank = rankLast(dst[:len(cands)])
				} else {
					if err := m.Score(u, hist, dst); err != nil {
						return fmt.Errorf("recsys: evaluate user %d: %w", u, err)
					}
					rank = rankOf(dst, target, cands, nil)
				}
			} else {
				if err := m.Score(u, hist, dst); err != nil {
					return fmt.Errorf("recsys: evaluate user %d: %w", u, err)
				}
				var masked map[int32]struct{}
				if !m.Sequential() {
					masked = make(map[int32]struct{}, len(hist))
					for _, it := range hist {
						masked[it] = struct{}{}
					}
				}
				rank = rankOf(dst, target, nil, masked)
			}
			for j, k := range ks {
				r, n, mr := RankMetrics(rank, k)
				sm.r[j] += r
				sm.n[j] += n
				sm.m[j] += mr
			}
			if opt.Progress != nil {
				mu.Lock()
				done++
				opt.Progress(Progress{Stage: "evaluate", Done: done, Total: len(users)})
				mu.Unlock()
			}
		}
		part[w] = sm
		return nil
	})
	if err != nil {
		if err == ctx.Err() { // unwrapped, from parallelChunks
			err = fmt.Errorf("recsys: evaluate: %w", err)
		}
		return Metrics{}, err
	}
	out := Metrics{Protocol: opt.Protocol, Users: len(users), Recall: map[int]float64{}, NDCG: map[int]float64{}, MRR: map[int]float64{}}
	for j, k := range ks {
		var r, n, mr float64
		for _, p := range part {
			if p.r == nil {
				continue
			}
			r += p.r[j]
			n += p.n[j]
			mr += p.m[j]
		}
		out.Recall[k] = r / float64(len(users))
		out.NDCG[k] = n / float64(len(users))
		out.MRR[k] = mr / float64(len(users))
	}
	return out, nil
}

// sampleNegatives draws SampledNegatives distinct items user u never touched (in training,
// validation or test), uniformly, from a generator seeded by (seed, u). When fewer untouched
// items exist, all of them are returned.
func sampleNegatives(dst []int32, s *Split, u int, seed uint64) []int32 {
	touched := make(map[int32]struct{}, len(s.Train[u])+2)
	for _, it := range s.Train[u] {
		touched[it] = struct{}{}
	}
	if s.Valid[u] >= 0 {
		touched[s.Valid[u]] = struct{}{}
	}
	if s.Test[u] >= 0 {
		touched[s.Test[u]] = struct{}{}
	}
	free := s.NumItems - len(touched)
	if free <= SampledNegatives {
		for i := 0; i < s.NumItems; i++ {
			if _, ok := touched[int32(i)]; !ok {
				dst = append(dst, int32(i))
			}
		}
		return dst
	}
	rng := rand.New(rand.NewPCG(seed, uint64(u)))
	for len(dst) < SampledNegatives {
		it := int32(rng.IntN(s.NumItems))
		if _, ok := touched[it]; ok {
			continue
		}
		touched[it] = struct{}{}
		dst = append(dst, it)
	}
	return dst
}

// SortedKs returns the cut-offs of a metrics map in ascending order.
func SortedKs(m map[int]float64) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
