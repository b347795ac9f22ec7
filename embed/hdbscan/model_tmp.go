package hdbscan

import (
	"context"
	"errors"
)

type model struct{}

func newModel(m *matrix, core []float64, r *Result, p params) *model { return nil }

func approxMST(ctx context.Context, m *matrix, p params) ([]float64, []Edge, error) {
	return nil, nil, errors.New("hdbscan: approximate mode not available yet")
}
