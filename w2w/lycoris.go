package w2w

import (
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// LyCORIS modules (KohakuBlueleaf/LyCORIS, lycoris/modules/{locon,loha,lokr}.py) in kohya
// naming. Each is read into thin factors of its ΔW, so that reduction never forms ΔW:
//   - LoCon with a CP middle (lora_mid [r, r₂, kh, kw]): ΔW = up·M with
//     M[i, (q, s)] = Σ_j mid[i, j, s]·down[j, q], of rank r.
//   - LoKr: ΔW = (alpha/r)·kron(W1, W2), each W full or a product of factors; W2 may be 4-D
//     ([b, d, kh, kw], flattened to [b, d·kh·kw], which is how kron lays out a conv kernel) or
//     Tucker (lokr_t2 [r, r, kh, kw] with lokr_w2_a [r, b], lokr_w2_b [r, d]:
//     W2 = w2_aᵀ·M, rank r).
//   - LoHa: ΔW = (alpha/r)·(A1·B1)⊙(A2·B2), each A·B plain (hada_w_a [out, r], hada_w_b
//     [r, in·kh·kw]) or Tucker (hada_t [r, r, kh, kw], hada_w_a [r, out], hada_w_b [r, in]).
//     The Hadamard product of two rank-r matrices is exactly P·Q with
//     P[i, (a, b)] = A1[i, a]·A2[i, b] and Q[(a, b), j] = B1[a, j]·B2[b, j], of rank r₁·r₂.

// tensor is a decoded tensor with its info.
type tensor struct {
	v    []float32
	info safetensors.TensorInfo
	name string
}

// readPart decodes a module part, or reports ErrMissingFactor naming the module.
func readPart(f *safetensors.File, m *Module, mp *moduleParts, part keyPart, what string) (tensor, error) {
	name, ok := mp.names[part]
	if !ok {
		return tensor{}, fileErr(f.Path, m.Source, -1, ErrMissingFactor, "module needs %s", what)
	}
	v, info, err := readFinite(f, name)
	return tensor{v, info, name}, err
}

// shapeErr reports factors whose shapes do not fit together.
func shapeErr(f *safetensors.File, t tensor, format string, args ...any) error {
	return fileErr(f.Path, t.name, f.FileOffset(t.info), ErrShapeMismatch, format, args...)
}

// readAlpha sets m.Alpha from the module's alpha tensor when it has one.
func readAlpha(f *safetensors.File, m *Module, mp *moduleParts) error {
	an, ok := mp.names[partAlpha]
	if !ok {
		return nil
	}
	a, at, err := readFinite(f, an)
	if err != nil {
		return err
	}
	if len(a) != 1 {
		return fileErr(f.Path, an, f.FileOffset(at), ErrShapeMismatch, "alpha must be a scalar, has shape %v", at.Shape)
	}
	m.Alpha = float64(a[0])
	return nil
}

// tuckerRows folds a Tucker core t [r, r₂, kh, kw] into the second-mode factor w [r₂, q]:
// M[i, q'·kk + s] = Σ_j t[i, j, s]·w[j, q'] (kk = kh·kw), an r × q·kk matrix. It returns nil
// when the shapes disagree.
func tuckerRows(t tensor, w tensor) ([]float32, int, int, []int) {
	ts, ws := t.info.Shape, w.info.Shape
	if len(ts) != 4 || len(ws) != 2 || ts[1] != ws[0] || ts[0] <= 0 || ts[1] <= 0 || ws[1] <= 0 || ts[2] <= 0 || ts[3] <= 0 {
		return nil, 0, 0, nil
	}
	r, r2, q, kk := ts[0], ts[1], ws[1], ts[2]*ts[3]
	out := make([]float32, r*q*kk)
	acc := make([]float64, q*kk)
	for i := 0; i < r; i++ {
		for k := range acc {
			acc[k] = 0
		}
		for j := 0; j < r2; j++ {
			tr := t.v[(i*r2+j)*kk : (i*r2+j+1)*kk]
			wr := w.v[j*q : (j+1)*q]
			for c, wv := range wr {
				if wv == 0 {
					continue
				}
				a := acc[c*kk : (c+1)*kk]
				for s, tv := range tr {
					a[s] += float64(tv) * float64(wv)
				}
			}
		}
		for k, x := range acc {
			out[i*q*kk+k] = float32(x)
		}
	}
	return out, r, q * kk, []int{ts[2], ts[3]}
}

// transpose returns the cols×rows transpose of a rows×cols matrix.
func transpose(v []float32, rows, cols int) []float32 {
	out := make([]float32, len(v))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[j*rows+i] = v[i*cols+j]
		}
	}
	return out
}

// squeeze2 returns the first two sizes of a [a, b] or [a, b, 1, 1] shape, or false.
func squeeze2(s []int) (int, int, bool) {
	switch {
	case len(s) == 2:
		return s[0], s[1], true
	case len(s) == 4 && s[2] == 1 && s[3] == 1:
		return s[0], s[1], true
	}
	return 0, 0, false
}

// buildLoConCP reads a LoCon module with a CP middle tensor.
func buildLoConCP(f *safetensors.File, m Module, mp *moduleParts, midName string, down []float32, dt safetensors.TensorInfo, up []float32, ut safetensors.TensorInfo) (Module, error) {
	mid, mt, err := readFinite(f, midName)
	if err != nil {
		return m, err
	}
	r2, in, okD := squeeze2(dt.Shape)
	out, r, okU := squeeze2(ut.Shape)
	mt2 := tensor{mid, mt, midName}
	if !okD || !okU {
		return m, shapeErr(f, mt2, "lora_mid needs [r, in, 1, 1] down and [out, r, 1, 1] up, have %v and %v", dt.Shape, ut.Shape)
	}
	if len(mt.Shape) != 4 || mt.Shape[0] != r || mt.Shape[1] != r2 {
		return m, fileErr(f.Path, midName, f.FileOffset(mt), ErrRankMismatch, "lora_mid %v between up rank %d and down rank %d", mt.Shape, r, r2)
	}
	b, rows, cols, kernel := tuckerRows(mt2, tensor{down, safetensors.TensorInfo{Shape: []int{r2, in}}, ""})
	if b == nil || rows == 0 || out == 0 {
		return m, shapeErr(f, mt2, "empty or inconsistent lora_mid %v", mt.Shape)
	}
	m.Algo = "locon-cp"
	m.Up, m.Down, m.Rank, m.Out, m.In, m.Kernel = up, b, r, out, cols, kernel
	m.Alpha = float64(r)
	if err := readAlpha(f, &m, mp); err != nil {
		return m, err
	}
	m.Kind, m.Attn = classifyModule(m.Name, kernel[0]*kernel[1])
	return m, nil
}

// lowRank reads one of LyCORIS' W = A·B factor pairs (or a Tucker triple), returning it as
// a Factor and the conv kernel the Tucker core carries (nil otherwise). transposedA says that
// the Tucker form stores A transposed ([r, out]).
func lowRank(f *safetensors.File, m *Module, mp *moduleParts, pa, pb, pt keyPart, what string) (Factor, []int, safetensors.DType, error) {
	a, err := readPart(f, m, mp, pa, what+" a factor")
	if err != nil {
		return Factor{}, nil, "", err
	}
	b, err := readPart(f, m, mp, pb, what+" b factor")
	if err != nil {
		return Factor{}, nil, "", err
	}
	if _, ok := mp.names[pt]; ok {
		t, err := readPart(f, m, mp, pt, what+" Tucker core")
		if err != nil {
			return Factor{}, nil, "", err
		}
		if len(a.info.Shape) != 2 || len(b.info.Shape) != 2 {
			return Factor{}, nil, "", shapeErr(f, t, "Tucker factors must be 2-D, have %v and %v", a.info.Shape, b.info.Shape)
		}
		bm, r, cols, kernel := tuckerRows(t, b)
		if bm == nil || a.info.Shape[0] != r || r == 0 || a.info.Shape[1] == 0 {
			return Factor{}, nil, "", fileErr(f.Path, t.name, f.FileOffset(t.info), ErrRankMismatch, "core %v with factors %v and %v", t.info.Shape, a.info.Shape, b.info.Shape)
		}
		rows := a.info.Shape[1]
		return Factor{Rows: rows, Cols: cols, Rank: r, A: transpose(a.v, r, rows), B: bm}, kernel, a.info.DType, nil
	}
	as, bs := a.info.Shape, b.info.Shape
	if len(as) != 2 || len(bs) < 2 {
		return Factor{}, nil, "", shapeErr(f, b, "factors %v and %v", as, bs)
	}
	cols := 1
	for _, d := range bs[1:] {
		cols *= d
	}
	var kernel []int
	if len(bs) == 4 {
		kernel = []int{bs[2], bs[3]}
	}
	if as[1] != bs[0] {
		return Factor{}, nil, "", fileErr(f.Path, b.name, f.FileOffset(b.info), ErrRankMismatch, "%v·%v", as, bs)
	}
	if as[0] == 0 || as[1] == 0 || cols == 0 {
		return Factor{}, nil, "", shapeErr(f, b, "empty factors %v and %v", as, bs)
	}
	return Factor{Rows: as[0], Cols: cols, Rank: as[1], A: a.v, B: b.v}, kernel, a.info.DType, nil
}

// fullMatrix reads a full LoKr factor (2-D, or a 4-D conv kernel flattened to
// [b, d·kh·kw]) as the Factor W·I or I·W, whichever identity is smaller.
func fullMatrix(f *safetensors.File, m *Module, mp *moduleParts, part keyPart) (Factor, []int, safetensors.DType, error) {
	w, err := readPart(f, m, mp, part, "a full factor")
	if err != nil {
		return Factor{}, nil, "", err
	}
	s := w.info.Shape
	if (len(s) != 2 && len(s) != 4) || s[0] == 0 {
		return Factor{}, nil, "", shapeErr(f, w, "full LoKr factor of shape %v", s)
	}
	cols := 1
	for _, d := range s[1:] {
		cols *= d
	}
	if cols == 0 {
		return Factor{}, nil, "", shapeErr(f, w, "full LoKr factor of shape %v", s)
	}
	var kernel []int
	if len(s) == 4 {
		kernel = []int{s[2], s[3]}
	}
	return fullFactor(s[0], cols, w.v), kernel, w.info.DType, nil
}

// fullFactor represents a full rows×cols matrix W as a factor: W·I (rank cols) or I·W (rank
// rows), whichever is thinner.
func fullFactor(rows, cols int, w []float32) Factor {
	n := min(rows, cols)
	id := make([]float32, n*n)
	for i := 0; i < n; i++ {
		id[i*n+i] = 1
	}
	if rows < cols {
		return Factor{Rows: rows, Cols: cols, Rank: rows, A: id, B: w}
	}
	return Factor{Rows: rows, Cols: cols, Rank: cols, A: w, B: id}
}

// buildLoKr reads a LyCORIS LoKr module: ΔW = (alpha/r)·kron(W1, W2). The scale follows
// LyCORIS: alpha/r with r the LoKr dim, the rank of a factorised W (its Tucker core's, or
// w_a's), and 1 when both factors are full.
func buildLoKr(f *safetensors.File, m Module, mp *moduleParts) (Module, error) {
	var ks [2]Factor
	r := 0
	var kernel []int
	for i, parts := range [2][4]keyPart{{partLokrW1, partLokrW1A, partLokrW1B, partNone}, {partLokrW2, partLokrW2A, partLokrW2B, partLokrT2}} {
		var (
			k   []int
			dt  safetensors.DType
			err error
		)
		if _, full := mp.names[parts[0]]; full {
			ks[i], k, dt, err = fullMatrix(f, &m, mp, parts[0])
		} else {
			ks[i], k, dt, err = lowRank(f, &m, mp, parts[1], parts[2], parts[3], "LoKr w"+string(rune('1'+i)))
			if err == nil {
				r = ks[i].Rank
			}
		}
		if err != nil {
			return m, err
		}
		m.DType = dt
		if k != nil {
			if i == 0 {
				return m, fileErr(f.Path, m.Source, -1, ErrUnsupported, "LoKr w1 with a conv kernel %v (LyCORIS keeps the kernel in w2)", k)
			}
			kernel = k
		}
	}
	m.Algo = "lokr"
	m.Kron = &ks
	m.Out = ks[0].Rows * ks[1].Rows
	m.In = ks[0].Cols * ks[1].Cols
	m.Kernel = kernel
	m.Rank = max(r, 1)
	m.Alpha = float64(m.Rank)
	if r > 0 {
		if err := readAlpha(f, &m, mp); err != nil {
			return m, err
		}
	}
	area := 0
	if kernel != nil {
		area = kernel[0] * kernel[1]
	}
	m.Kind, m.Attn = classifyModule(m.Name, area)
	return m, nil
}

// maxHadaRank bounds r₁·r₂ of a LoHa module's exact factorisation (LoHa dims above 64 are
// not in use; the factor Gram matrices grow with its square).
const maxHadaRank = 4096

// buildLoHa reads a LyCORIS LoHa module into the exact factorisation of its Hadamard product.
func buildLoHa(f *safetensors.File, m Module, mp *moduleParts) (Module, error) {
	w1, k1, dt, err := lowRank(f, &m, mp, partHadaW1A, partHadaW1B, partHadaT1, "LoHa w1")
	if err != nil {
		return m, err
	}
	w2, k2, _, err := lowRank(f, &m, mp, partHadaW2A, partHadaW2B, partHadaT2, "LoHa w2")
	if err != nil {
		return m, err
	}
	if w1.Rows != w2.Rows || w1.Cols != w2.Cols {
		return m, fileErr(f.Path, mp.names[partHadaW2B], -1, ErrShapeMismatch, "LoHa halves %dx%d and %dx%d", w1.Rows, w1.Cols, w2.Rows, w2.Cols)
	}
	if (k1 == nil) != (k2 == nil) || (k1 != nil && (k1[0] != k2[0] || k1[1] != k2[1])) {
		return m, fileErr(f.Path, m.Source, -1, ErrShapeMismatch, "LoHa halves with kernels %v and %v", k1, k2)
	}
	rr := w1.Rank * w2.Rank
	if rr > maxHadaRank {
		return m, fileErr(f.Path, m.Source, -1, ErrUnsupported, "LoHa ranks %d·%d above %d", w1.Rank, w2.Rank, maxHadaRank)
	}
	rows, cols, r1 := w1.Rows, w1.Cols, w1.Rank
	var p, q []float32
	if rr < min(rows, cols) {
		p, q = khatriRao(w1, w2)
	} else {
		// The product's rank exceeds the matrix's: W1⊙W2 itself, as the thinner full factor.
		ff := fullFactor(rows, cols, hadamard(w1, w2))
		p, q, rr = ff.A, ff.B, ff.Rank
	}
	// LyCORIS scales by alpha/r with r the LoHa dim (w1's rank); Up·Down has rank r₁·r₂.
	alpha := float64(r1)
	mm := m
	mm.Alpha = alpha
	if err := readAlpha(f, &mm, mp); err != nil {
		return m, err
	}
	m.Algo = "loha"
	m.DType = dt
	m.Up, m.Down, m.Rank, m.Out, m.In, m.Kernel = p, q, rr, rows, cols, k1
	m.Alpha = mm.Alpha / float64(r1) * float64(rr)
	if m.Alpha == 0 && mm.Alpha != 0 {
		m.Alpha = mm.Alpha // rr·alpha/r underflowed; keep the sign of the scale
	}
	area := 0
	if k1 != nil {
		area = k1[0] * k1[1]
	}
	m.Kind, m.Attn = classifyModule(m.Name, area)
	return m, nil
}

// khatriRao returns P (rows × r₁r₂) and Q (r₁r₂ × cols) with P·Q = (A1·B1)⊙(A2·B2):
// P[i, (a, b)] = A1[i, a]·A2[i, b] and Q[(a, b), j] = B1[a, j]·B2[b, j].
func khatriRao(w1, w2 Factor) ([]float32, []float32) {
	rows, cols, r1, r2 := w1.Rows, w1.Cols, w1.Rank, w2.Rank
	rr := r1 * r2
	p := make([]float32, rows*rr)
	for i := 0; i < rows; i++ {
		a1, a2, pi := w1.A[i*r1:(i+1)*r1], w2.A[i*r2:(i+1)*r2], p[i*rr:(i+1)*rr]
		for a, x := range a1 {
			for b, y := range a2 {
				pi[a*r2+b] = x * y
			}
		}
	}
	q := make([]float32, rr*cols)
	for a := 0; a < r1; a++ {
		b1 := w1.B[a*cols : (a+1)*cols]
		for b := 0; b < r2; b++ {
			b2, qi := w2.B[b*cols:(b+1)*cols], q[(a*r2+b)*cols:(a*r2+b+1)*cols]
			for j := range qi {
				qi[j] = b1[j] * b2[j]
			}
		}
	}
	return p, q
}

// hadamard returns (A1·B1)⊙(A2·B2) as a dense rows × cols matrix.
func hadamard(w1, w2 Factor) []float32 {
	rows, cols := w1.Rows, w1.Cols
	out := make([]float32, rows*cols)
	row1, row2 := make([]float64, cols), make([]float64, cols)
	prod := func(f Factor, i int, dst []float64) {
		for j := range dst {
			dst[j] = 0
		}
		for k := 0; k < f.Rank; k++ {
			a := float64(f.A[i*f.Rank+k])
			if a == 0 {
				continue
			}
			for j, b := range f.B[k*cols : (k+1)*cols] {
				dst[j] += a * float64(b)
			}
		}
	}
	for i := 0; i < rows; i++ {
		prod(w1, i, row1)
		prod(w2, i, row2)
		for j := range row1 {
			out[i*cols+j] = float32(row1[j] * row2[j])
		}
	}
	return out
}
