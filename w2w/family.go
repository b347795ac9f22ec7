package w2w

import (
	"fmt"
	"strings"
)

// Family is the base model a LoRA was trained for. Vectors are comparable only within a family.
type Family string

// Base-model families.
const (
	FamilyUnknown Family = "unknown"
	SD1           Family = "sd1"  // Stable Diffusion 1.x
	SD2           Family = "sd2"  // Stable Diffusion 2.x
	SDXL          Family = "sdxl" // Stable Diffusion XL
	Flux          Family = "flux" // FLUX.1
)

// Cross-attention context widths of the UNet families: the text-encoder hidden size that
// attn2.to_k/to_v read (CLIP ViT-L 768 for SD1.x, OpenCLIP ViT-H 1024 for SD2.x, the
// concatenated 768+1280 = 2048 for SDXL).
const (
	crossDimSD1  = 768
	crossDimSD2  = 1024
	crossDimSDXL = 2048
	// fluxHidden is FLUX.1's transformer width (3072).
	fluxHidden = 3072
)

// familyFromMetadata reads kohya's ss_base_model_version and the modelspec architecture.
func familyFromMetadata(meta map[string]string) (Family, string) {
	if a := strings.ToLower(meta["modelspec.architecture"]); a != "" {
		switch {
		case strings.HasPrefix(a, "stable-diffusion-xl"):
			return SDXL, "modelspec.architecture=" + a
		case strings.HasPrefix(a, "stable-diffusion-v1"):
			return SD1, "modelspec.architecture=" + a
		case strings.HasPrefix(a, "stable-diffusion-v2"):
			return SD2, "modelspec.architecture=" + a
		case strings.HasPrefix(a, "flux"):
			return Flux, "modelspec.architecture=" + a
		}
	}
	if v := strings.ToLower(meta["ss_base_model_version"]); v != "" {
		switch {
		case strings.HasPrefix(v, "sdxl"):
			return SDXL, "ss_base_model_version=" + v
		case strings.HasPrefix(v, "sd_v1"), strings.HasPrefix(v, "sd_1"):
			return SD1, "ss_base_model_version=" + v
		case strings.HasPrefix(v, "sd_v2"), strings.HasPrefix(v, "sd_2"):
			return SD2, "ss_base_model_version=" + v
		case strings.HasPrefix(v, "flux"):
			return Flux, "ss_base_model_version=" + v
		}
	}
	if strings.EqualFold(meta["ss_v2"], "true") {
		return SD2, "ss_v2=True"
	}
	return FamilyUnknown, ""
}

// familyFromStructure recognises the family from module names and shapes.
func familyFromStructure(l *LoRA) (Family, string) {
	for _, m := range l.Modules {
		switch {
		case m.Component == TextEncoder1 || m.Component == TextEncoder2:
			return SDXL, "two text encoders (" + m.Name + ")"
		case m.Component == UNet && (strings.Contains(m.Name, "_input_blocks_") || strings.Contains(m.Name, "_output_blocks_") || strings.Contains(m.Name, "_middle_block_")):
			return SDXL, "SGM UNet block names (" + m.Name + ")"
		case strings.Contains(m.Name, "_double_blocks_") || strings.Contains(m.Name, "_single_blocks_") || strings.Contains(m.Name, "single_transformer_blocks"):
			return Flux, "FLUX block names (" + m.Name + ")"
		case m.Component == Transformer && (m.Out == fluxHidden || m.In == fluxHidden):
			return Flux, fmt.Sprintf("transformer width %d (%s)", fluxHidden, m.Name)
		}
	}
	for _, m := range l.Modules {
		if m.Component == UNet && m.Attn == 2 && (m.Kind == AttnK || m.Kind == AttnV) {
			switch m.In {
			case crossDimSD1:
				return SD1, fmt.Sprintf("cross-attention context %d (%s)", m.In, m.Name)
			case crossDimSD2:
				return SD2, fmt.Sprintf("cross-attention context %d (%s)", m.In, m.Name)
			case crossDimSDXL:
				return SDXL, fmt.Sprintf("cross-attention context %d (%s)", m.In, m.Name)
			}
		}
	}
	for _, m := range l.Modules {
		if m.Component == TextEncoder && m.Kind == AttnQ {
			switch m.In {
			case crossDimSD1:
				return SD1, fmt.Sprintf("text encoder width %d (%s)", m.In, m.Name)
			case crossDimSD2:
				return SD2, fmt.Sprintf("text encoder width %d (%s)", m.In, m.Name)
			}
		}
	}
	if l.Convention == CloneOfSimo {
		for _, m := range l.Modules {
			if m.Component == TextEncoder && m.In == crossDimSD1 {
				return SD1, fmt.Sprintf("text encoder width %d (%s)", m.In, m.Name)
			}
		}
	}
	return FamilyUnknown, ""
}

// detectFamily combines the structural evidence, which wins, with the metadata, used when the
// structure is not decisive. Disagreements are noted (one real Flux file says sd_1.5).
func detectFamily(l *LoRA) (Family, string) {
	sf, sn := familyFromStructure(l)
	mf, mn := familyFromMetadata(l.Metadata)
	switch {
	case sf != FamilyUnknown && mf != FamilyUnknown && sf != mf:
		return sf, fmt.Sprintf("%s; metadata says otherwise (%s), ignored", sn, mn)
	case sf != FamilyUnknown:
		return sf, sn
	case mf != FamilyUnknown:
		return mf, mn
	}
	return FamilyUnknown, "no decisive names, shapes or metadata"
}
