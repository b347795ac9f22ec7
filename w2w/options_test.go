package w2w

import (
	"math"
	"testing"

	"github.com/imagegem/imagegem-go/w2w/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every options type: nil and the zero value give the reference defaults, and each field's
// out-of-range values are refused with ErrInvalidOptions, never replaced.
func TestOptionsRejectOutOfRange(t *testing.T) {
	nan := math.NaN()
	bad := []struct {
		name    string
		resolve func() error
	}{
		{"Direction.Classifier", func() error { _, err := (&DirectionOptions{Classifier: "lda"}).resolve(); return err }},
		{"Direction.Lambda<0", func() error { _, err := (&DirectionOptions{Lambda: -1}).resolve(); return err }},
		{"Direction.Lambda=NaN", func() error { _, err := (&DirectionOptions{Lambda: nan}).resolve(); return err }},
		{"Direction.Lambda=Inf", func() error { _, err := (&DirectionOptions{Lambda: math.Inf(1)}).resolve(); return err }},
		{"Direction.MaxIter", func() error { _, err := (&DirectionOptions{MaxIter: -3}).resolve(); return err }},
		{"Write.DType", func() error { _, err := (&WriteOptions{DType: safetensors.I64}).resolve(); return err }},
		{"Write.DType unknown", func() error { _, err := (&WriteOptions{DType: "F8"}).resolve(); return err }},
		{"Layout.Selection", func() error { _, err := (&LayoutOptions{Selection: "attn_k"}).resolve(); return err }},
		{"Layout.Components", func() error { _, err := (&LayoutOptions{Components: []Component{UNet, "vae"}}).resolve(); return err }},
		{"Layout.RefIterations", func() error { _, err := (&LayoutOptions{RefIterations: -1}).resolve(); return err }},
		{"Label.PersonMin<0", func() error { _, err := (&LabelOptions{PersonMin: -0.1}).resolve(); return err }},
		{"Label.RealisticMin>1", func() error { _, err := (&LabelOptions{RealisticMin: 1.5}).resolve(); return err }},
		{"Label.AnimeMin=NaN", func() error { _, err := (&LabelOptions{AnimeMin: nan}).resolve(); return err }},
		{"Space.Components<0", func() error { _, err := (&SpaceOptions{Components: -1}).resolve(10, 100); return err }},
		{"Space.Components>n-1", func() error { _, err := (&SpaceOptions{Components: 10}).resolve(10, 100); return err }},
		{"Space.Method", func() error { _, err := (&SpaceOptions{Method: "svd"}).resolve(10, 100); return err }},
		{"Space.Oversample", func() error { _, err := (&SpaceOptions{Oversample: -1}).resolve(10, 100); return err }},
		{"Space.PowerIterations", func() error { _, err := (&SpaceOptions{PowerIterations: -2}).resolve(10, 100); return err }},
	}
	for _, c := range bad {
		err := c.resolve()
		assert.ErrorIs(t, err, ErrInvalidOptions, c.name)
		if err != nil {
			assert.Contains(t, err.Error(), "w2w: invalid options: ", c.name)
		}
	}

	d, err := (*DirectionOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, Logistic, d.Classifier)
	assert.Equal(t, 1.0, d.Lambda)
	assert.Equal(t, defaultMaxIter, d.MaxIter)
	assert.Equal(t, DefaultBackend(), d.Backend)

	w, err := (&WriteOptions{}).resolve()
	require.NoError(t, err)
	assert.Equal(t, safetensors.F32, w.DType)

	l, err := (*LayoutOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, SelectAll, l.Selection)
	assert.Equal(t, 100, l.RefIterations)

	lb, err := (&LabelOptions{AnimeMin: 0.3}).resolve()
	require.NoError(t, err)
	assert.Equal(t, LabelOptions{PersonMin: PersonMinScore, RealisticMin: RealisticMinScore, AnimeMin: 0.3}, lb)

	// The default component count is capped by the population (n − 1); an explicit one is not.
	s, err := (*SpaceOptions)(nil).resolve(10, 100)
	require.NoError(t, err)
	assert.Equal(t, 9, s.Components)
	assert.Equal(t, PCAGram, s.Method)
	assert.Equal(t, defaultOversample, s.Oversample)
	assert.Equal(t, defaultPowerIterations, s.PowerIterations)
	s, err = (&SpaceOptions{}).resolve(5000, 100)
	require.NoError(t, err)
	assert.Equal(t, DefaultComponents, s.Components)
	assert.Equal(t, PCARandomized, s.Method, "n > 2048 and n·4 > d: randomized")

	for _, r := range []Backend{(*ReduceOptions)(nil).resolve().Backend, (*EditOptions)(nil).resolve().Backend,
		(*FlattenOptions)(nil).resolve().Backend, (*ProjectOptions)(nil).resolve().Backend} {
		assert.Equal(t, DefaultBackend(), r)
	}
}

// The entry points return the resolve errors.
func TestEntryPointsRefuseInvalidOptions(t *testing.T) {
	_, _, err := AnimeRealisticLabel(nil, &LabelOptions{PersonMin: 2})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, _, err = TrainDirection([]float64{1, 2}, 2, 1, []int{1, -1}, &DirectionOptions{MaxIter: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewLayout(t.Context(), nil, &LayoutOptions{Selection: "x"})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, _, err = NewFixedRankLayout(nil, 1, &LayoutOptions{RefIterations: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	lay := &Layout{Family: SD1, Modules: []LayoutModule{{Name: "m", Out: 2, In: 2}}}
	lay.finish()
	_, err = BuildSpace(t.Context(), lay, make([]float32, 3*lay.Dim), 3, &SpaceOptions{Components: 5})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	err = WriteRank1LoRA(t.TempDir()+"/x.safetensors", &Reduced{}, &WriteOptions{DType: "U8"})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}
