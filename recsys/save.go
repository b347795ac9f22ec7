package recsys

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// A saved model is a gob stream of two values: a savedHeader (the magic, the format version
// and the model name) and the model's snapshot (its resolved options, the shapes and the
// weights as flat float32 slices or CSR matrices). The options' Progress callbacks are not
// stored (gob skips func fields).
const (
	saveMagic   = "IGRECSYS"
	saveVersion = 1
)

type savedHeader struct {
	Magic   string
	Version int
	Model   string
}

type knnSnapshot struct {
	Options  KNNOptions
	W        CSR
	R        CSR
	NumUsers int
}

type item2vecSnapshot struct {
	Options            Item2VecOptions
	In, Out            []float32
	NumItems, NumUsers int
}

type twoTowerSnapshot struct {
	Options                    TwoTowerOptions
	Flat                       []float32
	NumItems, NumUsers, VecDim int
}

type sasrecSnapshot struct {
	Options         SASRecOptions
	Items, NumUsers int
	Flat            []float32
}

// WriteModel writes a fitted model to w in the format LoadModel reads.
func WriteModel(w io.Writer, m Model) error {
	enc := gob.NewEncoder(w)
	var snap any
	switch m := m.(type) {
	case *ItemKNN:
		if m.byHistory == nil {
			return ErrNotFitted
		}
		snap = knnSnapshot{Options: m.opt, W: *m.byHistory, NumUsers: m.numUsers}
	case *UserKNN:
		if m.R == nil {
			return ErrNotFitted
		}
		snap = knnSnapshot{Options: m.opt, W: *m.nbrs, R: *m.R}
	case *Item2Vec:
		if m.in == nil {
			return ErrNotFitted
		}
		snap = item2vecSnapshot{Options: m.opt, In: m.in, Out: m.out, NumItems: m.numItems, NumUsers: m.numUsers}
	case *TwoTower:
		if m.flat == nil {
			return ErrNotFitted
		}
		snap = twoTowerSnapshot{Options: m.opt, Flat: m.flat, NumItems: m.numItems, NumUsers: m.numUsers, VecDim: m.vecDim}
	case *SASRec:
		if m.net == nil {
			return ErrNotFitted
		}
		snap = sasrecSnapshot{Options: m.opt, Items: m.net.items, NumUsers: m.numUsers, Flat: m.net.p.flat}
	default:
		return fmt.Errorf("recsys: save: unsupported model type %T", m)
	}
	if err := enc.Encode(savedHeader{Magic: saveMagic, Version: saveVersion, Model: m.Name()}); err != nil {
		return fmt.Errorf("recsys: save %s: %w", m.Name(), err)
	}
	if err := enc.Encode(snap); err != nil {
		return fmt.Errorf("recsys: save %s: %w", m.Name(), err)
	}
	return nil
}

// SaveModelFile writes a fitted model to path atomically: through a temporary file in the
// same folder that is synced and renamed into place, so that a reader never sees a partial
// file; on error or cancellation the destination is left as it was. A path that names one
// of inputs (the same file, a hard link or a symbolic link) is refused with an error
// wrapping ErrOverwritesInput.
func SaveModelFile(ctx context.Context, path string, m Model, inputs ...string) error {
	var modelErr error // already prefixed by WriteModel
	err := atomicfile.Write(ctx, path, &atomicfile.Options{Inputs: inputs}, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if modelErr = WriteModel(bw, m); modelErr != nil {
			return modelErr
		}
		return bw.Flush()
	})
	switch {
	case modelErr != nil:
		return modelErr
	case err != nil:
		return fmt.Errorf("recsys: save: %w", err)
	}
	return nil
}

// LoadModelFile reads a model written by SaveModelFile.
func LoadModelFile(path string) (Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recsys: load: %w", err)
	}
	defer f.Close()
	m, err := ReadModel(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}

var errCorrupt = errors.New("recsys: load: corrupt model")

// ReadModel reads a model written by WriteModel and checks its options and that its shapes
// agree.
func ReadModel(r io.Reader) (Model, error) {
	dec := gob.NewDecoder(r)
	var h savedHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("recsys: load: header: %w", err)
	}
	if h.Magic != saveMagic || h.Version != saveVersion {
		return nil, fmt.Errorf("recsys: load: header: magic %q version %d, want %q version %d", h.Magic, h.Version, saveMagic, saveVersion)
	}
	switch h.Model {
	case "itemknn", "userknn":
		var s knnSnapshot
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("recsys: load %s: weights: %w", h.Model, err)
		}
		o, err := s.Options.resolve()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errCorrupt, h.Model, err)
		}
		if err := validCSR(&s.W, "W"); err != nil {
			return nil, err
		}
		if h.Model == "itemknn" {
			if s.W.Rows != s.W.Cols || s.NumUsers < 0 {
				return nil, fmt.Errorf("%w: itemknn similarity is %d×%d", errCorrupt, s.W.Rows, s.W.Cols)
			}
			W := s.W
			return &ItemKNN{opt: o, byHistory: &W, numUsers: s.NumUsers}, nil
		}
		if err := validCSR(&s.R, "R"); err != nil {
			return nil, err
		}
		if s.W.Rows != s.W.Cols || s.W.Rows != s.R.Rows {
			return nil, fmt.Errorf("%w: userknn similarity %d×%d for %d users", errCorrupt, s.W.Rows, s.W.Cols, s.R.Rows)
		}
		m := &UserKNN{opt: o}
		W, R := s.W, s.R
		m.nbrs, m.R, m.Rt = &W, &R, R.Transpose()
		m.norms = make([]float64, R.Rows)
		for u := range m.norms {
			_, v := R.Row(u)
			var ss float64
			for _, x := range v {
				ss += float64(x) * float64(x)
			}
			m.norms[u] = math.Sqrt(ss)
		}
		return m, nil
	case "item2vec":
		var s item2vecSnapshot
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("recsys: load item2vec: weights: %w", err)
		}
		o, err := s.Options.resolve()
		if err != nil {
			return nil, fmt.Errorf("%w: item2vec: %w", errCorrupt, err)
		}
		d := o.Dim
		if s.NumItems <= 0 || s.NumUsers < 0 || len(s.In) != s.NumItems*d || len(s.Out) != len(s.In) {
			return nil, fmt.Errorf("%w: item2vec has %d input values for %d items of dim %d", errCorrupt, len(s.In), s.NumItems, d)
		}
		m := &Item2Vec{opt: o, in: s.In, out: s.Out, numItems: s.NumItems, numUsers: s.NumUsers}
		m.unit = unitRows(s.In, s.NumItems, d)
		return m, nil
	case "twotower":
		var s twoTowerSnapshot
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("recsys: load twotower: weights: %w", err)
		}
		o, err := s.Options.resolve()
		if err != nil {
			return nil, fmt.Errorf("%w: twotower: %w", errCorrupt, err)
		}
		n, d := s.NumItems, o.Dim
		if n <= 0 || s.NumUsers < 0 || s.VecDim < 0 || len(s.Flat) != 2*n*d+d*d+s.VecDim*d || len(s.Options.ItemVectors) != n*s.VecDim {
			return nil, fmt.Errorf("%w: twotower has %d weights for %d items of dim %d", errCorrupt, len(s.Flat), n, d)
		}
		m := &TwoTower{opt: o, numItems: n, numUsers: s.NumUsers, vecDim: s.VecDim, flat: s.Flat}
		m.e, m.c, m.w, m.p = m.flat[:n*d], m.flat[n*d:2*n*d], m.flat[2*n*d:2*n*d+d*d], m.flat[2*n*d+d*d:]
		m.itemVecs = make([]float32, n*d)
		for i := 0; i < n; i++ {
			normalize32(m.itemRaw(int32(i), m.itemVecs[i*d:i*d+d]))
		}
		return m, nil
	case "sasrec":
		var s sasrecSnapshot
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("recsys: load sasrec: weights: %w", err)
		}
		o, err := s.Options.resolve()
		if err != nil {
			return nil, fmt.Errorf("%w: sasrec: %w", errCorrupt, err)
		}
		if s.Items <= 0 || s.NumUsers < 0 || len(s.Flat) != sasParamCount(s.Items, o.MaxLen, o.Hidden, o.Blocks) {
			return nil, fmt.Errorf("%w: sasrec has %d weights for %d items", errCorrupt, len(s.Flat), s.Items)
		}
		m := &SASRec{opt: o, numUsers: s.NumUsers}
		p := layoutSAS(s.Flat, s.Items, o.MaxLen, o.Hidden, o.Blocks)
		m.net = &sasNet{items: s.Items, maxLen: o.MaxLen, d: o.Hidden, blocks: o.Blocks, dropout: float32(o.Dropout), p: p}
		return m, nil
	}
	return nil, fmt.Errorf("recsys: load: unknown model %q", h.Model)
}

// validCSR checks the structure of a decoded sparse matrix.
func validCSR(c *CSR, name string) error {
	if c.Rows < 0 || c.Cols < 0 || len(c.Indptr) != c.Rows+1 || len(c.Indices) != len(c.Values) {
		return fmt.Errorf("%w: matrix %s shape %d×%d with %d row pointers", errCorrupt, name, c.Rows, c.Cols, len(c.Indptr))
	}
	if c.Indptr[0] != 0 || c.Indptr[c.Rows] != len(c.Indices) {
		return fmt.Errorf("%w: matrix %s row pointers do not span its %d entries", errCorrupt, name, len(c.Indices))
	}
	for r := 0; r < c.Rows; r++ {
		if c.Indptr[r+1] < c.Indptr[r] {
			return fmt.Errorf("%w: matrix %s row %d pointers decrease", errCorrupt, name, r)
		}
	}
	for k, j := range c.Indices {
		if j < 0 || int(j) >= c.Cols {
			return fmt.Errorf("%w: matrix %s entry %d column %d outside 0..%d", errCorrupt, name, k, j, c.Cols-1)
		}
	}
	return nil
}
