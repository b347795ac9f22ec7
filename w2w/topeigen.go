package w2w

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// When [topEigen] computes only the top k eigenpairs: for n ≥ partialEigenMinN and
// k·partialEigenRatio ≤ n. Below that the full decomposition costs little; above it, the
// full decomposition's implicit QL sweep with eigenvector accumulation (about 6n³ operations)
// dominates a PCA of thousands of LoRAs, while tridiagonalisation, Q and k eigenvectors of
// the tridiagonal matrix cost about 8n³/3 + 2n²k.
const (
	partialEigenMinN  = 256
	partialEigenRatio = 4
)

// topEigenPartial returns the top k eigenpairs of the symmetric n×n matrix g (descending),
// dropping eigenvalues below relEigenFloor of the largest, as LAPACK's dsyevr does with a
// range of indices: g = Q·T·Qᵀ with T tridiagonal (gonum's Dsytrd, Q from Dorgtr), the
// eigenvalues of T by Sturm-sequence bisection, its eigenvectors by inverse iteration
// orthogonalised against those already found, and E = Q·Z.
func topEigenPartial(g []float64, n, k int) ([]float64, *mat.Dense) {
	k = min(k, n)
	impl := gonum.Implementation{}
	a := append([]float64(nil), g...)
	d := make([]float64, n)
	e := make([]float64, n-1)
	tau := make([]float64, n-1)
	work := []float64{0}
	impl.Dsytrd(blas.Lower, n, a, n, d, e, tau, work, -1)
	impl.Dorgtr(blas.Lower, n, a, n, tau, work[:1], -1)
	work = make([]float64, max(int(work[0]), n))
	impl.Dsytrd(blas.Lower, n, a, n, d, e, tau, work, len(work))
	lw := []float64{0}
	impl.Dorgtr(blas.Lower, n, a, n, tau, lw, -1)
	if int(lw[0]) > len(work) {
		work = make([]float64, int(lw[0]))
	}
	impl.Dorgtr(blas.Lower, n, a, n, tau, work, len(work))
	var lam []float64
	var zs [][]float64
	top := 0.0
	for j := 0; j < k; j++ {
		l, z := tridiagEigenpair(d, e, n-1-j, zs)
		if j == 0 {
			top = l
		}
		if l <= relEigenFloor*top || l <= 0 {
			break
		}
		lam = append(lam, l)
		zs = append(zs, z)
	}
	E := mat.NewDense(n, max(len(lam), 1), nil)
	if len(lam) == 0 {
		return lam, E
	}
	Z := mat.NewDense(n, len(lam), nil)
	for j, z := range zs {
		Z.SetCol(j, z)
	}
	E.Mul(mat.NewDense(n, n, a), Z)
	return lam, E
}
