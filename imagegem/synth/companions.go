package synth

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/x448/float16"
)

// Planted LoRA strengths (see CompanionTruth).
const (
	loraSigma      = 4.0
	loraNoiseScale = 0.05
)

// loraModules are the kohya modules of the companion LoRA files: SD 1.5 names with the
// dimensions shrunk so files stay small (the real ones are 320–1280 wide).
var loraModules = []ModuleTruth{
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", 32, 32},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v", 32, 32},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", 32, 48},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v", 32, 48},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj", 128, 32},
	{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2", 32, 64},
	{"lora_te_text_model_encoder_layers_0_self_attn_q_proj", 48, 48},
}

// companions collects the vectors while images are written.
type companions struct {
	truth     *CompanionTruth
	rng       *rand.Rand
	promptIdx map[string]int
	prompts   []string
	promptVec [][]float32
	imageIDs  []int64
	imageVec  [][]float32
	quality   []float32
}

func newCompanions(g *generator) *companions {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, 0xc0ffee))
	dim := g.cfg.Dim
	t := &CompanionTruth{Dim: dim, LoRAModules: loraModules, Sigma: loraSigma, NoiseScale: loraNoiseScale}
	for range styleNames {
		t.StyleCenters = append(t.StyleCenters, unit(gauss(rng, dim)))
	}
	for range topicNames {
		t.TopicCenters = append(t.TopicCenters, unit(gauss(rng, dim)))
	}
	for range styleNames {
		var dirs []Rank1
		for _, m := range loraModules {
			dirs = append(dirs, Rank1{Up: unit(gauss(rng, m.Out)), Down: unit(gauss(rng, m.In))})
		}
		t.StyleDirections = append(t.StyleDirections, dirs)
	}
	return &companions{truth: t, rng: rng, promptIdx: map[string]int{}}
}

func (c *companions) addImage(g *generator, id int64, prompt string, style, topic int, quality float64) {
	i, ok := c.promptIdx[prompt]
	if !ok {
		v := make([]float32, c.truth.Dim)
		noise := gauss(c.rng, c.truth.Dim)
		for d := range v {
			v[d] = 0.8*c.truth.StyleCenters[style][d] + 0.5*c.truth.TopicCenters[topic][d] + 0.25*noise[d]
		}
		i = len(c.prompts)
		c.promptIdx[prompt] = i
		c.prompts = append(c.prompts, prompt)
		c.promptVec = append(c.promptVec, unit(v))
	}
	p := c.promptVec[i]
	noise := gauss(c.rng, c.truth.Dim)
	v := make([]float32, len(p))
	for d := range v {
		v[d] = p[d] + 0.15*noise[d]
	}
	c.imageIDs = append(c.imageIDs, id)
	c.imageVec = append(c.imageVec, unit(v))
	c.quality = append(c.quality, float32(quality))
}

// write fills out, the companions folder the release writer publishes with the tables: no
// reader sees a file of it before the whole release is moved into place, and a failure or
// a cancelled ctx removes them all.
func (c *companions) write(ctx context.Context, out string, g *generator) error {
	report := progress.Func(g.cfg.Progress)
	total := len(g.truth.Versions) + 6
	done := 0
	step := func(err error) error {
		if err != nil {
			return fmt.Errorf("synth: companions: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("synth: companions: %w", err)
		}
		done++
		report.Report(Progress{Stage: "companions", Done: done, Total: total})
		return nil
	}
	if err := step(atomicfile.WriteFile(ctx, filepath.Join(out, PromptsFile), []byte(strings.Join(c.prompts, "\n")+"\n"), nil)); err != nil {
		return err
	}
	if err := step(writeNpyF32(ctx, filepath.Join(out, PromptEmbeddingsFile), c.promptVec, c.truth.Dim)); err != nil {
		return err
	}
	if err := step(writeNpyI64(ctx, filepath.Join(out, ImageIDsFile), c.imageIDs)); err != nil {
		return err
	}
	if err := step(writeNpyF32(ctx, filepath.Join(out, ImageEmbeddingsFile), c.imageVec, c.truth.Dim)); err != nil {
		return err
	}
	if err := step(writeNpyF32Vector(ctx, filepath.Join(out, ImageQualityFile), c.quality)); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(out, LoRADir), atomicfile.DirMode); err != nil {
		return fmt.Errorf("synth: companions: %w", err)
	}
	for i, v := range g.truth.Versions {
		path := filepath.Join(out, LoRADir, strconv.FormatInt(v.ID, 10)+".safetensors")
		if err := step(c.writeLoRA(ctx, path, v, i, g.cfg.LoRARank)); err != nil {
			return err
		}
	}
	tj, err := json.MarshalIndent(g.truth, "", " ")
	if err != nil {
		return fmt.Errorf("synth: companions: %w", err)
	}
	return step(atomicfile.WriteFile(ctx, filepath.Join(out, TruthFile), tj, nil))
}

// writeLoRA writes one kohya LoRA whose every module carries the version's style direction:
// ΔW = (alpha/rank)·up·down = σ·u·vᵀ + noise (rank 1 to Options.LoRARank, noise in the other
// ranks), with the sign of (u, v) flipped at random (a
// LoRA and its sign-flipped factors are the same LoRA) and every third file in F16.
func (c *companions) writeLoRA(ctx context.Context, path string, v VersionTruth, index, maxRank int) error {
	rng := rand.New(rand.NewPCG(uint64(v.ID), 0x10ca))
	rank := 1 + index%maxRank
	alpha := float64(rank)
	if index%2 == 1 {
		alpha = float64(rank) / 2
	}
	scale := alpha / float64(rank)
	dtype := "F32"
	if index%3 == 0 {
		dtype = "F16"
	}
	var ts []tensor
	for m, mod := range loraModules {
		dir := c.truth.StyleDirections[v.Style][m]
		sign := float32(1)
		if rng.IntN(2) == 0 {
			sign = -1
		}
		up := make([]float32, mod.Out*rank)  // [out, rank]
		down := make([]float32, rank*mod.In) // [rank, in]
		// scale·s² = σ: the planted part of ΔW is exactly σ·u·vᵀ.
		s := float32(math.Sqrt(loraSigma / scale))
		for o := 0; o < mod.Out; o++ {
			up[o*rank] = sign * s * dir.Up[o]
			for r := 1; r < rank; r++ {
				up[o*rank+r] = float32(loraNoiseScale * rng.NormFloat64())
			}
		}
		for i := 0; i < mod.In; i++ {
			down[i] = sign * s * dir.Down[i]
		}
		for r := 1; r < rank; r++ {
			for i := 0; i < mod.In; i++ {
				down[r*mod.In+i] = float32(loraNoiseScale * rng.NormFloat64())
			}
		}
		ts = append(ts,
			tensor{mod.Name + ".alpha", dtype, []int{}, []float32{float32(alpha)}},
			tensor{mod.Name + ".lora_down.weight", dtype, []int{rank, mod.In}, down},
			tensor{mod.Name + ".lora_up.weight", dtype, []int{mod.Out, rank}, up},
		)
	}
	meta := map[string]string{
		"ss_network_module":      "networks.lora",
		"ss_network_dim":         strconv.Itoa(rank),
		"ss_network_alpha":       strconv.FormatFloat(alpha, 'g', -1, 64),
		"ss_base_model_version":  "sd_v1",
		"modelspec.architecture": "stable-diffusion-v1/lora",
		"imagegem_synth_style":   styleNames[v.Style],
	}
	return writeSafetensors(ctx, path, ts, meta)
}

type tensor struct {
	name  string
	dtype string
	shape []int
	data  []float32
}

// writeSafetensors writes a safetensors file: an 8-byte little-endian header length, a JSON
// header (padded with spaces to a multiple of 8), then the tensors' bytes in header order.
func writeSafetensors(ctx context.Context, path string, ts []tensor, meta map[string]string) error {
	sort.Slice(ts, func(a, b int) bool { return ts[a].name < ts[b].name })
	header := map[string]any{"__metadata__": meta}
	offset := 0
	for _, t := range ts {
		size := len(t.data) * 4
		if t.dtype == "F16" {
			size = len(t.data) * 2
		}
		header[t.name] = map[string]any{"dtype": t.dtype, "shape": t.shape, "data_offsets": []int{offset, offset + size}}
		offset += size
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	return atomicfile.Write(ctx, path, nil, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		binary.Write(w, binary.LittleEndian, uint64(len(hj)))
		w.Write(hj)
		for _, t := range ts {
			for _, x := range t.data {
				if t.dtype == "F16" {
					binary.Write(w, binary.LittleEndian, float16.Fromfloat32(x).Bits())
				} else {
					binary.Write(w, binary.LittleEndian, math.Float32bits(x))
				}
			}
		}
		return w.Flush()
	})
}

// npy writes a NumPy .npy (format 1.0) file header for a little-endian array.
func npyHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	// Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
	total := 10 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	return append(out, h...)
}

func writeNpy(ctx context.Context, path string, header []byte, body func(w *bufio.Writer)) error {
	return atomicfile.Write(ctx, path, nil, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		w.Write(header)
		body(w)
		return w.Flush()
	})
}

func writeNpyF32(ctx context.Context, path string, rows [][]float32, dim int) error {
	return writeNpy(ctx, path, npyHeader("<f4", []int{len(rows), dim}), func(w *bufio.Writer) {
		var b [4]byte
		for _, r := range rows {
			for _, x := range r {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
				w.Write(b[:])
			}
		}
	})
}

func writeNpyF32Vector(ctx context.Context, path string, v []float32) error {
	return writeNpy(ctx, path, npyHeader("<f4", []int{len(v)}), func(w *bufio.Writer) {
		var b [4]byte
		for _, x := range v {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			w.Write(b[:])
		}
	})
}

func writeNpyI64(ctx context.Context, path string, v []int64) error {
	return writeNpy(ctx, path, npyHeader("<i8", []int{len(v)}), func(w *bufio.Writer) {
		var b [8]byte
		for _, x := range v {
			binary.LittleEndian.PutUint64(b[:], uint64(x))
			w.Write(b[:])
		}
	})
}

func gauss(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
	return v
}
