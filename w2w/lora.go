package w2w

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// Factor is a low-rank matrix A·B held as its thin factors: A is Rows×Rank and B is Rank×Cols,
// both row-major. A LoRA module's ΔW = Scale·Up·Down is one Factor with A = Up, B = Down.
type Factor struct {
	Rows, Cols, Rank int
	A, B             []float32
}

// Module is one adapted layer of a LoRA.
type Module struct {
	// Name is the canonical kohya-style module name (lora_unet_…, lora_te1_…), the key of
	// layouts and of written files.
	Name string
	// Source is the module's key prefix in the file it came from.
	Source    string
	Component Component
	Kind      Kind
	// Attn is 1 for self-attention, 2 for cross-attention, 0 otherwise.
	Attn int
	// Out and In give ΔW's shape as loaders apply it: a conv module's kernel is folded into In
	// (In = in_channels·kh·kw), as kohya and diffusers reshape conv LoRAs.
	Out, In int
	// Kernel is the conv kernel [kh, kw], nil for a linear module.
	Kernel []int
	// Rank is the LoRA rank r; Alpha is the stored alpha, or r when the file has none.
	Rank  int
	Alpha float64
	// Up is Out×Rank and Down is Rank×In, row-major (for a LoKr module, nil). A LoCon module
	// with a CP middle tensor (lora_mid) holds up and the middle folded into down; a LoHa
	// module holds the exact factorisation of its Hadamard product (w1_a·w1_b)⊙(w2_a·w2_b), of
	// rank r₁·r₂, with Alpha scaled so that Scale is LyCORIS's alpha/r.
	Up, Down []float32
	// Algo is the LyCORIS algorithm of the module: "" for plain LoRA, "locon-cp", "loha" or
	// "lokr".
	Algo string
	// Kron holds a LoKr module's two Kronecker factors (ΔW = Scale·kron(W1, W2)); nil for LoRA.
	Kron *[2]Factor
	// DType is the dtype the factors were stored in.
	DType safetensors.DType
}

// Scale returns alpha/rank, the factor loaders multiply Up·Down by.
func (m *Module) Scale() float64 { return m.Alpha / float64(m.Rank) }

// LoRA is a parsed LoRA file.
type LoRA struct {
	Path       string
	Convention Convention
	Family     Family
	// FamilyNote says what decided Family and any disagreement between the evidence.
	FamilyNote string
	Metadata   map[string]string
	// Naming says how index-named modules (cloneofsimo) were given kohya names, or why they
	// could not be (then the LoRA reduces but is not written); empty for named conventions.
	Naming string
	// Modules are sorted by Name.
	Modules []Module
	// Extra lists tensors that are not LoRA factors (embedded textual-inversion tokens,
	// PEFT modules_to_save); they are ignored.
	Extra []string
}

// Module returns the named module.
func (l *LoRA) Module(name string) (*Module, bool) {
	i := sort.Search(len(l.Modules), func(i int) bool { return l.Modules[i].Name >= name })
	if i < len(l.Modules) && l.Modules[i].Name == name {
		return &l.Modules[i], true
	}
	return nil, false
}

// LoadLoRA opens, parses and validates a LoRA safetensors file. For PEFT files an
// adapter_config.json beside the file supplies lora_alpha (PEFT stores no alpha tensor).
func LoadLoRA(path string) (*LoRA, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := ParseLoRAFile(f)
	if err != nil {
		return nil, err
	}
	if l.Convention == PEFT {
		if set := adapterAlpha(filepath.Join(filepath.Dir(path), "adapter_config.json")); set != nil {
			for i := range l.Modules {
				set(&l.Modules[i])
			}
		}
	}
	return l, nil
}

// adapterAlpha reads a PEFT adapter_config.json and returns the function that sets alpha
// from it (lora_alpha for rank r) on a module that had no alpha tensor, or nil when the
// config is missing or unreadable (alpha stays the rank).
func adapterAlpha(path string) func(m *Module) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var cfg struct {
		R         int     `json:"r"`
		LoraAlpha float64 `json:"lora_alpha"`
	}
	if json.Unmarshal(b, &cfg) != nil || cfg.R <= 0 || cfg.LoraAlpha <= 0 {
		return nil
	}
	return func(m *Module) {
		if m.Rank == cfg.R && m.Alpha == float64(m.Rank) {
			m.Alpha = cfg.LoraAlpha
		}
	}
}

type moduleParts struct {
	conv  Convention
	names map[keyPart]string
}

// ParseLoRAFile parses the LoRA modules of an open safetensors file. It copies the factors out
// of the file (converted to float32), so the LoRA stays valid after the file is closed.
func ParseLoRAFile(f *safetensors.File) (*LoRA, error) {
	return parseLoRA(f, nil)
}

// parseLoRA is [ParseLoRAFile]; when built is set it is called with each module as soon as
// its factors are decoded (l.Convention is already set, l.Modules not yet sorted), with the
// number of modules the file holds, and a non-nil error from it stops the parse.
func parseLoRA(f *safetensors.File, built func(l *LoRA, m *Module, total int) error) (*LoRA, error) {
	l := &LoRA{Path: f.Path, Metadata: f.Metadata}
	mods := map[string]*moduleParts{}
	convs := map[Convention]bool{}
	sdxlText, fluxBare := false, false
	for _, t := range f.Tensors {
		prefix, conv, part := classifyKey(t.Name)
		switch part {
		case partNone:
			l.Extra = append(l.Extra, t.Name)
			continue
		case partUnsupported:
			if conv == "" {
				return nil, fileErr(f.Path, t.Name, f.FileOffset(t), ErrMalformedKey, "key follows no kohya, PEFT or diffusers naming")
			}
			return nil, fileErr(f.Path, t.Name, f.FileOffset(t), ErrUnsupported, "only LoRA, LoCon, LoHa and LoKr modules are read (not DoRA, full diffs or embeddings)")
		}
		if conv == PEFT && strings.HasPrefix(prefix, "base_model.model.single_transformer_blocks.") {
			fluxBare = true
		}
		if strings.HasPrefix(prefix, "text_encoder_2.") || strings.HasPrefix(prefix, "base_model.model.text_encoder_2.") {
			sdxlText = true
		}
		mp := mods[prefix]
		if mp == nil {
			mp = &moduleParts{conv: conv, names: map[keyPart]string{}}
			mods[prefix] = mp
		}
		if part == partAlpha && mp.conv != conv && conv == PEFT {
			conv = mp.conv // a bare .alpha beside diffusers-style factors
		}
		if _, dup := mp.names[part]; dup {
			return nil, fileErr(f.Path, t.Name, f.FileOffset(t), ErrMalformedKey, "second tensor for the same module part (from %q)", mp.names[part])
		}
		mp.names[part] = t.Name
		if part != partAlpha {
			mp.conv = conv
		}
		convs[conv] = true
	}
	if len(mods) == 0 {
		return nil, fileErr(f.Path, "", -1, ErrNotLoRA, "no LoRA factors among %d tensors", len(f.Tensors))
	}
	for c := range convs {
		if l.Convention == "" || c != PEFT {
			l.Convention = c
		}
	}
	prefixes := make([]string, 0, len(mods))
	for p := range mods {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	seen := map[string]string{}
	for _, p := range prefixes {
		m, err := buildModule(f, p, mods[p], sdxlText, fluxBare)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[m.Name]; dup {
			return nil, fileErr(f.Path, p, -1, ErrMalformedKey, "module maps to %q, as %q does", m.Name, prev)
		}
		seen[m.Name] = p
		if built != nil {
			if err := built(l, &m, len(prefixes)); err != nil {
				return nil, err
			}
		}
		l.Modules = append(l.Modules, m)
	}
	sort.Slice(l.Modules, func(i, j int) bool { return l.Modules[i].Name < l.Modules[j].Name })
	l.Family, l.FamilyNote = detectFamily(l)
	if l.Convention == CloneOfSimo {
		note, err := mapCloneOfSimo(l)
		if err != nil {
			note = err.Error()
		}
		l.Naming = note
	}
	conformSDXLNames(l)
	conformKernels(l)
	return l, nil
}

// readFinite decodes a float tensor and rejects NaN and Inf values, naming the offset of the
// first bad one.
func readFinite(f *safetensors.File, name string) ([]float32, safetensors.TensorInfo, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, t, fileErr(f.Path, name, -1, ErrMissingFactor, "")
	}
	raw, err := f.Raw(name)
	if err != nil {
		return nil, t, fmt.Errorf("w2w: %w", err)
	}
	v := make([]float32, t.Elements())
	i, err := safetensors.DecodeFloat32Finite(t.DType, raw, v)
	if err != nil {
		return nil, t, fileErr(f.Path, name, f.FileOffset(t), err, "")
	}
	if i >= 0 {
		return nil, t, fileErr(f.Path, name, f.FileOffset(t)+int64(i*t.DType.Size()), ErrNonFinite, "element %d is %v", i, v[i])
	}
	return v, t, nil
}

func buildModule(f *safetensors.File, prefix string, mp *moduleParts, sdxlText, fluxBare bool) (Module, error) {
	name, comp := canonicalName(prefix, mp.conv, sdxlText, fluxBare)
	m := Module{Name: name, Source: prefix, Component: comp}
	if _, lokr := mp.names[partLokrW1]; lokr || mp.names[partLokrW1A] != "" {
		return buildLoKr(f, m, mp)
	}
	if _, loha := mp.names[partHadaW1A]; loha || mp.names[partHadaW2A] != "" {
		return buildLoHa(f, m, mp)
	}
	downName, okD := mp.names[partDown]
	upName, okU := mp.names[partUp]
	if !okD || !okU {
		have := downName + upName
		if have == "" {
			have = mp.names[partAlpha]
		}
		return m, fileErr(f.Path, have, -1, ErrMissingFactor, "module %q needs both up and down factors", prefix)
	}
	down, dt, err := readFinite(f, downName)
	if err != nil {
		return m, err
	}
	up, ut, err := readFinite(f, upName)
	if err != nil {
		return m, err
	}
	m.DType = dt.DType
	if midName, ok := mp.names[partMid]; ok {
		return buildLoConCP(f, m, mp, midName, down, dt, up, ut)
	}
	switch {
	case len(dt.Shape) == 2 && len(ut.Shape) == 2:
		m.Rank, m.In = dt.Shape[0], dt.Shape[1]
		m.Out = ut.Shape[0]
		if ut.Shape[1] != m.Rank {
			return m, fileErr(f.Path, upName, f.FileOffset(ut), ErrRankMismatch, "up %v has rank %d, down %v has rank %d", ut.Shape, ut.Shape[1], dt.Shape, m.Rank)
		}
	case len(dt.Shape) == 4 && len(ut.Shape) == 4:
		m.Rank = dt.Shape[0]
		m.Kernel = []int{dt.Shape[2], dt.Shape[3]}
		m.In = dt.Shape[1] * dt.Shape[2] * dt.Shape[3]
		m.Out = ut.Shape[0]
		if ut.Shape[1] != m.Rank {
			return m, fileErr(f.Path, upName, f.FileOffset(ut), ErrRankMismatch, "up %v has rank %d, down %v has rank %d", ut.Shape, ut.Shape[1], dt.Shape, m.Rank)
		}
		if ut.Shape[2] != 1 || ut.Shape[3] != 1 {
			return m, fileErr(f.Path, upName, f.FileOffset(ut), ErrUnsupported, "conv up factor with a %dx%d kernel (only 1x1 up factors, as kohya LoCon writes)", ut.Shape[2], ut.Shape[3])
		}
	default:
		return m, fileErr(f.Path, downName, f.FileOffset(dt), ErrShapeMismatch, "down %v and up %v must both be 2-D (linear) or 4-D (conv)", dt.Shape, ut.Shape)
	}
	if m.Rank == 0 || m.In == 0 || m.Out == 0 {
		return m, fileErr(f.Path, downName, f.FileOffset(dt), ErrShapeMismatch, "empty factor: down %v, up %v", dt.Shape, ut.Shape)
	}
	m.Up, m.Down = up, down
	m.Alpha = float64(m.Rank)
	if an, ok := mp.names[partAlpha]; ok {
		a, at, err := readFinite(f, an)
		if err != nil {
			return m, err
		}
		if len(a) != 1 {
			return m, fileErr(f.Path, an, f.FileOffset(at), ErrShapeMismatch, "alpha must be a scalar, has shape %v", at.Shape)
		}
		m.Alpha = float64(a[0])
	}
	kernel := 0
	if m.Kernel != nil {
		kernel = m.Kernel[0] * m.Kernel[1]
	}
	m.Kind, m.Attn = classifyModule(m.Name, kernel)
	return m, nil
}

// Summary returns a one-line description of the LoRA.
func (l *LoRA) Summary() string {
	ranks := map[int]int{}
	for _, m := range l.Modules {
		ranks[m.Rank]++
	}
	return fmt.Sprintf("%s: %s, %s naming, %d modules, ranks %v", filepath.Base(l.Path), l.Family, l.Convention, len(l.Modules), ranks)
}
