package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "safetensors-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	up, _ := safetensors.FloatTensor("m.lora_up.weight", safetensors.F32, []int{3, 2}, make([]float32, 6))
	down, _ := safetensors.FloatTensor("m.lora_down.weight", safetensors.F16, []int{2, 4}, make([]float32, 8))
	path := filepath.Join(dir, "a.safetensors")
	if err := safetensors.WriteFile(path, []safetensors.Tensor{up, down}, nil); err != nil {
		log.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Info("m.lora_up.weight")
	raw, _ := f.Raw(info.Name)
	fmt.Println(len(f.Tensors), info.DType, info.Shape, len(raw), f.FileOffset(info) > 8)
	// Output: 2 F32 [3 2] 24 true
}

func ExampleEncode() {
	t, _ := safetensors.FloatTensor("x", safetensors.BF16, []int{2}, []float32{1, -1})
	b, err := safetensors.Encode([]safetensors.Tensor{t}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(b)%8, string(b[8:9]))
	// Output: 4 {
}

func ExampleFloatTensor() {
	t, err := safetensors.FloatTensor("w", safetensors.F16, []int{1, 2}, []float32{0.5, 2})
	fmt.Println(t.Name, t.DType, t.Shape, t.Data, err)
	_, err = safetensors.FloatTensor("w", safetensors.F16, []int{3}, []float32{1})
	fmt.Println(err)
	// Output:
	// w F16 [1 2] [0 56 0 64] <nil>
	// safetensors: tensor "w": shape mismatch: shape [3] holds 3 values, got 1
}

func ExampleEncodeFloat32() {
	b, err := safetensors.EncodeFloat32(safetensors.F32, []float32{1})
	fmt.Println(b, err)
	_, err = safetensors.EncodeFloat32(safetensors.F8E4M3, []float32{1})
	fmt.Println(err != nil)
	// Output:
	// [0 0 128 63] <nil>
	// true
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "safetensors-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	t, _ := safetensors.FloatTensor("weight", safetensors.F16, []int{2, 2}, []float32{1, 2, 3, 4})
	path := filepath.Join(dir, "x.safetensors")
	if err := safetensors.WriteFile(path, []safetensors.Tensor{t}, map[string]string{"k": "v"}); err != nil {
		log.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	v, _ := f.Float32("weight")
	fmt.Println(f.Tensors[0].DType, f.Tensors[0].Shape, v, f.Metadata["k"])
	// Output: F16 [2 2] [1 2 3 4] v
}

func ExampleParse() {
	b, _ := safetensors.Encode([]safetensors.Tensor{{Name: "a", DType: safetensors.F32, Shape: []int{1}, Data: []byte{0, 0, 128, 63}}}, nil)
	f, err := safetensors.Parse(b)
	if err != nil {
		log.Fatal(err)
	}
	v, _ := f.Float32("a")
	fmt.Println(v)
	_, err = safetensors.Parse(b[:len(b)-1])
	fmt.Println(err)
	// Output:
	// [1]
	// safetensors: <memory>: tensor "a" at offset 0: data [0,4) runs past the 3-byte data buffer: truncated file
}

func ExampleDecodeFloat32() {
	out := make([]float32, 2)
	// bfloat16 1.0 and -3.0, little-endian.
	if err := safetensors.DecodeFloat32(safetensors.BF16, []byte{0x80, 0x3f, 0x40, 0xc0}, out); err != nil {
		log.Fatal(err)
	}
	b, _ := safetensors.EncodeFloat32(safetensors.F16, out)
	fmt.Println(out, b)
	// Output: [1 -3] [0 60 0 194]
}
