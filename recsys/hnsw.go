package recsys

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// HNSW defaults from Malkov & Yashunin 2018 ("Efficient and robust approximate nearest
// neighbor search using Hierarchical Navigable Small World graphs", §4.1 and hnswlib): M = 16
// links per node, 2M on layer 0, efConstruction = 200, level multiplier 1/ln M. The search
// beam of 400 is ours: in BenchmarkHNSW (1,000,000 clustered unit vectors of 512
// dimensions, k = 100; see BENCHMARKS.md) recall@100 against exact top-k was 0.969 at ef
// 100, 0.997 at 200 and 0.999 at 400, beyond which it no longer grew.
const (
	DefaultHNSWM              = 16
	DefaultHNSWEfConstruction = 200
	DefaultHNSWEfSearch       = 400
)

// hnswMaxLevel caps the drawn level. With M = 16 a level above 8 has probability 16⁻⁸ per
// node; the cap only guards the level's byte.
const hnswMaxLevel = 32

// hnswProgressEvery is how many insertions pass between Progress calls.
const hnswProgressEvery = 10000

// HNSWOptions configure NewHNSW. Nil and the zero value mean the defaults above,
// inner-product ranking and as many insertion workers as GOMAXPROCS. M must be at least 2
// (and at most 32,768); negative values are an error.
type HNSWOptions struct {
	M, EfConstruction, EfSearch int
	// Metric is the distance ranked by; the zero value is MetricInnerProduct.
	Metric Metric
	// FullPrecision walks the graph with the float32 vectors themselves. By default the
	// index keeps a half-precision copy (2 bytes a value, scaled by a power of two into the
	// binary16 range) for building and walking the graph, which halves the memory traffic
	// that dominates on large corpora, and Search re-scores its final candidates with the
	// float32 vectors, so scores are exact either way.
	FullPrecision bool
	// Seed draws the node levels; they do not depend on Workers.
	Seed uint64
	// Workers insert vectors in parallel (0 means GOMAXPROCS). With one worker the graph is
	// a deterministic function of the vectors and the options; with more, the order in which
	// concurrent insertions see each other varies from run to run, and so does the graph
	// (not its quality).
	Workers int
	// Progress, when set, is called with stage "insert", Done the vectors in the graph so
	// far out of Total: every 10,000 insertions and once at the end, from one goroutine at a
	// time, with Done increasing.
	Progress func(Progress)
}

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *HNSWOptions) resolve() (HNSWOptions, error) {
	var r HNSWOptions
	if o != nil {
		r = *o
	}
	const typ = "HNSWOptions"
	if r.M == 1 || r.M > hnswMaxSavedM {
		return r, invalidf(typ, "M", "%d is outside 2..%d (0 means the default %d)", r.M, hnswMaxSavedM, DefaultHNSWM)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"M", &r.M, DefaultHNSWM}, {"EfConstruction", &r.EfConstruction, DefaultHNSWEfConstruction},
		{"EfSearch", &r.EfSearch, DefaultHNSWEfSearch}} {
		if err := positiveInt(typ, f.name, f.v, f.def); err != nil {
			return r, err
		}
	}
	if r.Metric != MetricInnerProduct && r.Metric != MetricL2 {
		return r, invalidf(typ, "Metric", "unknown metric %d", r.Metric)
	}
	return r, checkWorkers(typ, r.Workers)
}

// HNSW is an approximate nearest-neighbour index over float32 vectors: a hierarchical
// navigable small-world graph with the neighbour-selection heuristic of Malkov & Yashunin
// 2018 (Algorithm 4). Under MetricInnerProduct it ranks by inner product (normalise the
// vectors to rank by cosine); under MetricL2 by Euclidean distance. It is built once by
// NewHNSW; Search is safe for concurrent use.
type HNSW struct {
	dim, m, m0, efSearch int
	metric               Metric
	vecs                 []float32
	// half, unless FullPrecision, is scale·vecs in binary16; the graph is built and walked
	// over it. With FullPrecision it is nil and scale is 1.
	half   []uint16
	scale  float32
	levels []uint8
	// links0 holds every node's layer-0 list in one block of m0+1 int32: the count, then
	// the neighbours. upper[i] holds node i's lists on layers 1..levels[i], m+1 each.
	links0 []int32
	upper  [][]int32
	// locks guard each node's lists while the graph is built; Search runs on the finished
	// graph without them.
	locks   []sync.Mutex
	entryMu sync.Mutex
	entry   int32
	top     int
	pool    sync.Pool
}

// maxHNSWNorm2 bounds the squared norm of indexed vectors and queries. With ‖q‖², ‖v‖² ≤
// MaxFloat32/8, every float32 inner product and squared distance (‖q‖² + ‖v‖² − 2q·v, or the
// sum of squared differences) and their partial sums stay below MaxFloat32: a distance that
// overflowed to ±Inf or NaN would break the ordering the graph walks rely on.
const maxHNSWNorm2 = math.MaxFloat32 / 8

// largeVector returns the index and squared norm (in float64) of the first row of vectors
// (dim columns) whose squared norm exceeds maxHNSWNorm2, or −1.
func largeVector(vectors []float32, dim int) (int, float64) {
	for r := 0; r*dim < len(vectors); r++ {
		n2 := 0.0
		for _, x := range vectors[r*dim : (r+1)*dim] {
			n2 += float64(x) * float64(x)
		}
		if n2 > maxHNSWNorm2 {
			return r, n2
		}
	}
	return -1, 0
}

// NewHNSW builds the index over vectors (row-major, dim columns); opts nil means the
// defaults. The index keeps vectors (it does not copy them): they must not change while the
// index is in use. Insertion runs on opts.Workers goroutines and stops promptly, with an
// error wrapping ctx.Err(), when ctx is cancelled.
func NewHNSW(ctx context.Context, vectors []float32, dim int, opts *HNSWOptions) (*HNSW, error) {
	opt, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if dim <= 0 || len(vectors) == 0 || len(vectors)%dim != 0 {
		return nil, fmt.Errorf("recsys: hnsw: %d values are not a non-empty multiple of dim %d", len(vectors), dim)
	}
	n := len(vectors) / dim
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("recsys: hnsw: %d vectors exceed the int32 node index", n)
	}
	for i, v := range vectors {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("recsys: hnsw: vector %d, component %d is %v", i/dim, i%dim, v)
		}
	}
	if i, n2 := largeVector(vectors, dim); i >= 0 {
		return nil, fmt.Errorf("recsys: hnsw: vector %d has squared norm %.3g, above the %.3g that keeps float32 distances finite", i, n2, maxHNSWNorm2)
	}
	h := &HNSW{
		dim: dim, m: opt.M, m0: 2 * opt.M, efSearch: opt.EfSearch, metric: opt.Metric,
		vecs:   vectors,
		levels: make([]uint8, n),
		links0: make([]int32, n*(2*opt.M+1)),
		upper:  make([][]int32, n),
		locks:  make([]sync.Mutex, n),
		scale:  1,
	}
	if !opt.FullPrecision {
		h.scale = halfScale(vectors)
		h.half = make([]uint16, len(vectors))
		workers := workerCount(opt.Workers, n)
		_ = parallelChunks(ctx, workers, workers, func(w, _, _ int) error {
			lo, hi := w*n/workers*dim, (w+1)*n/workers*dim
			toHalf(h.half[lo:hi], vectors[lo:hi], h.scale)
			return nil
		})
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("recsys: hnsw: %w", err)
		}
	}
	// Levels are drawn up front, in node order, so that they do not depend on Workers.
	rng := rand.New(rand.NewPCG(opt.Seed, 4))
	ml := 1 / math.Log(float64(opt.M))
	for i := range h.levels {
		l := min(int(-math.Log(1-rng.Float64())*ml), hnswMaxLevel)
		h.levels[i] = uint8(l)
		if l > 0 {
			h.upper[i] = make([]int32, l*(opt.M+1))
		}
	}
	h.entry, h.top = 0, int(h.levels[0])
	if n == 1 {
		h.locks = nil
		if opt.Progress != nil {
			opt.Progress(Progress{Stage: "insert", Done: 1, Total: 1})
		}
		return h, nil
	}
	var (
		next       atomic.Int64 // next node to insert
		done       atomic.Int64
		progressMu sync.Mutex
		reported   int
	)
	next.Store(1)
	workers := workerCount(opt.Workers, n-1)
	err = parallelChunks(ctx, workers, workers, func(_, _, _ int) error {
		sc := h.newScratch(opt.EfConstruction)
		for {
			i := next.Add(1) - 1
			if i >= int64(n) {
				return nil
			}
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			h.insert(int32(i), opt.EfConstruction, sc)
			// d counts the nodes in the graph, node 0 included.
			if d := int(done.Add(1)) + 1; opt.Progress != nil && d%hnswProgressEvery == 0 {
				progressMu.Lock()
				if d > reported {
					reported = d
					opt.Progress(Progress{Stage: "insert", Done: d, Total: n})
				}
				progressMu.Unlock()
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("recsys: hnsw: %w", err)
	}
	h.locks = nil // Search reads the finished graph without them
	if opt.Progress != nil && reported < n {
		opt.Progress(Progress{Stage: "insert", Done: n, Total: n})
	}
	return h, nil
}

// Len is the number of indexed vectors.
func (h *HNSW) Len() int { return len(h.levels) }

// Dim is the vector length.
func (h *HNSW) Dim() int { return h.dim }

// Search returns the k items nearest to q that the graph finds, best first: under
// MetricInnerProduct the largest inner products (Hit.Score is the inner product), under
// MetricL2 the smallest distances (Hit.Score is minus the squared distance). ef (at least k)
// trades speed for recall; 0 means the index's EfSearch.
func (h *HNSW) Search(q []float32, k, ef int) ([]Hit, error) {
	if len(q) != h.dim {
		return nil, fmt.Errorf("recsys: hnsw: query has %d values, index dim is %d", len(q), h.dim)
	}
	if k <= 0 {
		return nil, fmt.Errorf("recsys: hnsw: k = %d", k)
	}
	for j, x := range q {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("recsys: hnsw: query component %d is %v", j, x)
		}
	}
	if i, n2 := largeVector(q, h.dim); i >= 0 {
		return nil, fmt.Errorf("recsys: hnsw: query has squared norm %.3g, above the %.3g that keeps float32 distances finite", n2, maxHNSWNorm2)
	}
	if ef <= 0 {
		ef = h.efSearch
	}
	ef = max(ef, k)
	sc, _ := h.pool.Get().(*hnswScratch)
	if sc == nil {
		sc = h.newScratch(ef)
	}
	defer h.pool.Put(sc)
	hq := h.query(q, sc)
	ep := h.distID(hq, h.entry, sc)
	for lc := h.top; lc > 0; lc-- {
		ep = h.greedy(hq, ep, lc, sc, false)
	}
	sc.eps = append(sc.eps[:0], ep)
	res := h.searchLayer(hq, sc.eps, ef, 0, sc, -1, false)
	if h.half != nil {
		// Re-score the candidates with the float32 vectors: exact scores, and the order the
		// rounding of the half-precision copy may have disturbed.
		sc.ids = sc.ids[:0]
		for _, r := range res {
			sc.ids = append(sc.ids, r.id)
		}
		if cap(sc.dists) < len(sc.ids) {
			sc.dists = make([]float32, len(sc.ids))
		}
		ds := sc.dists[:len(sc.ids)]
		distances(h.metric, q, h.vecs, h.dim, sc.ids, ds)
		for i := range res {
			res[i].d = ds[i]
		}
		slices.SortFunc(res, cmpDistID)
	}
	if len(res) > k {
		res = res[:k]
	}
	out := make([]Hit, len(res))
	for i, r := range res {
		out[i] = Hit{Item: r.id, Score: -r.d}
	}
	return out, nil
}
