package hdbscan

type model struct{}

func newModel(m *matrix, core []float64, r *Result, p params) *model { return nil }
