package imagegem_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
)

// demoRelease writes a small seeded synthetic release and returns its folder.
func demoRelease() (string, func()) {
	dir, err := os.MkdirTemp("", "imagegem-example-")
	if err != nil {
		panic(err)
	}
	if _, err := synth.Generate(context.Background(), dir, &synth.Options{Seed: 42, Images: 1000}); err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

func ExampleOpen() {
	dir, cleanup := demoRelease()
	defer cleanup()
	ctx := context.Background()
	rel, err := imagegem.Open(ctx, dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rel.Close()
	s, err := rel.Stats(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("images:", s.Images, "LoRAs:", s.LoRAs, "users:", s.Users, "uploaders:", s.Uploaders)
	// Output: images: 1000 LoRAs: 50 users: 10 uploaders: 3
}

func ExampleRelease_Interactions() {
	dir, cleanup := demoRelease()
	defer cleanup()
	ctx := context.Background()
	rel, err := imagegem.Open(ctx, dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rel.Close()
	inters, err := rel.Interactions(ctx, imagegem.UserImage, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	split := imagegem.SplitLeaveOneLast(inters)
	fmt.Println(len(inters), len(split.Train), len(split.Valid), len(split.Test))
	// Output: 1000 980 10 10
}

func ExampleSplitLeaveOneLast() {
	t := func(day int) time.Time { return time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC) }
	s := imagegem.SplitLeaveOneLast([]imagegem.Interaction{
		{User: "u", Item: 3, Time: t(3)}, {User: "u", Item: 1, Time: t(1)},
		{User: "u", Item: 2, Time: t(2)}, {User: "u", Item: 4, Time: t(4)},
	})
	fmt.Println(len(s.Train), s.Valid[0].Item, s.Test[0].Item)
	// Output: 2 3 4
}

func ExampleWriteSASRec() {
	dir, _ := os.MkdirTemp("", "sasrec-")
	defer os.RemoveAll(dir)
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(dir, "models.txt")
	ids, err := imagegem.WriteSASRec(context.Background(), path, []imagegem.Interaction{
		{User: "b", Item: 900, Time: t}, {User: "a", Item: 700, Time: t}, {User: "a", Item: 900, Time: t.Add(time.Hour)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	fmt.Println(ids.Users, ids.Items)
	// Output:
	// 1 1
	// 1 2
	// 2 2
	// [a b] [700 900]
}

func ExampleHashUsername() {
	fmt.Println(imagegem.HashUsername("Ajuro")[:16])
	// Output: 3909e5e785fe21af
}

func ExampleSplitList() {
	fmt.Printf("%q\n", imagegem.SplitList("anime, style,  , character "))
	// Output: ["anime" "style" "character"]
}

func ExampleNewWriter() {
	parent, _ := os.MkdirTemp("", "writer-")
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "release")
	ctx := context.Background()
	w, err := imagegem.NewWriter(ctx, dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Abort() // after a successful Close, harmless
	t := time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	if err := w.WriteModelVersion(imagegem.ModelVersion{ID: 7, ModelID: 1, ModelType: "LORA", UserHash: imagegem.HashUsername("a")}); err != nil {
		fmt.Println(err)
		return
	}
	if err := w.WriteImage(imagegem.Image{ID: 100, ModelVersionIDs: []int64{7}, UserHash: imagegem.HashUsername("b"), CreatedAt: t}); err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	rel, err := imagegem.Open(ctx, dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rel.Close()
	v, err := rel.ImageVersions(ctx, 100)
	fmt.Println(len(v), v[0].ID, err)
	// Output: 1 7 <nil>
}
