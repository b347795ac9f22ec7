package w2w_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/w2w"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// exampleLoRA writes a small kohya LoRA with two modules of rank 2 and returns its path.
func exampleLoRA(dir, name string, shift float32) string {
	mk := func(name string, shape []int, v []float32) safetensors.Tensor {
		t, err := safetensors.FloatTensor(name, safetensors.F32, shape, v)
		if err != nil {
			log.Fatal(err)
		}
		return t
	}
	const q = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v"
	const f = "lora_unet_mid_block_attentions_0_transformer_blocks_0_ff_net_2"
	ts := []safetensors.Tensor{
		mk(q+".lora_down.weight", []int{2, 3}, []float32{1, 0, 0, 0, 0.5, 0}),
		mk(q+".lora_up.weight", []int{4, 2}, []float32{2, 0, 0, 1, 0, 0, shift, 0}),
		mk(q+".alpha", nil, []float32{2}),
		mk(f+".lora_down.weight", []int{2, 2}, []float32{1, shift, 0, 1}),
		mk(f+".lora_up.weight", []int{3, 2}, []float32{1, 0, 0, 1, 1, 1}),
		mk(f+".alpha", nil, []float32{2}),
	}
	p := filepath.Join(dir, name)
	if err := safetensors.WriteFile(p, ts, map[string]string{"ss_base_model_version": "sd_v1"}); err != nil {
		log.Fatal(err)
	}
	return p
}

func tempDir() string {
	d, err := os.MkdirTemp("", "w2w-example-")
	if err != nil {
		log.Fatal(err)
	}
	return d
}

func ExampleLoadLoRA() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	l, err := w2w.LoadLoRA(exampleLoRA(dir, "a.safetensors", 1))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range l.Modules {
		fmt.Println(m.Name, m.Kind, m.Out, m.In, m.Rank, m.Scale())
	}
	fmt.Println(l.Family, l.Convention)
	// Output:
	// lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v attn_v 4 3 2 1
	// lora_unet_mid_block_attentions_0_transformer_blocks_0_ff_net_2 ff 3 2 2 1
	// sd1 kohya
}

func ExampleReduce() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	l, _ := w2w.LoadLoRA(exampleLoRA(dir, "a.safetensors", 0))
	red, err := w2w.Reduce(context.Background(), l, nil)
	if err != nil {
		log.Fatal(err)
	}
	m := red.Modules[0]
	// ΔW = up·down = diag-like with singular values 2 and 0.5: rank 1 keeps σ = 2.
	fmt.Printf("σ=%.3f discarded=%.4f u=%v v=%v\n", m.Sigma, m.Discarded(), m.U, m.V)
	// Output: σ=2.000 discarded=0.0588 u=[1 0 0 0] v=[1 0 0]
}

func ExampleNewLayout() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	var reds []*w2w.Reduced
	for i, shift := range []float32{1, -1, 0.5} {
		l, _ := w2w.LoadLoRA(exampleLoRA(dir, fmt.Sprintf("%d.safetensors", i), shift))
		r, _ := w2w.Reduce(ctx, l, nil)
		reds = append(reds, r)
	}
	lay, err := w2w.NewLayout(ctx, reds, &w2w.LayoutOptions{Selection: w2w.SelectFF})
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, lay.Dim)
	mask, _ := lay.Flatten(reds[0], x)
	fmt.Println(len(lay.Modules), lay.Dim, mask)
	// Output: 1 5 [true]
}

func ExampleNewFixedRankLayout() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	l, _ := w2w.LoadLoRA(exampleLoRA(dir, "a.safetensors", 1))
	lay, keep, err := w2w.NewFixedRankLayout([]*w2w.LoRA{l}, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lay.Dim, keep)
	// Output: 24 [0]
}

// ExampleBuildSpace builds a space, learns a direction and edits a LoRA along it.
func ExampleBuildSpace() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	shifts := []float32{1.0, 0.9, 1.1, -1.0, -0.9, -1.1}
	labels := []int{1, 1, 1, -1, -1, -1}
	var reds []*w2w.Reduced
	for i, s := range shifts {
		l, _ := w2w.LoadLoRA(exampleLoRA(dir, fmt.Sprintf("%d.safetensors", i), s))
		r, _ := w2w.Reduce(ctx, l, nil)
		reds = append(reds, r)
	}
	lay, _ := w2w.NewLayout(ctx, reds, nil)
	n := len(reds)
	x := make([]float32, n*lay.Dim)
	for i, r := range reds {
		lay.Flatten(r, x[i*lay.Dim:(i+1)*lay.Dim])
	}
	sp, err := w2w.BuildSpace(ctx, lay, x, n, &w2w.SpaceOptions{Components: 2})
	if err != nil {
		log.Fatal(err)
	}
	coef, _ := sp.Project(ctx, x, n, nil)
	d, _ := sp.Direction(ctx, coef, n, labels, &w2w.DirectionOptions{Classifier: w2w.SVM})
	fmt.Println(sp.M(), sp.Method, d.Accuracy)

	// Moving a not-preferred LoRA along +v raises its classifier score.
	score := func(r *w2w.Reduced) float64 {
		v := make([]float32, lay.Dim)
		lay.Flatten(r, v)
		c, _ := sp.Project(ctx, v, 1, nil)
		s := 0.0
		for k := range c {
			s += c[k] * d.Coef[k]
		}
		return s
	}
	ed, _ := sp.Edit(ctx, reds[3], d.Vector, 1, nil)
	fmt.Println(score(ed) > score(reds[3]))
	// Output:
	// 2 gram 1
	// true
}

func ExampleLoadSpace() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	lay := &w2w.Layout{Family: w2w.SD1, Modules: []w2w.LayoutModule{{Name: "lora_unet_x", Out: 2, In: 1, Rank: 1}}}
	x := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	lay.Dim = 3
	sp, _ := w2w.BuildSpace(context.Background(), lay, x, 3, nil)
	path := filepath.Join(dir, "space.safetensors")
	if err := sp.Save(path); err != nil {
		log.Fatal(err)
	}
	got, err := w2w.LoadSpace(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.M(), got.Dim(), got.N)
	// Output: 2 3 3
}

func ExampleTrainDirection() {
	// Two coefficients per LoRA; only the first separates the classes.
	coef := []float64{-2, 0.3, -2, -0.3, 2, 0.3, 2, -0.3}
	w, acc, err := w2w.TrainDirection(coef, 4, 2, []int{-1, -1, 1, 1}, &w2w.DirectionOptions{Classifier: w2w.PseudoInverse})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.2f %.2f %v\n", w[0], math.Abs(w[1]), acc)
	// Output: 1.00 0.00 1
}

func ExampleDebias() {
	v, _ := w2w.Debias([]float32{3, 4}, []float32{1, 0})
	fmt.Println(v)
	// Output: [0 1]
}

func ExampleWriteRank1LoRA() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	l, _ := w2w.LoadLoRA(exampleLoRA(dir, "a.safetensors", 1))
	red, _ := w2w.Reduce(context.Background(), l, nil)
	out := filepath.Join(dir, "rank1.safetensors")
	if err := w2w.WriteRank1LoRA(out, red, &w2w.WriteOptions{DType: safetensors.F16}); err != nil {
		log.Fatal(err)
	}
	back, _ := w2w.LoadLoRA(out)
	fmt.Println(len(back.Modules), back.Modules[0].Rank, back.Metadata["ss_network_dim"], back.Metadata["modelspec.architecture"])
	fmt.Println(w2w.WriteRank1LoRA(l.Path, red, nil) != nil)
	// Output:
	// 2 1 1 stable-diffusion-v1/lora
	// true
}

func ExampleEditVector() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, _ := w2w.LoadLoRA(exampleLoRA(dir, "a.safetensors", 1))
	red, _ := w2w.Reduce(ctx, l, nil)
	lay, _ := w2w.NewLayout(ctx, []*w2w.Reduced{red}, nil)
	v := make([]float32, lay.Dim) // a zero direction leaves the LoRA as it is
	ed, err := w2w.EditVector(red, lay, v, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f %.4f\n", red.Modules[0].Sigma, ed.Modules[0].Sigma)
	// Output: 2.2361 2.2361
}

func ExampleWriteDirection() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	lay := &w2w.Layout{Family: w2w.SD1, Modules: []w2w.LayoutModule{{Name: "lora_unet_a_attn1_to_v", Out: 2, In: 1, Rank: 1}}}
	lay.Dim = 3
	path := filepath.Join(dir, "direction.safetensors")
	if err := w2w.WriteDirection(path, &w2w.DirectionFile{Layout: lay, Vector: []float32{0.6, 0, 0.8}}); err != nil {
		log.Fatal(err)
	}
	got, err := w2w.ReadDirection(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Layout.Modules[0].Name, got.Vector)
	// Output: lora_unet_a_attn1_to_v [0.6 0 0.8]
}

func ExampleAnimeRealisticLabel() {
	label, reason, _ := w2w.AnimeRealisticLabel([]w2w.ImageScores{
		{Person: 0.25, Realistic: 0.28, Anime: 0.18},
		{Person: 0.10, Realistic: 0.15, Anime: 0.30}, // no person: set aside
	}, nil)
	fmt.Println(label, reason)
	// Output: 1 realistic 0.280 ≥ 0.26 over 1 images
}

func ExampleSetDefaultBackend() {
	w2w.SetDefaultBackend(w2w.CPU{Workers: 1})
	fmt.Println(w2w.DefaultBackend().Name())
	w2w.SetDefaultBackend(nil) // back to the CPU default
	fmt.Println(w2w.DefaultBackend().Name())
	// Output:
	// cpu
	// cpu
}
