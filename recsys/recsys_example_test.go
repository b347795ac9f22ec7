package recsys_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

func ExampleReadInteractions() {
	src := "1 10\n1 11\n1 12\n2 11\n2 12\n2 13\n"
	in, err := recsys.ReadInteractions(strings.NewReader(src), "games.txt", recsys.FormatSASRec)
	if err != nil {
		panic(err)
	}
	fmt.Println(in.NumUsers(), "users,", in.NumItems(), "items,", in.NumInteractions(), "events")
	fmt.Println("user", in.Users.ID(1), "saw items", in.Seqs[1], "=", in.Items.ID(3))
	// Output:
	// 2 users, 4 items, 6 events
	// user 2 saw items [1 2 3] = 13
}

func ExampleLoadInteractionsFile() {
	dir, _ := os.MkdirTemp("", "recsys")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "toy.inter")
	_ = os.WriteFile(path, []byte("user_id:token\titem_id:token\ttimestamp:float\nu\tb\t2\nu\ta\t1\n"), 0o644)
	in, err := recsys.LoadInteractionsFile(path, recsys.FormatRecBole)
	if err != nil {
		panic(err)
	}
	fmt.Println(in.Items.ID(in.Seqs[0][0]), in.Items.ID(in.Seqs[0][1]))
	// Output: a b
}

func ExampleNewInteractions() {
	in, _ := recsys.NewInteractions([][]int32{{0, 1, 2}, {2, 0}}, 3)
	c := recsys.NewCSR(in.Seqs, in.NumItems())
	items, counts := c.Row(1)
	fmt.Println(items, counts)
	// Output: [0 2] [1 1]
}

func ExampleNewIDMap() {
	m := recsys.NewIDMap()
	fmt.Println(m.Add("lora-7"), m.Add("lora-3"), m.Add("lora-7"), m.Len())
	// Output: 0 1 0 2
}

func ExampleLeaveOneLast() {
	in, _ := recsys.NewInteractions([][]int32{{0, 1, 2, 3}, {1, 2}}, 4)
	s, _ := recsys.LeaveOneLast(in)
	fmt.Println(s.Train[0], s.Valid[0], s.Test[0], s.History(0, recsys.StageTest))
	fmt.Println(s.Train[1], s.Valid[1], s.Test[1])
	// Output:
	// [0 1] 2 3 [0 1 2]
	// [1 2] -1 -1
}

func ExampleRankMetrics() {
	recall, ndcg, mrr := recsys.RankMetrics(1, 10) // second place
	fmt.Printf("%.0f %.4f %.2f\n", recall, ndcg, mrr)
	// Output: 1 0.6309 0.50
}

func ExampleEvaluate() {
	_, s, _ := recsystest.PlantedSplit(1)
	m, err := recsys.NewItemKNN(nil) // nil: RecBole's defaults
	if err != nil {
		panic(err)
	}
	_ = m.Fit(context.Background(), s)
	met, _ := recsys.Evaluate(context.Background(), m, s, &recsys.EvalOptions{Ks: []int{10}})
	fmt.Printf("%d users, Recall@10 %.2f\n", met.Users, met.Recall[10])
	// Output: 240 users, Recall@10 1.00
}

// coldTop fits m on the planted data and prints the best new item for a cold user who
// walked items 31, 32, 33 (cluster 3 holds items 30-39).
func coldTop(m recsys.Model, err error) {
	if err != nil {
		panic(err)
	}
	_, s, _ := recsystest.PlantedSplit(1)
	if err := m.Fit(context.Background(), s); err != nil {
		panic(err)
	}
	scores := make([]float32, s.NumItems)
	if err := m.Score(-1, []int32{31, 32, 33}, scores); err != nil {
		panic(err)
	}
	best := -1
	for i, v := range scores {
		if i >= 31 && i <= 33 {
			continue
		}
		if best < 0 || v > scores[best] {
			best = i
		}
	}
	fmt.Println(m.Name(), "recommends an item of cluster", best/recsystest.ClusterSize)
}

func ExampleNewItemKNN() {
	coldTop(recsys.NewItemKNN(nil))
	// Output: itemknn recommends an item of cluster 3
}

func ExampleNewUserKNN() {
	coldTop(recsys.NewUserKNN(nil))
	// Output: userknn recommends an item of cluster 3
}

func ExampleNewItem2Vec() {
	coldTop(recsys.NewItem2Vec(&recsys.Item2VecOptions{Dim: 16, Epochs: 20, Seed: 1}))
	// Output: item2vec recommends an item of cluster 3
}

func ExampleNewTwoTower() {
	coldTop(recsys.NewTwoTower(&recsys.TwoTowerOptions{Dim: 16, Epochs: 30, BatchSize: 64, LR: 0.02, Seed: 1}))
	// Output: twotower recommends an item of cluster 3
}

func ExampleNewSASRec() {
	coldTop(recsys.NewSASRec(&recsys.SASRecOptions{Hidden: 16, MaxLen: 10, Epochs: 60, BatchSize: 64, Dropout: 0.2, LR: 0.005, Seed: 1}))
	// Output: sasrec recommends an item of cluster 3
}

func ExampleTopKInnerProduct() {
	items := []float32{1, 0, 0, 1, 0.6, 0.8}
	hits, _ := recsys.TopKInnerProduct(context.Background(), []float32{0.6, 0.8}, items, 2, 2, 0)
	fmt.Println(hits[0][0].Item, hits[0][1].Item)
	// Output: 2 1
}

func ExampleNewHNSW() {
	items := []float32{1, 0, 0, 1, 0.6, 0.8, -1, 0}
	idx, _ := recsys.NewHNSW(context.Background(), items, 2, nil)
	hits, _ := idx.Search([]float32{0.6, 0.8}, 1, 0)
	fmt.Println(idx.Len(), hits[0].Item)
	// Output: 4 2
}

func ExampleHNSW_Search() {
	// Four points on a line, searched by Euclidean distance with two insertion workers.
	items := []float32{0, 0, 1, 0, 2, 0, 10, 0}
	idx, _ := recsys.NewHNSW(context.Background(), items, 2, &recsys.HNSWOptions{Metric: recsys.MetricL2, Workers: 2})
	hits, _ := idx.Search([]float32{1.9, 0}, 2, 0)
	for _, h := range hits {
		fmt.Printf("item %d, score %.2f\n", h.Item, h.Score) // score: minus the squared distance
	}
	fmt.Println(idx.Dim(), recsys.MetricL2)
	// Output:
	// item 2, score -0.01
	// item 1, score -0.81
	// 2 l2
}

func ExampleSaveModelFile() {
	_, s, _ := recsystest.PlantedSplit(1)
	m, _ := recsys.NewItemKNN(nil)
	_ = m.Fit(context.Background(), s)
	dir, _ := os.MkdirTemp("", "recsys")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "itemknn.model")
	if err := recsys.SaveModelFile(context.Background(), path, m); err != nil {
		panic(err)
	}
	back, err := recsys.LoadModelFile(path)
	fmt.Println(back.Name(), err)
	// Output: itemknn <nil>
}

func ExampleNewCSR() {
	c := recsys.NewCSR([][]int32{{2, 0, 2}, {1}}, 3)
	items, counts := c.Row(0)
	t := c.Transpose()
	users, _ := t.Row(2)
	fmt.Println(items, counts, users)
	// Output: [0 2] [1 2] [0]
}

func ExampleReadModel() {
	_, s, _ := recsystest.PlantedSplit(1)
	m, _ := recsys.NewUserKNN(&recsys.KNNOptions{K: 10})
	_ = m.Fit(context.Background(), s)
	var buf strings.Builder
	_ = recsys.WriteModel(&buf, m)
	back, err := recsys.ReadModel(strings.NewReader(buf.String()))
	fmt.Println(back.Name(), back.Sequential(), err)
	// Output: userknn false <nil>
}

func ExampleSortedKs() {
	fmt.Println(recsys.SortedKs(map[int]float64{100: 0.3, 10: 0.1, 50: 0.2}))
	// Output: [10 50 100]
}
