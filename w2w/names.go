package w2w

import (
	"regexp"
	"strings"
)

// Convention is the key naming scheme of a LoRA file.
type Convention string

// Naming schemes read by [ParseLoRA].
const (
	// Kohya is kohya-ss sd-scripts naming (lora_unet_…, lora_te_…, .lora_down.weight,
	// .lora_up.weight, .alpha), also used by LyCORIS and A1111.
	Kohya Convention = "kohya"
	// PEFT is Hugging Face PEFT / diffusers naming (….lora_A.weight, ….lora_B.weight).
	PEFT Convention = "peft"
	// Diffusers is the older diffusers attention-processor naming (….to_q_lora.down.weight,
	// ….to_q.lora.down.weight).
	Diffusers Convention = "diffusers"
	// CloneOfSimo is the cloneofsimo/lora format (unet:N:up, text_encoder:N:down), whose
	// module names are indices only.
	CloneOfSimo Convention = "cloneofsimo"
)

// Component is the network a module belongs to.
type Component string

// Networks a module can belong to.
const (
	UNet         Component = "unet"
	TextEncoder  Component = "te"  // the only text encoder (SD1.x, SD2.x)
	TextEncoder1 Component = "te1" // SDXL's first text encoder (CLIP ViT-L)
	TextEncoder2 Component = "te2" // SDXL's second text encoder (OpenCLIP ViT-bigG)
	Transformer  Component = "transformer"
	OtherNet     Component = "other"
)

// Kind classifies a module by the layer it adapts (paper §5.3.1 selects layers by kind).
type Kind string

// Layer kinds.
const (
	AttnQ   Kind = "attn_q"
	AttnK   Kind = "attn_k"
	AttnV   Kind = "attn_v"
	AttnOut Kind = "attn_out"
	AttnQKV Kind = "attn_qkv" // fused projections (Flux)
	FF      Kind = "ff"       // feed-forward: ff_net_0_proj, ff_net_2, mlp_fc1, mlp_fc2, Flux mlp
	Proj    Kind = "proj"     // proj_in, proj_out and other projections
	Conv    Kind = "conv"     // convolutions with a spatial kernel
	Other   Kind = "other"
)

// keyPart is one tensor's role within a module.
type keyPart int

const (
	partNone keyPart = iota
	partDown
	partUp
	partAlpha
	partLokrW1
	partLokrW1A
	partLokrW1B
	partLokrW2
	partLokrW2A
	partLokrW2B
	partLokrT2
	partHadaW1A
	partHadaW1B
	partHadaW2A
	partHadaW2B
	partHadaT1
	partHadaT2
	partMid
	partUnsupported
)

var (
	kohyaKey     = regexp.MustCompile(`^(lora_(?:unet|te|te1|te2|transformer)_[A-Za-z0-9_]+)\.(lora_down\.weight|lora_up\.weight|alpha|lokr_w1|lokr_w1_a|lokr_w1_b|lokr_w2|lokr_w2_a|lokr_w2_b|lokr_t2|hada_w1_a|hada_w1_b|hada_w2_a|hada_w2_b|hada_t1|hada_t2|dora_scale|lora_mid\.weight|diff|diff_b)$`)
	peftKey      = regexp.MustCompile(`^([A-Za-z0-9_.]+?)\.(lora_A|lora_B)(?:\.default)?\.weight$`)
	peftAlphaKey = regexp.MustCompile(`^([A-Za-z0-9_.]+?)\.alpha$`)
	peftOther    = regexp.MustCompile(`\.(lora_embedding_A|lora_embedding_B|lora_magnitude_vector)\b`)
	diffNewKey   = regexp.MustCompile(`^([A-Za-z0-9_.]+?)\.lora\.(down|up)\.weight$`)
	diffProcKey  = regexp.MustCompile(`^([A-Za-z0-9_.]+?)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$`)
	cloneKey     = regexp.MustCompile(`^(unet|text_encoder):([0-9]+):(up|down)$`)
)

// w2wKeyPrefix starts the names of this package's auxiliary tensors (sign references in
// direction files); they are never LoRA factors.
const w2wKeyPrefix = "w2w."

// classifyKey splits a tensor name into its module's source prefix, its convention and its part.
// It returns partNone for tensors that are not LoRA tensors at all.
func classifyKey(name string) (prefix string, conv Convention, part keyPart) {
	if strings.HasPrefix(name, w2wKeyPrefix) {
		return "", "", partNone
	}
	if m := kohyaKey.FindStringSubmatch(name); m != nil {
		switch m[2] {
		case "lora_down.weight":
			return m[1], Kohya, partDown
		case "lora_up.weight":
			return m[1], Kohya, partUp
		case "alpha":
			return m[1], Kohya, partAlpha
		case "lokr_w1":
			return m[1], Kohya, partLokrW1
		case "lokr_w1_a":
			return m[1], Kohya, partLokrW1A
		case "lokr_w1_b":
			return m[1], Kohya, partLokrW1B
		case "lokr_w2":
			return m[1], Kohya, partLokrW2
		case "lokr_w2_a":
			return m[1], Kohya, partLokrW2A
		case "lokr_w2_b":
			return m[1], Kohya, partLokrW2B
		case "lokr_t2":
			return m[1], Kohya, partLokrT2
		case "hada_w1_a":
			return m[1], Kohya, partHadaW1A
		case "hada_w1_b":
			return m[1], Kohya, partHadaW1B
		case "hada_w2_a":
			return m[1], Kohya, partHadaW2A
		case "hada_w2_b":
			return m[1], Kohya, partHadaW2B
		case "hada_t1":
			return m[1], Kohya, partHadaT1
		case "hada_t2":
			return m[1], Kohya, partHadaT2
		case "lora_mid.weight":
			return m[1], Kohya, partMid
		}
		return m[1], Kohya, partUnsupported
	}
	if m := peftKey.FindStringSubmatch(name); m != nil {
		if m[2] == "lora_A" {
			return m[1], PEFT, partDown
		}
		return m[1], PEFT, partUp
	}
	if m := diffProcKey.FindStringSubmatch(name); m != nil {
		p := m[1] + "." + m[2]
		if m[2] == "to_out" {
			p += ".0"
		}
		if m[3] == "down" {
			return p, Diffusers, partDown
		}
		return p, Diffusers, partUp
	}
	if m := diffNewKey.FindStringSubmatch(name); m != nil {
		if m[2] == "down" {
			return m[1], Diffusers, partDown
		}
		return m[1], Diffusers, partUp
	}
	if m := cloneKey.FindStringSubmatch(name); m != nil {
		p := m[1] + ":" + m[2]
		if m[3] == "down" {
			return p, CloneOfSimo, partDown
		}
		return p, CloneOfSimo, partUp
	}
	if peftOther.MatchString(name) {
		return name, PEFT, partUnsupported
	}
	if m := peftAlphaKey.FindStringSubmatch(name); m != nil && !strings.HasPrefix(name, "lora_") {
		return m[1], PEFT, partAlpha
	}
	if looksLikeLoRA(name) {
		return name, "", partUnsupported
	}
	return "", "", partNone
}

// looksLikeLoRA reports names that mention LoRA factors without matching any scheme; such a
// key in a file means a broken conversion, not an unrelated tensor.
func looksLikeLoRA(name string) bool {
	l := strings.ToLower(name)
	return strings.Contains(l, "lora") || strings.HasPrefix(l, "lora_unet") || strings.HasPrefix(l, "lora_te")
}

// canonicalName maps a module's source prefix to the kohya-style name used in layouts and in
// written files: diffusers and PEFT module paths become lora_<net>_<path with underscores>,
// the form kohya's converters and ComfyUI's key map use.
func canonicalName(prefix string, conv Convention, sdxlText, fluxBare bool) (string, Component) {
	switch conv {
	case Kohya:
		rest := strings.TrimPrefix(prefix, "lora_")
		for _, c := range []Component{TextEncoder1, TextEncoder2, TextEncoder, UNet, Transformer} {
			if strings.HasPrefix(rest, string(c)+"_") {
				return prefix, c
			}
		}
		return prefix, OtherNet
	case CloneOfSimo:
		if strings.HasPrefix(prefix, "unet:") {
			return prefix, UNet
		}
		return prefix, TextEncoder
	}
	p := strings.TrimPrefix(prefix, "base_model.model.")
	head, tail, _ := strings.Cut(p, ".")
	under := func(s string) string { return strings.ReplaceAll(s, ".", "_") }
	switch head {
	case "unet":
		return "lora_unet_" + under(tail), UNet
	case "text_encoder":
		if sdxlText {
			return "lora_te1_" + under(tail), TextEncoder1
		}
		return "lora_te_" + under(tail), TextEncoder
	case "text_encoder_2":
		return "lora_te2_" + under(tail), TextEncoder2
	case "transformer":
		return "lora_transformer_" + under(tail), Transformer
	case "transformer_blocks", "single_transformer_blocks":
		if fluxBare {
			return "lora_transformer_" + under(p), Transformer
		}
	case "down_blocks", "up_blocks", "mid_block":
		// Legacy diffusers attention-processor files hold UNet paths without a prefix.
		return "lora_unet_" + under(p), UNet
	}
	if fluxBare {
		// A PEFT adapter saved on the FLUX transformer itself has no "transformer." prefix.
		return "lora_transformer_" + under(p), Transformer
	}
	return "lora_" + under(p), OtherNet
}

var (
	attnKind  = regexp.MustCompile(`(?:^|_)(attn[12]?)_(to_q|to_k|to_v|to_out_0|to_out|add_q_proj|add_k_proj|add_v_proj|to_add_out)$`)
	teAttn    = regexp.MustCompile(`self_attn_(q|k|v|out)_proj$`)
	ffKind    = regexp.MustCompile(`(ff_net_0_proj|ff_net_2|ff_context_net_0_proj|ff_context_net_2|mlp_fc1|mlp_fc2|img_mlp_0|img_mlp_2|txt_mlp_0|txt_mlp_2|proj_mlp|linear1|linear2)$`)
	qkvKind   = regexp.MustCompile(`(attn_qkv|_qkv)$`)
	fluxOut   = regexp.MustCompile(`(img_attn_proj|txt_attn_proj)$`)
	projKind  = regexp.MustCompile(`(proj_in|proj_out|_proj|_linear|_mod_lin|modulation_lin)$`)
	convNames = regexp.MustCompile(`(conv[0-9_a-z]*|conv_shortcut|downsamplers_0_conv|upsamplers_0_conv|skip_connection|in_layers_2|out_layers_3|op)$`)
)

// classifyModule returns the module's kind and attention index (1 self, 2 cross, 0 none) from
// its canonical name; kernel is the conv kernel area (0 for linear modules).
func classifyModule(name string, kernel int) (Kind, int) {
	if m := attnKind.FindStringSubmatch(name); m != nil {
		attn := 0
		switch m[1] {
		case "attn1":
			attn = 1
		case "attn2":
			attn = 2
		}
		switch m[2] {
		case "to_q", "add_q_proj":
			return AttnQ, attn
		case "to_k", "add_k_proj":
			return AttnK, attn
		case "to_v", "add_v_proj":
			return AttnV, attn
		}
		return AttnOut, attn
	}
	if m := teAttn.FindStringSubmatch(name); m != nil {
		return map[string]Kind{"q": AttnQ, "k": AttnK, "v": AttnV, "out": AttnOut}[m[1]], 1
	}
	switch {
	case ffKind.MatchString(name):
		return FF, 0
	case qkvKind.MatchString(name):
		return AttnQKV, 0
	case fluxOut.MatchString(name):
		return AttnOut, 0
	case kernel > 1 || convNames.MatchString(name):
		return Conv, 0
	case projKind.MatchString(name):
		return Proj, 0
	}
	return Other, 0
}
