package hdbscan

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// num is a float64 that the golden files write as a JSON number or, when not finite, as
// the string "+Inf", "-Inf" or "NaN".
type num float64

func (f *num) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil {
			return err
		}
		s = u
	}
	v, err := strconv.ParseFloat(s, 64)
	*f = num(v)
	return err
}

type goldenOutputs struct {
	NClusters          int     `json:"n_clusters"`
	NNoise             int     `json:"n_noise"`
	Labels             []int   `json:"labels"`
	Probabilities      []num   `json:"probabilities"`
	ClusterPersistence []num   `json:"cluster_persistence"`
	OutlierScores      []num   `json:"outlier_scores"`
	SingleLinkageTree  [][]num `json:"single_linkage_tree"`
	CondensedTree      struct {
		Parent    []int `json:"parent"`
		Child     []int `json:"child"`
		LambdaVal []num `json:"lambda_val"`
		ChildSize []int `json:"child_size"`
	} `json:"condensed_tree"`
}

type goldenCase struct {
	Case   string `json:"case"`
	Params struct {
		MinClusterSize          int     `json:"min_cluster_size"`
		MinSamples              *int    `json:"min_samples"`
		ClusterSelectionMethod  string  `json:"cluster_selection_method"`
		ClusterSelectionEpsilon float64 `json:"cluster_selection_epsilon"`
		Alpha                   float64 `json:"alpha"`
		AllowSingleCluster      bool    `json:"allow_single_cluster"`
		Metric                  string  `json:"metric"`
		Algorithm               string  `json:"algorithm"`
	} `json:"params"`
	EffectiveMinSamples int            `json:"effective_min_samples"`
	X                   [][]float64    `json:"X"`
	Outputs             goldenOutputs  `json:"outputs"`
	OutputsStable       *goldenOutputs `json:"outputs_stable_sort"`
	Intermediates       struct {
		Algorithm     string  `json:"algorithm"`
		CoreDistances []num   `json:"core_distances"`
		MSTUnsorted   [][]num `json:"mst_unsorted"`
		MSTArgsort    []int   `json:"mst_argsort"`
	} `json:"intermediates"`
}

func loadCases(t *testing.T) map[string]*goldenCase {
	dir := shareddata.Path(t, "hdbscan", "cases")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	out := map[string]*goldenCase{}
	for _, f := range files {
		if filepath.Base(f) == "index.json" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var c goldenCase
		require.NoError(t, json.Unmarshal(b, &c), f)
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = &c
	}
	require.NotEmpty(t, out)
	return out
}

func (c *goldenCase) options(mode Mode) *Options {
	o := &Options{
		MinClusterSize:     c.Params.MinClusterSize,
		Epsilon:            c.Params.ClusterSelectionEpsilon,
		Alpha:              c.Params.Alpha,
		AllowSingleCluster: c.Params.AllowSingleCluster,
		Mode:               mode,
	}
	if c.Params.MinSamples != nil {
		o.MinSamples = *c.Params.MinSamples
	}
	if c.Params.ClusterSelectionMethod == "leaf" {
		o.Selection = Leaf
	}
	return o
}

// expected returns the outputs of a stable sort: outputs_stable_sort when present.
func (c *goldenCase) expected() *goldenOutputs {
	if c.OutputsStable != nil {
		return c.OutputsStable
	}
	return &c.Outputs
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

func closeFloat(a, b, tol float64) bool {
	if sameFloat(a, b) {
		return true
	}
	return math.Abs(a-b) <= tol
}

// TestGoldenExact reproduces every prims_kdtree golden case bit for bit: core distances,
// the MST in Prim order, the single-linkage and condensed trees, labels, and probabilities,
// outlier scores and persistence within 1e-12.
func TestGoldenExact(t *testing.T) {
	for name, c := range loadCases(t) {
		t.Run(name, func(t *testing.T) {
			res, err := fitRows(context.Background(), c.X, c.options(Exact))
			require.NoError(t, err)
			n := len(c.X)
			exactAlgo := c.Intermediates.Algorithm == "prims_kdtree"
			if exactAlgo {
				require.Len(t, res.CoreDistances, n)
				for i, v := range c.Intermediates.CoreDistances {
					if !assert.Equal(t, float64(v), res.CoreDistances[i], "core distance %d", i) {
						break
					}
				}
				require.Len(t, res.MST, n-1)
				for i, e := range c.Intermediates.MSTUnsorted {
					got := res.MST[i]
					if !assert.Equal(t, []float64{float64(e[0]), float64(e[1]), float64(e[2])},
						[]float64{float64(got.A), float64(got.B), got.Weight}, "mst row %d", i) {
						break
					}
				}
			}
			want := c.expected()
			if !exactAlgo {
				// generic (BLAS distances) and boruvka lay the trees out differently: same
				// partition, same merge heights within the BLAS rounding (README.md).
				checkPartition(t, want.Labels, res.Labels)
				wantH := sortedHeights(want.SingleLinkageTree)
				gotH := make([]float64, len(res.SingleLinkage))
				for i, m := range res.SingleLinkage {
					gotH[i] = m.Distance
				}
				for i := range wantH {
					assert.InDelta(t, wantH[i], gotH[i], 1e-12, "merge height %d", i)
				}
				assert.Equal(t, want.NClusters, res.NumClusters)
				assert.Equal(t, want.NNoise, res.NumNoise())
				return
			}
			require.Len(t, res.SingleLinkage, len(want.SingleLinkageTree))
			for i, row := range want.SingleLinkageTree {
				m := res.SingleLinkage[i]
				if !assert.Equal(t, []float64{float64(row[0]), float64(row[1]), float64(row[2]), float64(row[3])},
					[]float64{float64(m.Left), float64(m.Right), m.Distance, float64(m.Size)}, "slt row %d", i) {
					break
				}
			}
			ct := want.CondensedTree
			require.Len(t, res.Condensed, len(ct.Parent))
			for i := range ct.Parent {
				r := res.Condensed[i]
				if !assert.True(t, r.Parent == ct.Parent[i] && r.Child == ct.Child[i] && r.Size == ct.ChildSize[i] &&
					sameFloat(r.Lambda, float64(ct.LambdaVal[i])), "condensed row %d: got %+v want %d %d %v %d",
					i, r, ct.Parent[i], ct.Child[i], ct.LambdaVal[i], ct.ChildSize[i]) {
					break
				}
			}
			assert.Equal(t, want.Labels, res.Labels)
			assert.Equal(t, want.NClusters, res.NumClusters)
			assert.Equal(t, want.NNoise, res.NumNoise())
			checkFloats(t, "probability", want.Probabilities, res.Probabilities)
			checkFloats(t, "outlier score", want.OutlierScores, res.OutlierScores)
			checkFloats(t, "persistence", want.ClusterPersistence, res.Persistence)
		})
	}
}

func checkFloats(t *testing.T, what string, want []num, got []float64) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if !assert.True(t, closeFloat(float64(want[i]), got[i], 1e-12), "%s %d: got %v want %v", what, i, got[i], want[i]) {
			return
		}
	}
}

func sortedHeights(slt [][]num) []float64 {
	h := make([]float64, len(slt))
	for i, r := range slt {
		h[i] = float64(r[2])
	}
	return h
}

// checkPartition asserts that two labelings are equal up to renaming the clusters.
func checkPartition(t *testing.T, want, got []int) {
	t.Helper()
	require.Len(t, got, len(want))
	fw, bw := map[int]int{}, map[int]int{}
	for i := range want {
		if (want[i] < 0) != (got[i] < 0) {
			assert.Failf(t, "partition differs", "point %d: want %d got %d", i, want[i], got[i])
			return
		}
		if want[i] < 0 {
			continue
		}
		if g, ok := fw[want[i]]; ok && g != got[i] {
			assert.Failf(t, "partition differs", "point %d", i)
			return
		}
		if w, ok := bw[got[i]]; ok && w != want[i] {
			assert.Failf(t, "partition differs", "point %d", i)
			return
		}
		fw[want[i]], bw[got[i]] = got[i], want[i]
	}
}

// TestGoldenReferenceOrder takes the reference's own (unstable, numpy 1.24 introsort) order
// of the MST edges from each file and checks that the rest of the pipeline then gives the
// reference's outputs exactly: single-linkage and condensed trees, labels, and the scores.
func TestGoldenReferenceOrder(t *testing.T) {
	for name, c := range loadCases(t) {
		if c.Intermediates.Algorithm != "prims_kdtree" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			o := c.options(Exact)
			o.ReferenceTieOrder = true
			res, err := fitRows(context.Background(), c.X, o)
			require.NoError(t, err)
			p, err := o.resolve(len(c.X))
			require.NoError(t, err)
			mst := res.MST
			require.Len(t, c.Intermediates.MSTArgsort, len(mst))
			sorted := make([]Edge, len(mst))
			for i, j := range c.Intermediates.MSTArgsort {
				sorted[i] = mst[j]
			}
			n := len(c.X)
			slt := singleLinkage(sorted, n)
			rows := condense(slt, n, p.MinClusterSize)
			tr := newTreeInfo(rows, n)
			selected, stab := tr.selection(p.Selection, p.AllowSingleCluster, p.Epsilon)
			labels, _ := tr.labels(selected, p.AllowSingleCluster, p.Epsilon)
			want := &c.Outputs
			for i, row := range want.SingleLinkageTree {
				m := slt[i]
				if !assert.Equal(t, []float64{float64(row[0]), float64(row[1]), float64(row[2]), float64(row[3])},
					[]float64{float64(m.Left), float64(m.Right), m.Distance, float64(m.Size)}, "slt row %d", i) {
					break
				}
			}
			require.Len(t, rows, len(want.CondensedTree.Parent))
			for i := range rows {
				ct := want.CondensedTree
				r := rows[i]
				if !assert.True(t, r.Parent == ct.Parent[i] && r.Child == ct.Child[i] && r.Size == ct.ChildSize[i] &&
					sameFloat(r.Lambda, float64(ct.LambdaVal[i])), "condensed row %d", i) {
					break
				}
			}
			assert.Equal(t, want.Labels, labels)
			// Fit with the reference's tie order (its own port of numpy's sort) agrees
			assert.Equal(t, want.Labels, res.Labels)
			assert.Equal(t, slt, res.SingleLinkage)
			assert.Equal(t, rows, res.Condensed)
			checkFloats(t, "probability", want.Probabilities, tr.probabilities(labels, selected))
			checkFloats(t, "outlier score", want.OutlierScores, tr.outlierScores())
			checkFloats(t, "persistence", want.ClusterPersistence, tr.persistence(labels, selected, stab))
		})
	}
}
