//go:build cuda

package cuda

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
)

// gemmBlock is the number of columns of X per SGEMM: each block's float32 product is added
// into a float64 accumulator, so rounding grows with the block, not with d.
const gemmBlock = 16384

// Gram computes g = X·Xᵀ (n×n, row-major) for the row-major n×d matrix x with cuBLAS.
func Gram(ctx context.Context, x []float32, n, d int, g []float64) error {
	if len(x) != n*d || len(g) != n*n {
		return fmt.Errorf("cuda: gram: x has %d values (want %d×%d), g %d (want %d)", len(x), n, d, len(g), n*n)
	}
	return gemm(ctx, x, n, d, nil, 0, g)
}

// MulT computes out = X·Bᵀ (n×m, row-major) for row-major X (n×d) and B (m×d) with cuBLAS.
func MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	if len(x) != n*d || len(b) != m*d || len(out) != n*m {
		return fmt.Errorf("cuda: mulT: x has %d values (want %d×%d), b %d (want %d×%d), out %d (want %d×%d)",
			len(x), n, d, len(b), m, d, len(out), n, m)
	}
	return gemm(ctx, x, n, d, b, m, out)
}

// gemm computes X·Bᵀ, or X·Xᵀ when b is nil. Row-major X (n×d) is, read column-major, the
// d×n matrix A = Xᵀ with leading dimension d; likewise B. The row-major n×m result is the
// column-major m×n matrix (X·Bᵀ)ᵀ = B·Xᵀ = Bcᵀ·A, one SGEMM (Trans, NoTrans) per block of d.
func gemm(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	dv, err := getDevice()
	if err != nil {
		return err
	}
	if n == 0 || d == 0 || (b != nil && m == 0) {
		clear(out)
		return nil
	}
	rows := m
	if b == nil {
		rows = n
	}
	return dv.ctx.Do(func() error {
		var bufs buffers
		defer bufs.free()
		dx, err := dv.uploadLarge(&bufs, x)
		if err != nil {
			return err
		}
		db := dx
		if b != nil {
			if db, err = dv.uploadLarge(&bufs, b); err != nil {
				return err
			}
		}
		part, err := bufs.alloc(int64(rows) * int64(n) * 4)
		if err != nil {
			return err
		}
		acc, err := bufs.alloc(int64(rows) * int64(n) * 8)
		if err != nil {
			return err
		}
		if err := cu.MemsetD32(acc, 0, int64(rows)*int64(n)*2); err != nil {
			return fmt.Errorf("cuda: clear accumulator: %w", err)
		}
		total := int64(rows) * int64(n)
		for c0 := 0; c0 < d; c0 += gemmBlock {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := min(gemmBlock, d-c0)
			// Offsetting both by c0 selects rows c0..c0+k of the column-major A and Bc.
			a := deviceSlice(dx+cu.DevicePtr(4*c0), (n-1)*d+k)
			bc := deviceSlice(db+cu.DevicePtr(4*c0), (rows-1)*d+k)
			c := deviceSlice(part, rows*n)
			dv.blas.Sgemm(blas.Trans, blas.NoTrans, rows, n, k, 1, bc, d, a, d, 0, c, rows)
			if err := dv.blas.Err(); err != nil {
				return fmt.Errorf("cuda: sgemm: %w", err)
			}
			args := params(part, acc, total)
			grid := int(min(int64(4096), (total+255)/256))
			if err := dv.addToF64.LaunchAndSync(grid, 1, 1, 256, 1, 1, 0, cu.NoStream, args); err != nil {
				return fmt.Errorf("cuda: accumulate: %w", err)
			}
		}
		// acc is column-major rows×n, i.e. row-major n×rows: exactly out.
		return download(out, acc)
	})
}

// Combine computes out = C·X (m×d, row-major) for row-major C (m×n, float64, converted to
// float32 on the device side) and X (n×d) with cuBLAS: the PCA components and
// back-projections are such combinations of the flattened vectors.
func Combine(ctx context.Context, c []float64, m int, x []float32, n, d int, out []float32) error {
	if len(c) != m*n || len(x) != n*d || len(out) != m*d {
		return fmt.Errorf("cuda: combine: c has %d values (want %d×%d), x %d (want %d×%d), out %d (want %d×%d)",
			len(c), m, n, len(x), n, d, len(out), m, d)
	}
	dv, err := getDevice()
	if err != nil {
		return err
	}
	if m == 0 || d == 0 {
		return nil
	}
	if n == 0 {
		clear(out)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c32 := make([]float32, len(c))
	for i, v := range c {
		c32[i] = float32(v)
	}
	return dv.ctx.Do(func() error {
		var bufs buffers
		defer bufs.free()
		dx, err := upload(&bufs, x)
		if err != nil {
			return err
		}
		dc, err := upload(&bufs, c32)
		if err != nil {
			return err
		}
		dout, err := bufs.alloc(int64(m) * int64(d) * 4)
		if err != nil {
			return err
		}
		// Row-major out (m×d) is the column-major d×m matrix Xᵀ·Cᵀ, where row-major X reads
		// as column-major Xᵀ (d×n, ld d) and row-major C as column-major Cᵀ (n×m, ld n).
		dv.blas.Sgemm(blas.NoTrans, blas.NoTrans, d, m, n, 1, deviceSlice(dx, n*d), d,
			deviceSlice(dc, m*n), n, 0, deviceSlice(dout, m*d), d)
		if err := dv.blas.Err(); err != nil {
			return fmt.Errorf("cuda: sgemm: %w", err)
		}
		return download(out, dout)
	})
}
