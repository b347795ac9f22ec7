// Package recsystest is the conformance suite every recommender of package recsys passes, in
// the spirit of testing/slogtest: a new model (or a user's own implementation of
// recsys.Model) calls Run from its tests.
//
// Run fits the model on a small planted data set (users walk through one taste cluster of
// items in a fixed cyclic order), and checks that it ranks held-out items far above chance
// under both protocols, that two fits with the same seed score identically, that cold users
// (index -1) are scored from their history, and that bad input gives errors, not panics.
package recsystest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/imagegem/imagegem-go/recsys"
)

// Planted data shape: Clusters taste clusters of ClusterSize items, Users users.
const (
	Clusters    = 8
	ClusterSize = 10
	Users       = 240
)

// MinRecall10 is the Recall@10 under full ranking that every model must reach on the planted
// data; chance is about 10/80.
const MinRecall10 = 0.5

// PlantedSplit returns the planted data set and its leave-one-last split. User u likes
// cluster u mod Clusters and walks its items in cyclic order from a random start, for 6 to
// 10 steps.
func PlantedSplit(seed uint64) (*recsys.Interactions, *recsys.Split, error) {
	rng := rand.New(rand.NewPCG(seed, 99))
	seqs := make([][]int32, Users)
	for u := range seqs {
		c := u % Clusters
		start := rng.IntN(ClusterSize)
		n := 6 + rng.IntN(5)
		for t := 0; t < n; t++ {
			seqs[u] = append(seqs[u], int32(c*ClusterSize+(start+t)%ClusterSize))
		}
	}
	in, err := recsys.NewInteractions(seqs, Clusters*ClusterSize)
	if err != nil {
		return nil, nil, err
	}
	s, err := recsys.LeaveOneLast(in)
	return in, s, err
}

// Run checks a model. newModel must return a fresh, unfitted model trained with the given
// seed.
func Run(t *testing.T, newModel func(seed uint64) recsys.Model) {
	t.Helper()
	ctx := context.Background()
	_, s, err := PlantedSplit(1)
	if err != nil {
		t.Fatalf("planted data: %v", err)
	}
	n := s.NumItems

	t.Run("ScoreBeforeFit", func(t *testing.T) {
		m := newModel(1)
		if err := callScore(m, 0, []int32{0}, make([]float32, n)); err == nil {
			t.Error("Score before Fit: want an error")
		}
	})
	t.Run("FitRejectsEmpty", func(t *testing.T) {
		if err := callFit(ctx, newModel(1), nil); err == nil {
			t.Error("Fit(nil): want an error")
		}
		if err := callFit(ctx, newModel(1), &recsys.Split{}); err == nil {
			t.Error("Fit(empty split): want an error")
		}
	})

	m := newModel(7)
	if err := m.Fit(ctx, s); err != nil {
		t.Fatalf("Fit: %v", err)
	}
	t.Run("RanksHeldOutItem", func(t *testing.T) {
		for _, p := range []recsys.Protocol{recsys.ProtocolFull, recsys.ProtocolSampled100} {
			met, err := recsys.Evaluate(ctx, m, s, &recsys.EvalOptions{Protocol: p, Ks: []int{10}})
			if err != nil {
				t.Fatalf("%s: Evaluate: %v", p, err)
			}
			if met.Recall[10] < MinRecall10 {
				t.Errorf("%s: Recall@10 = %.3f, want ≥ %.2f", p, met.Recall[10], MinRecall10)
			}
		}
	})
	t.Run("Deterministic", func(t *testing.T) {
		m2 := newModel(7)
		if err := m2.Fit(ctx, s); err != nil {
			t.Fatalf("second Fit: %v", err)
		}
		a, b := make([]float32, n), make([]float32, n)
		for _, u := range []int{0, 5, 17} {
			h := s.History(u, recsys.StageTest)
			if err := m.Score(u, h, a); err != nil {
				t.Fatal(err)
			}
			if err := m2.Score(u, h, b); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("user %d item %d: %v then %v with the same seed", u, i, a[i], b[i])
				}
			}
		}
	})
	t.Run("ColdUser", func(t *testing.T) {
		// A new user who walked items 31, 32, 33 of cluster 3: the rest of cluster 3 should
		// lead the ranking.
		dst := make([]float32, n)
		hist := []int32{31, 32, 33}
		if err := m.Score(-1, hist, dst); err != nil {
			t.Fatalf("cold user: %v", err)
		}
		inCluster := 0
		top := topN(dst, hist, 5)
		for _, i := range top {
			if i/ClusterSize == 3 {
				inCluster++
			}
		}
		if inCluster < 2 || top[0]/ClusterSize != 3 {
			t.Errorf("cold user: top 5 %v, want the first and at least 2 in cluster 3 (items 30-39)", top)
		}
		for i, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("cold user: item %d scores %v", i, v)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		dst := make([]float32, n)
		if err := callScore(m, 0, nil, dst); !errors.Is(err, recsys.ErrNoHistory) {
			t.Errorf("empty history: got %v, want ErrNoHistory", err)
		}
		if err := callScore(m, 0, []int32{int32(n)}, dst); err == nil {
			t.Error("unknown item: want an error")
		}
		if err := callScore(m, 0, []int32{-3}, dst); err == nil {
			t.Error("negative item: want an error")
		}
		if err := callScore(m, 0, []int32{1}, dst[:n-1]); err == nil {
			t.Error("short score buffer: want an error")
		}
		if err := callScore(m, s.NumUsers()+5, []int32{1}, dst); err == nil {
			t.Error("unknown user index: want an error")
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := callFit(cctx, newModel(1), s); err == nil {
			t.Error("Fit with a cancelled context: want an error")
		}
	})
}

// callScore turns a panic into a test failure.
func callScore(m recsys.Model, u int, h []int32, dst []float32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic")
			panic(r)
		}
	}()
	return m.Score(u, h, dst)
}

func callFit(ctx context.Context, m recsys.Model, s *recsys.Split) error {
	return m.Fit(ctx, s)
}

// topN returns the n best-scored items outside exclude.
func topN(scores []float32, exclude []int32, n int) []int {
	ex := map[int]bool{}
	for _, e := range exclude {
		ex[int(e)] = true
	}
	var out []int
	for len(out) < n {
		best := -1
		for i, v := range scores {
			if ex[i] {
				continue
			}
			if best < 0 || v > scores[best] {
				best = i
			}
		}
		if best < 0 {
			break
		}
		ex[best] = true
		out = append(out, best)
	}
	return out
}
