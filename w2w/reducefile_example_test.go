package w2w_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/imagegem/imagegem-go/w2w"
)

func ExampleReduceFile() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	// Reading and reducing overlap; the result is that of LoadLoRA followed by Reduce.
	red, err := w2w.ReduceFile(context.Background(), exampleLoRA(dir, "a.safetensors", 0), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range red.Modules {
		fmt.Printf("%s σ=%.3f discarded=%.4f\n", m.Kind, m.Sigma, m.Discarded())
	}
	// Output:
	// attn_v σ=2.000 discarded=0.0588
	// ff σ=1.732 discarded=0.2500
}
