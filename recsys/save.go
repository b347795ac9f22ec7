package recsys

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Saved models start with this magic and a format version, followed by the model name and a
// gob-encoded snapshot of its weights.
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

// Save writes a fitted model.
func Save(w io.Writer, m Model) error {
	enc := gob.NewEncoder(w)
	var snap any
	switch m := m.(type) {
	case *ItemKNN:
		if m.byHistory == nil {
			return ErrNotFitted
		}
		snap = knnSnapshot{Options: m.Options, W: *m.byHistory, NumUsers: m.numUsers}
	case *UserKNN:
		if m.R == nil {
			return ErrNotFitted
		}
		snap = knnSnapshot{Options: m.Options, W: *m.nbrs, R: *m.R}
	case *Item2Vec:
		if m.in == nil {
			return ErrNotFitted
		}
		snap = item2vecSnapshot{Options: m.Options, In: m.in, Out: m.out, NumItems: m.numItems, NumUsers: m.numUsers}
	case *TwoTower:
		if m.flat == nil {
			return ErrNotFitted
		}
		snap = twoTowerSnapshot{Options: m.Options, Flat: m.flat, NumItems: m.numItems, NumUsers: m.numUsers, VecDim: m.vecDim}
	case *SASRec:
		if m.net == nil {
			return ErrNotFitted
		}
		snap = sasrecSnapshot{Options: m.Options, Items: m.net.items, NumUsers: m.numUsers, Flat: m.net.p.flat}
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

// SaveFile writes a fitted model to path through a temporary file in the same folder that is
// renamed into place, so a reader never sees a partial file.
func SaveFile(path string, m Model) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("recsys: save: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	if err = Save(bw, m); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("recsys: save %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("recsys: save %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("recsys: save %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("recsys: save %s: %w", path, err)
	}
	return nil
}

// LoadFile reads a model written by SaveFile.
func LoadFile(path string) (Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recsys: load: %w", err)
	}
	defer f.Close()
	m, err := Load(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}

var errCorrupt = errors.New("recsys: load: corrupt model")

// Load reads a model written by Save and checks that its shapes agree.
func Load(r io.Reader) (Model, error) {
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
		if err := validCSR(&s.W, "W"); err != nil {
			return nil, err
		}
		if h.Model == "itemknn" {
			if s.W.Rows != s.W.Cols || s.NumUsers < 0 {
				return nil, fmt.Errorf("%w: itemknn similarity is %d×%d", errCorrupt, s.W.Rows, s.W.Cols)
			}
			W := s.W
			return &ItemKNN{Options: s.Options, byHistory: &W, numUsers: s.NumUsers}, nil
		}
		if err := validCSR(&s.R, "R"); err != nil {
			return nil, err
		}
		if s.W.Rows != s.W.Cols || s.W.Rows != s.R.Rows {
			return nil, fmt.Errorf("%w: userknn similarity %d×%d for %d users", errCorrupt, s.W.Rows, s.W.Cols, s.R.Rows)
		}
		m := &UserKNN{Options: s.Options}
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
		d := s.Options.withDefaults().Dim
		if s.NumItems <= 0 || s.NumUsers < 0 || len(s.In) != s.NumItems*d || len(s.Out) != len(s.In) {
			return nil, fmt.Errorf("%w: item2vec has %d input values for %d items of dim %d", errCorrupt, len(s.In), s.NumItems, d)
		}
		m := &Item2Vec{Options: s.Options, in: s.In, out: s.Out, numItems: s.NumItems, numUsers: s.NumUsers}
		m.unit = unitRows(s.In, s.NumItems, d)
		return m, nil
	case "twotower":
		var s twoTowerSnapshot
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("recsys: load twotower: weights: %w", err)
		}
		o := s.Options.withDefaults()
		n, d := s.NumItems, o.Dim
		if n <= 0 || s.NumUsers < 0 || s.VecDim < 0 || len(s.Flat) != 2*n*d+d*d+s.VecDim*d || len(s.Options.ItemVectors) != n*s.VecDim {
			return nil, fmt.Errorf("%w: twotower has %d weights for %d items of dim %d", errCorrupt, len(s.Flat), n, d)
		}
		m := &TwoTower{Options: s.Options, numItems: n, numUsers: s.NumUsers, vecDim: s.VecDim, flat: s.Flat}
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
		o := s.Options.withDefaults()
		if s.Items <= 0 || s.NumUsers < 0 || len(s.Flat) != sasParamCount(s.Items, o.MaxLen, o.Hidden, o.Blocks) {
			return nil, fmt.Errorf("%w: sasrec has %d weights for %d items", errCorrupt, len(s.Flat), s.Items)
		}
		m := &SASRec{Options: s.Options, numUsers: s.NumUsers}
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
