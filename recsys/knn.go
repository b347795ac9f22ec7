package recsys

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// DefaultKNNNeighbours is RecBole's default k for ItemKNN and UserKNN (model/general_recommender
// itemknn.py and properties/model/ItemKNN.yaml: k: 100, shrink: 0.0).
const DefaultKNNNeighbours = 100

// cosineEpsilon is added to every cosine denominator, as RecBole's ComputeSimilarity does
// (denominator = |a||b| + shrink + 1e-6).
const cosineEpsilon = 1e-6

// KNNOptions configure ItemKNN and UserKNN. Nil and the zero value mean RecBole's defaults.
type KNNOptions struct {
	// K is the number of neighbours kept per item (ItemKNN) or user (UserKNN); 0 means
	// DefaultKNNNeighbours.
	K int
	// Shrink is added to the cosine denominator; 0 means none (RecBole's default). It must
	// be finite and not negative.
	Shrink float64
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *KNNOptions) resolve() (KNNOptions, error) {
	var r KNNOptions
	if o != nil {
		r = *o
	}
	const typ = "KNNOptions"
	if err := positiveInt(typ, "K", &r.K, DefaultKNNNeighbours); err != nil {
		return r, err
	}
	if math.IsNaN(r.Shrink) || math.IsInf(r.Shrink, 0) || r.Shrink < 0 {
		return r, invalidf(typ, "Shrink", "%v is not a finite non-negative number", r.Shrink)
	}
	return r, checkWorkers(typ, r.Workers)
}

// topKCosine returns, for each row a of A, its k most similar other rows b by shrunk cosine
// dot(A_a, A_b) / (|A_a| |A_b| + shrink + 1e-6), self-similarity zero and zero similarities
// dropped, as RecBole's ComputeSimilarity.compute_similarity. Row a of the result holds a's
// neighbours (ascending by index). Ties are broken towards the lower index.
func topKCosine(ctx context.Context, A *CSR, k int, shrink float64, workers int) (*CSR, error) {
	n := A.Rows
	at := A.Transpose()
	norms := make([]float64, n)
	for a := 0; a < n; a++ {
		_, v := A.Row(a)
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		norms[a] = math.Sqrt(s)
	}
	if k > n {
		k = n
	}
	type nb struct {
		idx []int32
		sim []float32
	}
	rows := make([]nb, n)
	workers = workerCount(workers, n)
	err := parallelChunks(ctx, n, workers, func(_, lo, hi int) error {
		acc := make([]float64, n)
		var touched []int32
		for a := lo; a < hi; a++ {
			if a%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			touched = touched[:0]
			fi, fv := A.Row(a)
			for p, f := range fi {
				bi, bv := at.Row(int(f))
				for q, b := range bi {
					if acc[b] == 0 {
						touched = append(touched, b)
					}
					acc[b] += float64(fv[p]) * float64(bv[q])
				}
			}
			cand := make([]int32, 0, len(touched))
			sims := make(map[int32]float64, len(touched))
			for _, b := range touched {
				dot := acc[b]
				acc[b] = 0
				if int(b) == a || dot == 0 {
					continue
				}
				s := dot / (norms[a]*norms[b] + shrink + cosineEpsilon)
				if s == 0 {
					continue
				}
				cand = append(cand, b)
				sims[b] = s
			}
			sort.Slice(cand, func(x, y int) bool {
				sx, sy := sims[cand[x]], sims[cand[y]]
				if sx != sy {
					return sx > sy
				}
				return cand[x] < cand[y]
			})
			if len(cand) > k {
				cand = cand[:k]
			}
			sort.Slice(cand, func(x, y int) bool { return cand[x] < cand[y] })
			r := nb{idx: cand, sim: make([]float32, len(cand))}
			for j, b := range cand {
				r.sim[j] = float32(sims[b])
			}
			rows[a] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	W := &CSR{Rows: n, Cols: n, Indptr: make([]int, n+1)}
	for a, r := range rows {
		W.Indices = append(W.Indices, r.idx...)
		W.Values = append(W.Values, r.sim...)
		W.Indptr[a+1] = len(W.Indices)
	}
	return W, nil
}

// ItemKNN is RecBole's ItemKNN: item–item shrunk cosine over the user×item interaction
// matrix, each item keeping its K most similar items; a user's score for item i is the sum of
// sim(i, j) over the history items j that are among i's neighbours (pred = R·W).
type ItemKNN struct {
	opt KNNOptions // resolved
	// byHistory row j lists the items i that keep j as a neighbour, with sim(i, j): the
	// transpose of the neighbour lists, so that scoring walks the history only.
	byHistory *CSR
	numUsers  int
}

// NewItemKNN returns an unfitted ItemKNN; opts nil means the defaults. An out-of-range option
// is an error wrapping ErrInvalidOptions.
func NewItemKNN(opts *KNNOptions) (*ItemKNN, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &ItemKNN{opt: o}, nil
}

// Name implements Model.
func (m *ItemKNN) Name() string { return "itemknn" }

// Sequential implements Model.
func (m *ItemKNN) Sequential() bool { return false }

// Fit implements Model.
func (m *ItemKNN) Fit(ctx context.Context, s *Split) error {
	if err := checkSplit(m.Name(), s); err != nil {
		return err
	}
	R := NewCSR(s.Train, s.NumItems)
	W, err := topKCosine(ctx, R.Transpose(), m.opt.K, m.opt.Shrink, m.opt.Workers)
	if err != nil {
		return fmt.Errorf("recsys: itemknn: %w", err)
	}
	m.byHistory = W.Transpose()
	m.numUsers = s.NumUsers()
	return nil
}

// Score implements Model: it scores from the given history (item counts), so cold users work.
func (m *ItemKNN) Score(user int, history []int32, dst []float32) error {
	n := 0
	if m.byHistory != nil {
		n = m.byHistory.Rows
	}
	if err := checkScoreArgs(m.Name(), m.numUsers, n, user, history, len(dst)); err != nil {
		return err
	}
	clear(dst)
	for _, j := range history {
		idx, val := m.byHistory.Row(int(j))
		for p, i := range idx {
			dst[i] += val[p]
		}
	}
	return nil
}

// UserKNN is RecBole's UserKNN: user–user shrunk cosine over the interaction matrix, each
// user keeping its K most similar users; the score of item i is the sum of sim(u, v) over
// the neighbours v that hold i, weighted by their counts (pred = W·R).
type UserKNN struct {
	opt   KNNOptions // resolved
	nbrs  *CSR       // row u: u's neighbours and similarities
	R     *CSR       // training user×item counts
	Rt    *CSR       // its transpose, for cold users
	norms []float64
}

// NewUserKNN returns an unfitted UserKNN; opts nil means the defaults. An out-of-range option
// is an error wrapping ErrInvalidOptions.
func NewUserKNN(opts *KNNOptions) (*UserKNN, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &UserKNN{opt: o}, nil
}

// Name implements Model.
func (m *UserKNN) Name() string { return "userknn" }

// Sequential implements Model.
func (m *UserKNN) Sequential() bool { return false }

// Fit implements Model.
func (m *UserKNN) Fit(ctx context.Context, s *Split) error {
	if err := checkSplit(m.Name(), s); err != nil {
		return err
	}
	R := NewCSR(s.Train, s.NumItems)
	W, err := topKCosine(ctx, R, m.opt.K, m.opt.Shrink, m.opt.Workers)
	if err != nil {
		return fmt.Errorf("recsys: userknn: %w", err)
	}
	m.nbrs, m.R, m.Rt = W, R, R.Transpose()
	m.norms = make([]float64, R.Rows)
	for u := range m.norms {
		_, v := R.Row(u)
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		m.norms[u] = math.Sqrt(s)
	}
	return nil
}

// Score implements Model. A known user is scored from the neighbours found at Fit time (as
// RecBole does); a cold user (user -1) gets its neighbours computed from history.
func (m *UserKNN) Score(user int, history []int32, dst []float32) error {
	users, items := 0, 0
	if m.R != nil {
		users, items = m.R.Rows, m.R.Cols
	}
	if err := checkScoreArgs(m.Name(), users, items, user, history, len(dst)); err != nil {
		return err
	}
	clear(dst)
	var idx []int32
	var sim []float32
	if user >= 0 {
		idx, sim = m.nbrs.Row(user)
	} else {
		idx, sim = m.coldNeighbours(history)
	}
	for p, v := range idx {
		it, cnt := m.R.Row(int(v))
		for q, i := range it {
			dst[i] += sim[p] * cnt[q]
		}
	}
	return nil
}

// coldNeighbours finds the K users most similar to a history that belongs to no training
// user.
func (m *UserKNN) coldNeighbours(history []int32) ([]int32, []float32) {
	h := NewCSR([][]int32{history}, m.R.Cols)
	hi, hv := h.Row(0)
	var hn float64
	for _, x := range hv {
		hn += float64(x) * float64(x)
	}
	hn = math.Sqrt(hn)
	acc := map[int32]float64{}
	for p, it := range hi {
		us, cnt := m.Rt.Row(int(it))
		for q, v := range us {
			acc[v] += float64(hv[p]) * float64(cnt[q])
		}
	}
	cand := make([]int32, 0, len(acc))
	for v, d := range acc {
		if d != 0 {
			cand = append(cand, v)
		}
	}
	simOf := func(v int32) float64 { return acc[v] / (hn*m.norms[v] + m.opt.Shrink + cosineEpsilon) }
	sort.Slice(cand, func(x, y int) bool {
		sx, sy := simOf(cand[x]), simOf(cand[y])
		if sx != sy {
			return sx > sy
		}
		return cand[x] < cand[y]
	})
	if k := m.opt.K; len(cand) > k {
		cand = cand[:k]
	}
	sims := make([]float32, len(cand))
	for j, v := range cand {
		sims[j] = float32(simOf(v))
	}
	return cand, sims
}
