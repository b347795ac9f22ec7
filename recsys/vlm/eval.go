package vlm

import (
	"fmt"
	"math"
	"strings"

	"github.com/imagegem/imagegem-go/recsys"
)

// TableCutoff is the cut-off of Table 7's Rec@5 and NDCG@5.
const TableCutoff = 5

// RankRow is one row of Table 7: how a method ranks each user's held-out item among the M
// candidates. MeanRank and StdRank are over 1-based ranks (population standard deviation);
// Recall and NDCG are at TableCutoff.
type RankRow struct {
	Method   string  `json:"method"`
	Users    int     `json:"users"`
	MeanRank float64 `json:"avg_rank"`
	StdRank  float64 `json:"std_rank"`
	Recall   float64 `json:"rec5"`
	NDCG     float64 `json:"ndcg5"`
}

// Row computes a Table 7 row from each user's 1-based rank of the held-out item. A rank
// below 1 is an error.
func Row(method string, ranks []int) (RankRow, error) {
	r := RankRow{Method: method, Users: len(ranks)}
	if len(ranks) == 0 {
		r.MeanRank, r.StdRank, r.Recall, r.NDCG = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return r, nil
	}
	xs := make([]float64, len(ranks))
	for i, k := range ranks {
		if k < 1 {
			return r, fmt.Errorf("vlm: Table 7 row %q: user %d: rank %d is below 1", method, i, k)
		}
		xs[i] = float64(k)
		rec, ndcg, _ := recsys.RankMetrics(k-1, TableCutoff)
		r.Recall += rec
		r.NDCG += ndcg
	}
	r.MeanRank, r.StdRank = meanStd(xs)
	r.Recall /= float64(len(ranks))
	r.NDCG /= float64(len(ranks))
	return r, nil
}

// RankOf returns the 1-based position of id in scores as ScoreCandidates orders them, or 0
// when it is absent.
func RankOf(scores []CandidateScore, id string) int {
	for i, s := range scores {
		if s.ID == id {
			return i + 1
		}
	}
	return 0
}

// FormatTable formats rows as Table 7 does: method, average rank ± std, Rec@5, NDCG@5.
func FormatTable(rows []RankRow) string {
	var b strings.Builder
	w := len("method")
	for _, r := range rows {
		w = max(w, len(r.Method))
	}
	fmt.Fprintf(&b, "%-*s  %5s  %15s  %6s  %6s\n", w, "method", "users", "avg rank ± std", "Rec@5", "NDCG@5")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %5d  %7.2f ± %5.2f  %6.3f  %6.3f\n", w, r.Method, r.Users, r.MeanRank, r.StdRank, r.Recall, r.NDCG)
	}
	return b.String()
}
