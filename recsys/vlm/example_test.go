package vlm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/imagegem/imagegem-go/recsys/vlm"
)

func ExampleParseScores() {
	reply := "Here are my scores:\n```json\n[{'id': 'Image 1', 'score': '85/100', 'explanation': 'same subject'}, {\"id\": 2, \"score\": 130},]\n```"
	r := vlm.ParseScores(reply, []string{"1", "2", "3"}, false)
	for _, s := range r.Scores {
		fmt.Printf("%s: %g clamped=%v %q\n", s.ID, s.Score, s.Clamped, s.Explanation)
	}
	fmt.Println("missing:", r.Missing)
	// Output:
	// 1: 85 clamped=false "same subject"
	// 2: 100 clamped=true ""
	// missing: [3]
}

func ExampleRow() {
	// 1-based ranks of each user's held-out item among the ten candidates.
	r, _ := vlm.Row("ItemKNN", []int{1, 3, 8, 2})
	fmt.Print(vlm.FormatTable([]vlm.RankRow{r}))
	// Output:
	// method   users   avg rank ± std   Rec@5  NDCG@5
	// ItemKNN      4     3.50 ±  2.69   0.750   0.533
}

func ExampleClient_ScoreCandidates() {
	// A stand-in for vLLM that gives every candidate 70.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id": "1", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
			"message": {"role": "assistant", "content": "{\"scores\": [{\"id\": \"1\", \"score\": 70, \"explanation\": \"ok\"}, {\"id\": \"2\", \"score\": 70, \"explanation\": \"ok\"}]}"}}]}`)
	}))
	defer srv.Close()
	c, err := vlm.New(&vlm.Options{BaseURL: srv.URL + "/v1", Model: "mistralai/Pixtral-12B-2409", Server: vlm.ServerVLLM, MaxImages: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	cands := []vlm.Candidate{
		{ID: "a", Image: vlm.ImageURL("https://example.test/a.jpeg")},
		{ID: "b", Image: vlm.ImageURL("https://example.test/b.jpeg")},
		{ID: "c", Image: vlm.ImageURL("https://example.test/c.jpeg")},
	}
	scores, err := c.ScoreCandidates(context.Background(), vlm.Profile{Summary: "anime portraits"}, cands, &vlm.ScoreOptions{Trials: 3, K: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range scores {
		fmt.Printf("%s: %g (%d of 3 trials drew it)\n", s.ID, s.Score, s.Seen)
	}
	fmt.Println("requests:", c.Stats().Requests)
	// Output:
	// a: 70 (3 of 3 trials drew it)
	// b: 70 (2 of 3 trials drew it)
	// c: 70 (1 of 3 trials drew it)
	// requests: 3
}
