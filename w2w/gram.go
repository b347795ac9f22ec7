package w2w

import (
	"context"
	"fmt"
)

// Tile sizes of the CPU Gram kernel: blocks of gramRowBlock rows of each operand are paired
// and their dot products accumulated over gramColChunk columns at a time, so both blocks'
// chunks (2·64·4096·4 bytes = 2 MiB) stay in cache while they are combined.
const (
	gramRowBlock = 64
	gramColChunk = 4096
)

// Gram implements [Backend].
func (c CPU) Gram(ctx context.Context, x []float32, n, d int, g []float64) error {
	if len(x) != n*d || len(g) != n*n {
		return fmt.Errorf("w2w: gram: %w: x has %d values for %dx%d, g %d for %dx%d", ErrLayout, len(x), n, d, len(g), n, n)
	}
	err := c.cross(ctx, x, n, x, n, d, g, true)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			g[i*n+j] = g[j*n+i]
		}
	}
	return nil
}

// MulT implements [Backend].
func (c CPU) MulT(ctx context.Context, x []float32, n, d int, b []float32, m int, out []float64) error {
	if len(x) != n*d || len(b) != m*d || len(out) != n*m {
		return fmt.Errorf("w2w: mult: %w: x %d values for %dx%d, b %d for %dx%d, out %d", ErrLayout, len(x), n, d, len(b), m, d, len(out))
	}
	return c.cross(ctx, x, n, b, m, d, out, false)
}

// cross computes out[i·m+j] = x_i·y_j (float64 accumulation). With lower set (x = y), only
// j ≤ i is computed.
func (c CPU) cross(ctx context.Context, x []float32, n int, y []float32, m, d int, out []float64, lower bool) error {
	nb := (n + gramRowBlock - 1) / gramRowBlock
	mb := (m + gramRowBlock - 1) / gramRowBlock
	type task struct{ bi, bj int }
	var tasks []task
	for bi := 0; bi < nb; bi++ {
		for bj := 0; bj < mb; bj++ {
			if lower && bj > bi {
				break
			}
			tasks = append(tasks, task{bi, bj})
		}
	}
	for i := range out {
		out[i] = 0
	}
	return parallelFor(ctx, len(tasks), c.workers(), func(t int) error {
		i0, j0 := tasks[t].bi*gramRowBlock, tasks[t].bj*gramRowBlock
		i1, j1 := min(i0+gramRowBlock, n), min(j0+gramRowBlock, m)
		for c0 := 0; c0 < d; c0 += gramColChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			c1 := min(c0+gramColChunk, d)
			// The C kernels take the whole block (all of a diagonal block too: Gram mirrors
			// the lower triangle over the rest).
			if cCrossBlock(x[i0*d+c0:], d, i1-i0, y[j0*d+c0:], d, j1-j0, c1-c0, out[i0*m+j0:], m) {
				continue
			}
			for i := i0; i < i1; i += 2 {
				xi := x[i*d+c0 : i*d+c1]
				var xk []float32
				if i+1 < i1 {
					xk = x[(i+1)*d+c0 : (i+1)*d+c1]
				}
				jEnd := j1
				if lower {
					jEnd = min(j1, i+2)
				}
				for j := j0; j < jEnd; j += 2 {
					yj := y[j*d+c0 : j*d+c1]
					if xk != nil && j+1 < jEnd {
						yl := y[(j+1)*d+c0 : (j+1)*d+c1]
						a, b, cc, dd := dot2x2(xi, xk, yj, yl)
						out[i*m+j] += a
						out[i*m+j+1] += b
						out[(i+1)*m+j] += cc
						out[(i+1)*m+j+1] += dd
						continue
					}
					out[i*m+j] += dot32(xi, yj)
					if xk != nil {
						out[(i+1)*m+j] += dot32(xk, yj)
					}
					if j+1 < jEnd {
						yl := y[(j+1)*d+c0 : (j+1)*d+c1]
						out[i*m+j+1] += dot32(xi, yl)
						if xk != nil {
							out[(i+1)*m+j+1] += dot32(xk, yl)
						}
					}
				}
			}
		}
		return nil
	})
}

// dot2x2 returns the four dot products of x0, x1 with y0, y1, loading each element once.
// Products are formed in float32 and accumulated in float64.
func dot2x2(x0, x1, y0, y1 []float32) (a, b, c, d float64) {
	n := len(x0)
	x1, y0, y1 = x1[:n], y0[:n], y1[:n]
	var s00, s01, s10, s11 float32
	for k := 0; k < n; k++ {
		p, q := x0[k], x1[k]
		u, v := y0[k], y1[k]
		s00 += p * u
		s01 += p * v
		s10 += q * u
		s11 += q * v
		if k&255 == 255 {
			a += float64(s00)
			b += float64(s01)
			c += float64(s10)
			d += float64(s11)
			s00, s01, s10, s11 = 0, 0, 0, 0
		}
	}
	return a + float64(s00), b + float64(s01), c + float64(s10), d + float64(s11)
}

// combineColChunk is the column chunk of [CPU.Combine]: each task owns a slice of columns of
// the output, so tasks never write the same memory.
const combineColChunk = 2048

// Combine implements [Backend].
func (c CPU) Combine(ctx context.Context, coef []float64, m int, x []float32, n, d int, out []float32) error {
	if len(coef) != m*n || len(x) != n*d || len(out) != m*d {
		return fmt.Errorf("w2w: combine: %w: coef %d values for %dx%d, x %d for %dx%d, out %d", ErrLayout, len(coef), m, n, len(x), n, d, len(out))
	}
	chunks := (d + combineColChunk - 1) / combineColChunk
	return parallelFor(ctx, chunks, c.workers(), func(t int) error {
		c0 := t * combineColChunk
		c1 := min(c0+combineColChunk, d)
		if cCombineBlock(coef, m, n, x, d, c0, c1, out) {
			return nil
		}
		acc := make([]float64, c1-c0)
		for k := 0; k < m; k++ {
			for j := range acc {
				acc[j] = 0
			}
			for i := 0; i < n; i++ {
				a := coef[k*n+i]
				if a == 0 {
					continue
				}
				row := x[i*d+c0 : i*d+c1]
				row = row[:len(acc)]
				for j, v := range row {
					acc[j] += a * float64(v)
				}
			}
			dst := out[k*d+c0 : k*d+c1]
			for j, v := range acc {
				dst[j] = float32(v)
			}
		}
		return nil
	})
}
