package w2w_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/w2w"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

func ExampleParseLoRAFile() {
	t1, _ := safetensors.FloatTensor("unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora_A.weight", safetensors.F32, []int{1, 768}, make([]float32, 768))
	t2, _ := safetensors.FloatTensor("unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora_B.weight", safetensors.F32, []int{1280, 1}, make([]float32, 1280))
	b, _ := safetensors.Encode([]safetensors.Tensor{t1, t2}, nil)
	f, _ := safetensors.Parse(b)
	l, err := w2w.ParseLoRAFile(f)
	if err != nil {
		log.Fatal(err)
	}
	m := l.Modules[0]
	fmt.Println(l.Convention, m.Name, m.Kind, m.Attn, l.Family)
	// Output: peft lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v attn_v 2 sd1
}

func ExampleRank1Metadata() {
	meta := w2w.Rank1Metadata(w2w.SDXL)
	fmt.Println(meta["ss_network_dim"], meta["ss_network_alpha"], meta["ss_base_model_version"], meta["modelspec.architecture"])
	// Output: 1 1 sdxl_base_v1-0 stable-diffusion-xl-v1-base/lora
}

func ExampleRank1Tensors() {
	r := &w2w.Reduced{Family: w2w.SD1, Convention: w2w.Kohya, Modules: []w2w.Rank1Module{
		{Name: "lora_unet_a_attn1_to_v", Out: 2, In: 3, Sigma: 4, U: []float32{1, 0}, V: []float32{0, 1, 0}},
	}}
	ts, _ := w2w.Rank1Tensors(r, safetensors.F32)
	for _, t := range ts {
		fmt.Println(t.Name, t.Shape)
	}
	up, down := r.Modules[0].Factors()
	fmt.Println(up, down)
	// Output:
	// lora_unet_a_attn1_to_v.lora_up.weight [2 1]
	// lora_unet_a_attn1_to_v.lora_down.weight [1 3]
	// lora_unet_a_attn1_to_v.alpha []
	// [2 0] [0 2 0]
}

func ExampleReadDirection() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	lay := &w2w.Layout{Family: w2w.SD1, Modules: []w2w.LayoutModule{{Name: "lora_unet_a_ff_net_2", Out: 1, In: 2, Rank: 1}}}
	lay.Dim = 3
	p := filepath.Join(dir, "d.safetensors")
	_ = w2w.WriteDirection(p, &w2w.DirectionFile{Layout: lay, Vector: []float32{1, 0, 0}, Metadata: map[string]string{"w2w.classifier": "svm"}})
	got, err := w2w.ReadDirection(p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Layout.Family, got.Layout.Dim, got.Vector, got.Metadata["w2w.classifier"])
	// Output: sd1 3 [1 0 0] svm
}

func ExampleCPU_TopTriplets() {
	// ΔW = 2·[1 0]ᵀ·[0 1 0]: σ = 2, u = e₁, v = e₂.
	in := []w2w.ScaledFactor{{Factor: w2w.Factor{Rows: 2, Cols: 3, Rank: 1, A: []float32{1, 0}, B: []float32{0, 1, 0}}, Scale: 2}}
	out := make([]w2w.Triplet, 1)
	if err := (w2w.CPU{}).TopTriplets(context.Background(), in, out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Sigma, out[0].Energy, out[0].U, out[0].V)
	// Output: 2 4 [1 0] [0 1 0]
}

func ExampleSpace_Directions() {
	lay := &w2w.Layout{Family: w2w.SD1, Modules: []w2w.LayoutModule{{Name: "lora_unet_x", Out: 1, In: 1, Rank: 1}}}
	lay.Dim = 2
	x := []float32{1, 0, 2, 0.1, -1, 0, -2, -0.1}
	sp, _ := w2w.BuildSpace(context.Background(), lay, x, 4, &w2w.SpaceOptions{Components: 1})
	coef, _ := sp.Project(context.Background(), x, 4, nil)
	ds, err := sp.Directions(context.Background(), coef, 4, [][]int{{1, 1, -1, -1}, {-1, -1, 1, 1}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.0f %.0f\n", ds[0].Vector[0]*ds[1].Vector[0]+ds[0].Vector[1]*ds[1].Vector[1], ds[0].Accuracy)
	// Output: -1 1
}

func ExampleLayout_Unflatten() {
	lay := &w2w.Layout{Family: w2w.SD1, Modules: []w2w.LayoutModule{{Name: "lora_unet_x", Out: 2, In: 1, Rank: 1}}}
	lay.Dim = 3
	r, err := lay.Unflatten([]float32{3, 4, 2}, nil)
	if err != nil {
		log.Fatal(err)
	}
	m := r.Modules[0]
	fmt.Println(m.Sigma, m.U, m.V)
	// Output: 10 [0.6 0.8] [1]
}

func ExampleFlattenAll() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	var reds []*w2w.Reduced
	for i, shift := range []float32{1, -1} {
		l, _ := w2w.LoadLoRA(exampleLoRA(dir, fmt.Sprintf("%d.safetensors", i), shift))
		r, _ := w2w.Reduce(ctx, l, nil)
		reds = append(reds, r)
	}
	lay, _ := w2w.NewLayout(ctx, reds, nil)
	x, masks, err := w2w.FlattenAll(ctx, lay, reds, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(x), lay.Dim, masks)
	// Output: 24 12 [[true true] [true true]]
}
