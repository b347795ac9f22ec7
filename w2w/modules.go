package w2w

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The family module table: what the base model's layers are, so that written factors take
// the base layer's shape (a convolution's 4-D kernel) whatever shape the input stored, and so
// that index-named inputs (cloneofsimo) can be given the module names every loader maps.

// Kernels of the UNet convolutions.
var (
	kernel1x1 = []int{1, 1}
	kernel3x3 = []int{3, 3}
)

// Convolutions of the UNets by their kohya names: the diffusers paths (SD1.x, SD2.x, and SDXL
// files converted from diffusers) and the SGM paths kohya uses for SDXL.
var (
	conv3x3Names = regexp.MustCompile(`^lora_unet_(?:conv_in|conv_out|.*_resnets_[0-9]+_conv[12]|.*_(?:down|up)samplers_0_conv|input_blocks_0_0|.*_in_layers_2|.*_out_layers_3|input_blocks_[0-9]+_0_op|output_blocks_[0-9]+_[0-9]+_conv|out_2)$`)
	conv1x1Names = regexp.MustCompile(`^lora_unet_(?:.*_conv_shortcut|.*_skip_connection)$`)
	projNames    = regexp.MustCompile(`^lora_unet_.*_(?:proj_in|proj_out)$`)
)

// baseKernel returns the conv kernel [kh, kw] of the family's base layer behind a kohya
// module name, nil for a linear layer, and whether the table knows the layer at all.
// proj_in and proj_out are 1×1 convolutions in SD1.x and linear layers in SD2.x and SDXL
// (diffusers' use_linear_projection; kohya writes [r, c, 1, 1] factors for SD1.x).
func baseKernel(f Family, name string) ([]int, bool) {
	if f != SD1 && f != SD2 && f != SDXL {
		return nil, false
	}
	switch {
	case conv3x3Names.MatchString(name):
		return kernel3x3, true
	case conv1x1Names.MatchString(name):
		return kernel1x1, true
	case projNames.MatchString(name):
		if f == SD1 {
			return kernel1x1, true
		}
		return nil, true
	}
	return nil, false
}

// conformKernels gives every module the kernel of its base layer: a convolution stored as 2-D
// factors (LyCORIS LoKr folds the kernel into the columns) gets its 4-D kernel back, and a
// linear layer stored as a 1×1 convolution loses it. Modules the table does not know keep the
// input's shape.
func conformKernels(l *LoRA) {
	for i := range l.Modules {
		m := &l.Modules[i]
		k, known := baseKernel(l.Family, m.Name)
		if !known {
			continue
		}
		switch {
		case k == nil && m.Kernel != nil && m.Kernel[0]*m.Kernel[1] == 1:
			m.Kernel = nil
		case k != nil && m.Kernel == nil && m.In%(k[0]*k[1]) == 0:
			m.Kernel = append([]int(nil), k...)
		}
	}
}

// baseLayer is one adapted layer of a base model: its kohya module name and ΔW's shape.
type baseLayer struct {
	name    string
	out, in int
}

// unetGeometry describes the SD1.x/SD2.x UNet (diffusers UNet2DConditionModel): the
// transformer widths of the down, mid and up blocks and the cross-attention context width.
type unetGeometry struct {
	down    []int // block_out_channels of the down blocks that have attentions
	up      []int // widths of the up blocks that have attentions, in order
	mid     int
	context int
}

// SD1.x and SD2.x UNets (v1-inference / v2-inference configs): block_out_channels
// 320, 640, 1280, 1280, attentions in the first three down blocks, the last three up blocks
// and the mid block, two layers per block (three in the up blocks).
var sdUNet = map[Family]unetGeometry{
	SD1: {down: []int{320, 640, 1280}, up: []int{1280, 640, 320}, mid: 1280, context: crossDimSD1},
	SD2: {down: []int{320, 640, 1280}, up: []int{1280, 640, 320}, mid: 1280, context: crossDimSD2},
}

// sdTextEncoder gives the CLIP text encoder's layers and width: CLIP ViT-L/14 (12 × 768) for
// SD1.x, OpenCLIP ViT-H/14 as diffusers ships it for SD2.x (23 × 1024).
var sdTextEncoder = map[Family][2]int{SD1: {12, crossDimSD1}, SD2: {23, crossDimSD2}}

// cloneTransformerBlocks returns the UNet transformer blocks in the order torch's
// model.modules() visits them: down blocks, then up blocks, then the mid block (the order in
// which UNet2DConditionModel registers them), with each block's width.
func cloneTransformerBlocks(g unetGeometry) (paths []string, dims []int) {
	for b, d := range g.down {
		for a := 0; a < 2; a++ {
			paths = append(paths, fmt.Sprintf("down_blocks_%d_attentions_%d_transformer_blocks_0", b, a))
			dims = append(dims, d)
		}
	}
	for b, d := range g.up {
		for a := 0; a < 3; a++ {
			paths = append(paths, fmt.Sprintf("up_blocks_%d_attentions_%d_transformer_blocks_0", b+1, a))
			dims = append(dims, d)
		}
	}
	return append(paths, "mid_block_attentions_0_transformer_blocks_0"), append(dims, g.mid)
}

// cloneUNetOrders returns the candidate orders of cloneofsimo's UNet indices for the default
// targets (CrossAttention/Attention and GEGLU): the library numbers the injected linears as it
// meets them walking the modules, so within a BasicTransformerBlock the order follows the
// block's registration order, which diffusers changed: attn1, ff, attn2 before 0.12 and attn1,
// attn2, ff since. Both are tried; the shapes decide.
func cloneUNetOrders(g unetGeometry) [][]baseLayer {
	paths, dims := cloneTransformerBlocks(g)
	attn := func(p string, k, d, ctx int) []baseLayer {
		a := fmt.Sprintf("lora_unet_%s_attn%d_", p, k)
		return []baseLayer{{a + "to_q", d, d}, {a + "to_k", d, ctx}, {a + "to_v", d, ctx}, {a + "to_out_0", d, d}}
	}
	var newer, older []baseLayer
	for i, p := range paths {
		d := dims[i]
		a1, a2 := attn(p, 1, d, d), attn(p, 2, d, g.context)
		ff := baseLayer{"lora_unet_" + p + "_ff_net_0_proj", 8 * d, d} // GEGLU: 2 × 4d outputs
		newer = append(append(append(newer, a1...), a2...), ff)
		older = append(append(append(older, a1...), ff), a2...)
	}
	return [][]baseLayer{newer, older}
}

// cloneTextOrder returns cloneofsimo's text-encoder order for its default target
// (CLIPAttention): per layer k_proj, v_proj, q_proj, out_proj, the registration order of
// transformers' CLIPAttention.
func cloneTextOrder(layers, width int) []baseLayer {
	var out []baseLayer
	for i := 0; i < layers; i++ {
		for _, p := range []string{"k", "v", "q", "out"} {
			out = append(out, baseLayer{fmt.Sprintf("lora_te_text_model_encoder_layers_%d_self_attn_%s_proj", i, p), width, width})
		}
	}
	return out
}

// cloneDefaultTargets are the target classes whose index order the table knows, per network.
var cloneDefaultTargets = map[string]map[string]bool{
	"unet": {"CrossAttention": true, "Attention": true, "GEGLU": true},
	// CLIPSdpaAttention (transformers 4.x) subclasses CLIPAttention and registers the same
	// k_proj, v_proj, q_proj, out_proj, so a file that lists it has the same order.
	"text_encoder": {"CLIPAttention": true, "CLIPSdpaAttention": true},
}

// cloneTargetsKnown reports whether the file's metadata lists, for the network, only target
// classes whose order the table knows (an absent list means the library's defaults).
func cloneTargetsKnown(meta map[string]string, net string) bool {
	v, ok := meta[net]
	if !ok {
		return true
	}
	var ts []string
	if json.Unmarshal([]byte(v), &ts) != nil || len(ts) == 0 {
		return false
	}
	for _, t := range ts {
		if !cloneDefaultTargets[net][t] {
			return false
		}
	}
	return true
}

// mapCloneOfSimo renames the index-named modules of a cloneofsimo LoRA (unet:N, text_encoder:N)
// to kohya module names through the family table, choosing the index order whose shapes all
// match. It returns a note of what it did, or an error wrapping [ErrUnmappedModule] naming why
// the modules cannot be named (the file still reduces; it cannot be written).
func mapCloneOfSimo(l *LoRA) (string, error) {
	g, okU := sdUNet[l.Family]
	te, okT := sdTextEncoder[l.Family]
	if !okU || !okT {
		return "", fmt.Errorf("w2w: %s: %w: no cloneofsimo index table for family %s", l.Path, ErrUnmappedModule, l.Family)
	}
	byNet := map[string]map[int]int{"unet": {}, "text_encoder": {}} // index -> position in l.Modules
	for i, m := range l.Modules {
		net, idx, ok := strings.Cut(m.Source, ":")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || byNet[net] == nil {
			return "", fmt.Errorf("w2w: %s: module %q: %w: not a cloneofsimo index name", l.Path, m.Source, ErrUnmappedModule)
		}
		byNet[net][n] = i
	}
	names := make([]string, len(l.Modules))
	var notes []string
	for _, net := range []string{"unet", "text_encoder"} {
		idx := byNet[net]
		if len(idx) == 0 {
			continue
		}
		if !cloneTargetsKnown(l.Metadata, net) {
			return "", fmt.Errorf("w2w: %s: %w: %s targets %s, whose index order is not in the table", l.Path, ErrUnmappedModule, net, l.Metadata[net])
		}
		orders := [][]baseLayer{cloneTextOrder(te[0], te[1])}
		if net == "unet" {
			orders = cloneUNetOrders(g)
		}
		chosen := -1
		for oi, order := range orders {
			if len(order) != len(idx) {
				continue
			}
			fits := true
			for n, bl := range order {
				i, ok := idx[n]
				if !ok || l.Modules[i].Out != bl.out || l.Modules[i].In != bl.in {
					fits = false
					break
				}
			}
			if fits {
				chosen = oi
				break
			}
		}
		if chosen < 0 {
			return "", fmt.Errorf("w2w: %s: %w: the %d %s modules fit no known index order of %s (expected %d)", l.Path, ErrUnmappedModule, len(idx), net, l.Family, len(orders[0]))
		}
		for n, bl := range orders[chosen] {
			names[idx[n]] = bl.name
		}
		notes = append(notes, fmt.Sprintf("%s indices in order %d of %d", net, chosen+1, len(orders)))
	}
	for i := range l.Modules {
		m := &l.Modules[i]
		m.Name = names[i]
		m.Component = UNet
		if strings.HasPrefix(m.Name, "lora_te_") {
			m.Component = TextEncoder
		}
		m.Kind, m.Attn = classifyModule(m.Name, 0)
	}
	sort.Slice(l.Modules, func(i, j int) bool { return l.Modules[i].Name < l.Modules[j].Name })
	return strings.Join(notes, ", "), nil
}

// kohyaName reports whether a module name is one loaders map: lora_<network>_<path>.
var kohyaName = regexp.MustCompile(`^lora_[A-Za-z0-9]+_[A-Za-z0-9_]+$`)

// SDXL's kohya names follow Stability's SGM UNet (input_blocks, middle_block, output_blocks),
// as sd-scripts trains SDXL on that UNet and as kohya SDXL LoRAs hold them; diffusers and PEFT
// SDXL files name diffusers' blocks instead. Their modules are renamed to the SGM names so
// that every SDXL LoRA written, and every layout over SDXL LoRAs, uses kohya's. The block
// arithmetic is the UNet's: SDXL's three down blocks of two layers each (the first without
// attention, the last without a downsampler) give input blocks 1 + 3·block + layer, and the
// up blocks of three layers give output blocks 3·block + layer.
var (
	sdxlDownRe = regexp.MustCompile(`^lora_unet_down_blocks_([0-2])_(attentions|resnets)_([0-1])_(.+)$`)
	sdxlUpRe   = regexp.MustCompile(`^lora_unet_up_blocks_([0-2])_(attentions|resnets)_([0-2])_(.+)$`)
	sdxlMidRe  = regexp.MustCompile(`^lora_unet_mid_block_(attentions|resnets)_([0-1])_(.+)$`)
	sdxlSampRe = regexp.MustCompile(`^lora_unet_(down|up)_blocks_([0-2])_(down|up)samplers_0_conv$`)
)

// sgmResnet maps a diffusers ResnetBlock2D layer to the SGM ResBlock's.
var sgmResnet = map[string]string{
	"conv1": "in_layers_2", "conv2": "out_layers_3", "time_emb_proj": "emb_layers_1",
	"conv_shortcut": "skip_connection", "norm1": "in_layers_0", "norm2": "out_layers_0",
}

// sgmOther maps SDXL's remaining diffusers layers.
var sgmOther = map[string]string{
	"lora_unet_conv_in":                 "lora_unet_input_blocks_0_0",
	"lora_unet_conv_out":                "lora_unet_out_2",
	"lora_unet_conv_norm_out":           "lora_unet_out_0",
	"lora_unet_time_embedding_linear_1": "lora_unet_time_embed_0",
	"lora_unet_time_embedding_linear_2": "lora_unet_time_embed_2",
	"lora_unet_add_embedding_linear_1":  "lora_unet_label_emb_0_0",
	"lora_unet_add_embedding_linear_2":  "lora_unet_label_emb_0_2",
}

// sdxlSGMName returns the SGM (kohya) name of an SDXL module named by diffusers' blocks, and
// false for a name that is not one (already SGM, a text encoder's, or unknown).
func sdxlSGMName(name string) (string, bool) {
	if s, ok := sgmOther[name]; ok {
		return s, true
	}
	suffix := func(kind, rest string) (string, bool) {
		if kind == "attentions" {
			return "1_" + rest, true
		}
		s, ok := sgmResnet[rest]
		return "0_" + s, ok
	}
	if m := sdxlDownRe.FindStringSubmatch(name); m != nil {
		b, l := int(m[1][0]-'0'), int(m[3][0]-'0')
		s, ok := suffix(m[2], m[4])
		return fmt.Sprintf("lora_unet_input_blocks_%d_%s", 1+3*b+l, s), ok
	}
	if m := sdxlUpRe.FindStringSubmatch(name); m != nil {
		b, l := int(m[1][0]-'0'), int(m[3][0]-'0')
		s, ok := suffix(m[2], m[4])
		return fmt.Sprintf("lora_unet_output_blocks_%d_%s", 3*b+l, s), ok
	}
	if m := sdxlMidRe.FindStringSubmatch(name); m != nil {
		if m[1] == "attentions" {
			return "lora_unet_middle_block_1_" + m[3], m[2] == "0"
		}
		s, ok := sgmResnet[m[3]]
		return fmt.Sprintf("lora_unet_middle_block_%d_%s", 2*int(m[2][0]-'0'), s), ok
	}
	if m := sdxlSampRe.FindStringSubmatch(name); m != nil {
		b := int(m[2][0] - '0')
		if m[1] == "down" && m[3] == "down" && b < 2 {
			return fmt.Sprintf("lora_unet_input_blocks_%d_0_op", 3+3*b), true
		}
		if m[1] == "up" && m[3] == "up" && b < 2 {
			return fmt.Sprintf("lora_unet_output_blocks_%d_2_conv", 3*b+2), true
		}
	}
	return "", false
}

// conformSDXLNames renames an SDXL LoRA's diffusers-named UNet modules to kohya's SGM names,
// unless that would give two modules one name (then the file keeps its names).
func conformSDXLNames(l *LoRA) {
	if l.Family != SDXL {
		return
	}
	names := map[string]bool{}
	renamed := make([]string, len(l.Modules))
	for i, m := range l.Modules {
		n := m.Name
		if s, ok := sdxlSGMName(m.Name); ok {
			n = s
		}
		if names[n] {
			return
		}
		names[n] = true
		renamed[i] = n
	}
	changed := false
	for i := range l.Modules {
		if renamed[i] != l.Modules[i].Name {
			l.Modules[i].Name = renamed[i]
			changed = true
		}
	}
	if changed {
		sort.Slice(l.Modules, func(i, j int) bool { return l.Modules[i].Name < l.Modules[j].Name })
	}
}
