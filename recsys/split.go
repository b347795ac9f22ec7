package recsys

import "fmt"

// MinSplitLength is the shortest sequence that gets a validation and a test item; shorter
// users keep everything for training and are not evaluated (kang205/SASRec util.py
// data_partition, RecBole's leave-one-out "LS" split).
const MinSplitLength = 3

// Split is the leave-one-last split of paper §5.2: each user's last item is the test item,
// the one before it the validation item, the rest is training. Valid[u] and Test[u] are -1
// for users with fewer than MinSplitLength items.
type Split struct {
	NumItems int
	Train    [][]int32
	Valid    []int32
	Test     []int32
}

// LeaveOneLast splits the interactions. It is an error when no user can be evaluated.
func LeaveOneLast(in *Interactions) (*Split, error) {
	if in == nil || len(in.Seqs) == 0 || in.NumItems() == 0 {
		return nil, ErrEmpty
	}
	s := &Split{NumItems: in.NumItems(), Train: make([][]int32, len(in.Seqs)),
		Valid: make([]int32, len(in.Seqs)), Test: make([]int32, len(in.Seqs))}
	evaluated := 0
	for u, seq := range in.Seqs {
		if len(seq) < MinSplitLength {
			s.Train[u], s.Valid[u], s.Test[u] = seq, -1, -1
			continue
		}
		n := len(seq)
		s.Train[u], s.Valid[u], s.Test[u] = seq[:n-2:n-2], seq[n-2], seq[n-1]
		evaluated++
	}
	if evaluated == 0 {
		return nil, fmt.Errorf("recsys: leave-one-last split: no user has %d or more interactions", MinSplitLength)
	}
	return s, nil
}

// NumUsers is the number of users.
func (s *Split) NumUsers() int { return len(s.Train) }

// History returns the items known before the held-out item of user u: the training items for
// the validation stage, and the training items followed by the validation item for the test
// stage (RecBole feeds the validation item to sequential models at test time).
func (s *Split) History(u int, stage Stage) []int32 {
	if stage == StageTest && s.Valid[u] >= 0 {
		h := make([]int32, len(s.Train[u])+1)
		copy(h, s.Train[u])
		h[len(h)-1] = s.Valid[u]
		return h
	}
	return s.Train[u]
}

// Target returns the held-out item of user u at the stage, or -1.
func (s *Split) Target(u int, stage Stage) int32 {
	if stage == StageTest {
		return s.Test[u]
	}
	return s.Valid[u]
}

// Stage selects the held-out item: validation or test.
type Stage int

const (
	// StageTest evaluates on each user's last item (the default).
	StageTest Stage = iota
	// StageValid evaluates on the item before it.
	StageValid
)
