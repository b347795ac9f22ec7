package recsys

import (
	"context"
	"errors"
	"fmt"
)

// Model is a retrieval recommender (paper §4.2, the first stage of the two-stage pipeline).
//
// Fit trains on the training part of a split; it may be called once. After Fit, Score may be
// called from several goroutines at once: it writes one score per item into dst (len
// NumItems) for the user whose known items, oldest first, are history. user is the dense user
// index the model was fitted with, or -1 for a user it never saw (a cold user, scored from
// history alone). Higher scores rank first.
type Model interface {
	Name() string
	Fit(ctx context.Context, s *Split) error
	Score(user int, history []int32, dst []float32) error
	// Sequential reports whether the model reads history as an ordered sequence; full-ranking
	// evaluation masks the history of non-sequential models only (RecBole's convention).
	Sequential() bool
}

var (
	// ErrNotFitted is returned by Score before Fit.
	ErrNotFitted = errors.New("recsys: model is not fitted")
	// ErrNoHistory is returned by Score for an empty history.
	ErrNoHistory = errors.New("recsys: empty history")
)

// checkScoreArgs validates the common Score arguments.
func checkScoreArgs(name string, numUsers, numItems int, user int, history []int32, dstLen int) error {
	if numItems == 0 {
		return fmt.Errorf("%w (%s)", ErrNotFitted, name)
	}
	if len(history) == 0 {
		return fmt.Errorf("%w (%s, user %d)", ErrNoHistory, name, user)
	}
	if user < -1 || user >= numUsers {
		return fmt.Errorf("recsys: %s: user %d outside -1..%d", name, user, numUsers-1)
	}
	if dstLen != numItems {
		return fmt.Errorf("recsys: %s: score buffer has %d entries, model has %d items", name, dstLen, numItems)
	}
	for k, it := range history {
		if it < 0 || int(it) >= numItems {
			return fmt.Errorf("recsys: %s: history position %d: unknown item %d (model has %d items)", name, k, it, numItems)
		}
	}
	return nil
}

// checkSplit validates a split handed to Fit.
func checkSplit(name string, s *Split) error {
	if s == nil || s.NumUsers() == 0 || s.NumItems <= 0 {
		return fmt.Errorf("recsys: %s: %w", name, ErrEmpty)
	}
	for u, seq := range s.Train {
		for k, it := range seq {
			if it < 0 || int(it) >= s.NumItems {
				return fmt.Errorf("recsys: %s: user %d position %d: item %d outside 0..%d", name, u, k, it, s.NumItems-1)
			}
		}
	}
	return nil
}
