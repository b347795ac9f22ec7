package imagegem_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/meta"
)

func ExampleIngestFolder() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "folder-example-")
	defer os.RemoveAll(tmp)
	in := filepath.Join(tmp, "outputs")
	_ = os.Mkdir(in, 0o755)
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
	file, _ := meta.AddPNGText(b.Bytes(), meta.ChunkIText, "parameters",
		"a fox, <lora:foxStyle:0.8>\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512")
	_ = os.WriteFile(filepath.Join(in, "00001-42.png"), file, 0o644)

	out := filepath.Join(tmp, "release")
	rep, err := imagegem.IngestFolder(ctx, in, out, &imagegem.FolderOptions{User: "me"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Images, "image,", rep.Versions, "version, unresolved:", rep.UnresolvedNames)
	rel, _ := imagegem.Open(ctx, out, nil)
	defer rel.Close()
	st, _ := rel.Stats(ctx)
	fmt.Println(st.Images, st.LoRAs, st.Users)
	rep, _ = imagegem.IngestFolder(ctx, in, out, &imagegem.FolderOptions{User: "me"})
	fmt.Println("second run: added", rep.Added, "written", rep.Written)
	// Output:
	// 1 image, 1 version, unresolved: [foxStyle]
	// 1 1 1
	// second run: added 0 written false
}
