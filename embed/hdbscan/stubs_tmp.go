package hdbscan

import (
	"context"
	"errors"
)

type model struct{}

func newModel(m *matrix, core []float64, r *Result, p params) *model { return nil }

var errPending = errors.New("hdbscan: mode not available yet")

func fastMST(ctx context.Context, m *matrix, p params) ([]float64, []Edge, error) {
	return nil, nil, errPending
}
func approxMST(ctx context.Context, m *matrix, p params) ([]float64, []Edge, error) {
	return nil, nil, errPending
}
