package recsys

// must returns v, panicking on err: for test models built from options known to be valid.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
