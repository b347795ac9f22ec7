package synth_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
)

func ExampleGenerate() {
	parent, _ := os.MkdirTemp("", "synth-")
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "release")
	truth, err := synth.Generate(context.Background(), dir, &synth.Options{Seed: 42, Images: 1000})
	if err != nil {
		fmt.Println(err)
		return
	}
	rel, err := imagegem.Open(context.Background(), dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rel.Close()
	s, err := rel.Stats(context.Background())
	fmt.Println(s.Images, s.Users == int64(len(truth.Users)), s.TopUploader == truth.TopUploader, err)
	// Output: 1000 true true <nil>
}
