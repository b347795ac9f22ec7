package recsys

import (
	"errors"
	"fmt"
	"sort"
)

// Interactions are user–item events as one time-ordered item sequence per user (paper §5.2:
// users, and LoRA versions or images as items). Seqs[u] holds dense item indices in
// 0..NumItems-1, oldest first.
type Interactions struct {
	Users *IDMap
	Items *IDMap
	Seqs  [][]int32
}

// ErrEmpty is returned for data with no users or no interactions.
var ErrEmpty = errors.New("recsys: no interactions")

// NewInteractions builds Interactions from plain sequences of dense item indices (one slice
// per user, oldest first); user and item identifiers are their decimal indices.
func NewInteractions(seqs [][]int32, numItems int) (*Interactions, error) {
	if len(seqs) == 0 || numItems <= 0 {
		return nil, ErrEmpty
	}
	in := &Interactions{Users: NewIDMap(), Items: NewIDMap(), Seqs: make([][]int32, len(seqs))}
	for i := 0; i < numItems; i++ {
		in.Items.Add(fmt.Sprint(i))
	}
	for u, s := range seqs {
		in.Users.Add(fmt.Sprint(u))
		for pos, it := range s {
			if it < 0 || int(it) >= numItems {
				return nil, fmt.Errorf("recsys: user %d position %d: item %d outside 0..%d", u, pos, it, numItems-1)
			}
		}
		in.Seqs[u] = append([]int32(nil), s...)
	}
	return in, nil
}

// NumUsers is the number of users.
func (in *Interactions) NumUsers() int { return len(in.Seqs) }

// NumItems is the number of items.
func (in *Interactions) NumItems() int { return in.Items.Len() }

// NumInteractions is the number of events.
func (in *Interactions) NumInteractions() int {
	n := 0
	for _, s := range in.Seqs {
		n += len(s)
	}
	return n
}

// CSR is a compressed sparse row matrix of float32 values: row r holds columns
// Indices[Indptr[r]:Indptr[r+1]] (ascending) with Values at the same positions.
type CSR struct {
	Rows, Cols int
	Indptr     []int
	Indices    []int32
	Values     []float32
}

// NewCSR builds the rows×cols user×item matrix of the sequences: entry (u, i) counts how many
// times user u holds item i, as a sparse matrix built from repeated ones sums them (the
// RecBole interaction matrix does the same).
func NewCSR(seqs [][]int32, cols int) *CSR {
	c := &CSR{Rows: len(seqs), Cols: cols, Indptr: make([]int, len(seqs)+1)}
	var row []int32
	for r, s := range seqs {
		row = append(row[:0], s...)
		sort.Slice(row, func(a, b int) bool { return row[a] < row[b] })
		for k := 0; k < len(row); {
			j := k
			for j < len(row) && row[j] == row[k] {
				j++
			}
			c.Indices = append(c.Indices, row[k])
			c.Values = append(c.Values, float32(j-k))
			k = j
		}
		c.Indptr[r+1] = len(c.Indices)
	}
	return c
}

// Row returns the column indices and values of row r.
func (c *CSR) Row(r int) ([]int32, []float32) {
	lo, hi := c.Indptr[r], c.Indptr[r+1]
	return c.Indices[lo:hi], c.Values[lo:hi]
}

// Transpose returns the cols×rows transpose.
func (c *CSR) Transpose() *CSR {
	t := &CSR{Rows: c.Cols, Cols: c.Rows, Indptr: make([]int, c.Cols+1),
		Indices: make([]int32, len(c.Indices)), Values: make([]float32, len(c.Values))}
	for _, j := range c.Indices {
		t.Indptr[j+1]++
	}
	for j := 0; j < c.Cols; j++ {
		t.Indptr[j+1] += t.Indptr[j]
	}
	next := append([]int(nil), t.Indptr[:c.Cols]...)
	for r := 0; r < c.Rows; r++ {
		for k := c.Indptr[r]; k < c.Indptr[r+1]; k++ {
			j := c.Indices[k]
			p := next[j]
			t.Indices[p] = int32(r)
			t.Values[p] = c.Values[k]
			next[j]++
		}
	}
	return t
}
