package recsys

import (
	"context"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// BenchmarkSASRecEpoch times one training epoch of SASRec with the paper's settings on the
// SASRec "Video" (Amazon Games) data.
func BenchmarkSASRecEpoch(b *testing.B) {
	in, err := LoadInteractionsFile(shareddata.Path(b, "recsys", "sasrec_Video.txt"), FormatSASRec)
	if err != nil {
		b.Fatal(err)
	}
	s, err := LeaveOneLast(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := must(NewSASRec(&SASRecOptions{Epochs: 1}))
		if err := m.Fit(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
}
