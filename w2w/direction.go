package w2w

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Classifier names the linear model that turns binary labels into a direction (paper §5.3:
// "a linear classifier separates the LoRAs a user prefers from the rest").
type Classifier string

// Classifiers.
const (
	// Logistic is L2-regularised logistic regression, fitted by Newton's method.
	Logistic Classifier = "logistic"
	// SVM is a linear support vector machine with the squared hinge loss (the L2-loss SVM of
	// LIBLINEAR), fitted by generalised Newton steps.
	SVM Classifier = "svm"
	// PseudoInverse is the least-squares direction pinv([C 1])·y that the weights2weights code
	// uses: the minimum-norm regression of the labels on the coefficients.
	PseudoInverse Classifier = "pinv"
)

// Defaults of [DirectionOptions].
const (
	// defaultLambda is the L2 penalty on standardised coefficients, matching scikit-learn's
	// and LIBLINEAR's default C = 1 (λ = 1/C with summed losses).
	defaultLambda = 1.0
	// defaultMaxIter bounds the Newton iterations; both losses converge in well under 50.
	defaultMaxIter = 100
	// newtonTol stops Newton when the decrement (a measure of the remaining loss reduction)
	// falls below it.
	newtonTol = 1e-10
)

// DirectionOptions configures direction learning. The zero value is logistic regression with
// λ = 1.
type DirectionOptions struct {
	Classifier Classifier
	// Lambda is the L2 penalty (0 means 1); the pseudo-inverse ignores it.
	Lambda  float64
	MaxIter int
	// Backend maps the direction back to weight space; nil means [DefaultBackend].
	Backend Backend
}

// Direction is a preference direction of a space.
type Direction struct {
	Classifier Classifier
	// Coef is the unit normal of the classifier's hyperplane in PCA coordinates, oriented so
	// the preferred class (+1) lies on its positive side.
	Coef []float64
	// Vector is the same direction in flattened weight space, raw units (the standardisation
	// undone), unit length: the v of θ_edit = θ + α·v.
	Vector []float32
	// Accuracy is the classifier's accuracy on its training labels.
	Accuracy float64
}

// checkLabels validates ±1 labels with both classes present.
func checkLabels(labels []int, n int) error {
	if len(labels) != n {
		return fmt.Errorf("w2w: direction: %w: %d labels for %d vectors", ErrBadLabels, len(labels), n)
	}
	pos, neg := 0, 0
	for i, y := range labels {
		switch y {
		case 1:
			pos++
		case -1:
			neg++
		default:
			return fmt.Errorf("w2w: direction: %w: label %d of row %d is not 1 or -1", ErrBadLabels, y, i)
		}
	}
	if pos == 0 || neg == 0 {
		return fmt.Errorf("w2w: direction: %w: %d preferred and %d not preferred; both classes are needed", ErrBadLabels, pos, neg)
	}
	return nil
}

// TrainDirection fits the classifier on n coefficient rows (n×m row-major) with labels ±1
// and returns the unit normal (m) oriented toward the +1 class, and the training accuracy.
func TrainDirection(coef []float64, n, m int, labels []int, opts *DirectionOptions) ([]float64, float64, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, 0, err
	}
	if m <= 0 || len(coef) != n*m {
		return nil, 0, fmt.Errorf("w2w: direction: %w: %d coefficients for %d rows of %d", ErrLayout, len(coef), n, m)
	}
	if err := checkLabels(labels, n); err != nil {
		return nil, 0, err
	}
	// Standardise columns so one λ suits every space; the normal maps back as w_k/sd_k.
	mu, sd := make([]float64, m), make([]float64, m)
	for i := 0; i < n; i++ {
		for k := 0; k < m; k++ {
			mu[k] += coef[i*m+k]
		}
	}
	for k := range mu {
		mu[k] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for k := 0; k < m; k++ {
			d := coef[i*m+k] - mu[k]
			sd[k] += d * d
		}
	}
	for k := range sd {
		sd[k] = math.Sqrt(sd[k] / float64(n))
		if sd[k] == 0 {
			sd[k] = 1
		}
	}
	X := mat.NewDense(n, m+1, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for k := 0; k < m; k++ {
			X.Set(i, k, (coef[i*m+k]-mu[k])/sd[k])
		}
		X.Set(i, m, 1)
		y[i] = float64(labels[i])
	}
	var beta []float64
	switch o.Classifier {
	case Logistic:
		beta, err = newton(X, y, o.Lambda, o.MaxIter, logisticTerms)
	case SVM:
		beta, err = newton(X, y, o.Lambda, o.MaxIter, squaredHingeTerms)
	case PseudoInverse:
		beta, err = pinvSolve(X, y)
	default:
		return nil, 0, fmt.Errorf("w2w: direction: %w: classifier %q", ErrUnsupported, o.Classifier)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("w2w: direction (%s): %w", o.Classifier, err)
	}
	correct := 0
	for i := 0; i < n; i++ {
		z := beta[m]
		for k := 0; k < m; k++ {
			z += beta[k] * X.At(i, k)
		}
		if (z >= 0) == (y[i] > 0) {
			correct++
		}
	}
	w := make([]float64, m)
	for k := range w {
		w[k] = beta[k] / sd[k]
	}
	if normalize(w) == 0 {
		return nil, 0, fmt.Errorf("w2w: direction (%s): %w: the labels do not depend on the coefficients", o.Classifier, ErrBadLabels)
	}
	return w, float64(correct) / float64(n), nil
}

// lossTerms returns, for margin t = y·z of one sample, the loss, its derivative in z (times
// y folded in by the caller) and the curvature weight.
type lossTerms func(t float64) (loss, dloss, curv float64)

func logisticTerms(t float64) (float64, float64, float64) {
	// loss = log(1 + e^-t), d/dt = −σ(−t), d²/dt² = σ(t)σ(−t).
	var loss float64
	if t > 0 {
		loss = math.Log1p(math.Exp(-t))
	} else {
		loss = -t + math.Log1p(math.Exp(t))
	}
	s := 1 / (1 + math.Exp(t)) // σ(−t)
	return loss, -s, s * (1 - s)
}

func squaredHingeTerms(t float64) (float64, float64, float64) {
	if t >= 1 {
		return 0, 0, 0
	}
	return (1 - t) * (1 - t), -2 * (1 - t), 2
}

// newton minimises Σ loss(y_i·x_iᵀβ) + λ/2·‖β_{0..m−1}‖² (intercept unpenalised) with
// damped Newton steps and backtracking.
func newton(X *mat.Dense, y []float64, lambda float64, maxIter int, terms lossTerms) ([]float64, error) {
	n, p := X.Dims()
	beta := make([]float64, p)
	margin := func(b []float64, i int) float64 {
		row := X.RawRowView(i)
		z := 0.0
		for k, v := range row {
			z += v * b[k]
		}
		return y[i] * z
	}
	obj := func(b []float64) float64 {
		f := 0.0
		for k := 0; k < p-1; k++ {
			f += 0.5 * lambda * b[k] * b[k]
		}
		for i := 0; i < n; i++ {
			l, _, _ := terms(margin(b, i))
			f += l
		}
		return f
	}
	f := obj(beta)
	for it := 0; it < maxIter; it++ {
		g := make([]float64, p)
		H := mat.NewSymDense(p, nil)
		for k := 0; k < p-1; k++ {
			g[k] = lambda * beta[k]
			H.SetSym(k, k, lambda)
		}
		H.SetSym(p-1, p-1, 1e-12)
		for i := 0; i < n; i++ {
			_, dl, c := terms(margin(beta, i))
			row := X.RawRowView(i)
			for k, v := range row {
				g[k] += dl * y[i] * v
			}
			if c != 0 {
				for a := 0; a < p; a++ {
					ca := c * row[a]
					for b := a; b < p; b++ {
						H.SetSym(a, b, H.At(a, b)+ca*row[b])
					}
				}
			}
		}
		var chol mat.Cholesky
		step := mat.NewVecDense(p, nil)
		if chol.Factorize(H) {
			if err := chol.SolveVecTo(step, mat.NewVecDense(p, g)); err != nil {
				return nil, err
			}
		} else {
			copy(step.RawVector().Data, g)
		}
		dec := mat.Dot(step, mat.NewVecDense(p, g))
		if dec/2 < newtonTol {
			break
		}
		t := 1.0
		next := make([]float64, p)
		for ls := 0; ls < 50; ls++ {
			for k := range next {
				next[k] = beta[k] - t*step.AtVec(k)
			}
			if fn := obj(next); fn <= f-0.25*t*dec {
				f = fn
				copy(beta, next)
				break
			}
			t /= 2
		}
		if t < 1e-12 {
			break
		}
	}
	return beta, nil
}

// pinvSolve returns the minimum-norm least-squares solution of X·β = y.
func pinvSolve(X *mat.Dense, y []float64) ([]float64, error) {
	var svd mat.SVD
	if !svd.Factorize(X, mat.SVDThin) {
		return nil, fmt.Errorf("%w: SVD did not converge", ErrUnsupported)
	}
	vals := svd.Values(nil)
	rank := 0
	for _, v := range vals {
		if v > vals[0]*1e-12 {
			rank++
		}
	}
	var b mat.Dense
	svd.SolveTo(&b, mat.NewDense(len(y), 1, y), rank)
	_, p := X.Dims()
	out := make([]float64, p)
	for k := range out {
		out[k] = b.At(k, 0)
	}
	return out, nil
}

// Direction learns a preference direction from the space coefficients of n labelled LoRAs
// (coef n×m, as [Space.Project] returns) and maps it to weight space.
func (s *Space) Direction(ctx context.Context, coef []float64, n int, labels []int, opts *DirectionOptions) (*Direction, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	w, acc, err := TrainDirection(coef, n, s.M(), labels, &o)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Direction{Classifier: o.Classifier, Coef: w, Vector: s.WeightDirection(w), Accuracy: acc}, nil
}

// Directions learns one direction per label set (several users at once) over the same
// coefficients.
func (s *Space) Directions(ctx context.Context, coef []float64, n int, labelSets [][]int, opts *DirectionOptions) ([]*Direction, error) {
	out := make([]*Direction, len(labelSets))
	for u, labels := range labelSets {
		d, err := s.Direction(ctx, coef, n, labels, opts)
		if err != nil {
			return nil, fmt.Errorf("w2w: direction %d: %w", u, err)
		}
		out[u] = d
	}
	return out, nil
}

// WeightDirection maps a direction in PCA coordinates to a unit vector in flattened weight
// space (raw units): normalise(std ⊙ Σ_k w_k V_k).
func (s *Space) WeightDirection(w []float64) []float32 {
	v := s.combine(w)
	if s.Std != nil {
		for j := range v {
			v[j] *= s.Std[j]
		}
	}
	x := f64(v)
	normalize(x)
	for j := range v {
		v[j] = float32(x[j])
	}
	return v
}

// Debias removes other's component from v by one Gram–Schmidt step and renormalises, as
// weights2weights' debias does for attribute directions that entangle (for example removing a
// "realistic" direction's gender component).
func Debias(v, other []float32) ([]float32, error) {
	if len(v) != len(other) {
		return nil, fmt.Errorf("w2w: debias: %w: lengths %d and %d", ErrLayout, len(v), len(other))
	}
	oo := dotMixed(other, other)
	out := f64(v)
	if oo > 0 {
		c := dotMixed(v, other) / oo
		for j := range out {
			out[j] -= c * float64(other[j])
		}
	}
	if normalize(out) == 0 {
		return nil, fmt.Errorf("w2w: debias: %w: the direction lies along the removed one", ErrLayout)
	}
	res := make([]float32, len(out))
	for j, x := range out {
		res[j] = float32(x)
	}
	return res, nil
}
