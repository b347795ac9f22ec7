package hdbscan

import "math"

// The distance kernels of the float32 modes. With cgo on amd64 a small C kernel computes
// blocks of squared distances in registers: blocks of 4×4 rows with AVX-512F, 4×2 with
// AVX2+FMA, or plain C, chosen once at start-up from the CPU's features (forceKernel lowers
// the level for the tests). Where cgo is off or the CPU is not amd64, the portable Go
// functions below are the kernel; they are also the reference the tests compare the C
// kernel with.

// sq32 is the portable squared Euclidean distance of two float32 vectors (four partial
// sums, as the plain C kernel).
func sq32(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	d := len(a)
	b = b[:d]
	k := 0
	for ; k+4 <= d; k += 4 {
		t0, t1, t2, t3 := a[k]-b[k], a[k+1]-b[k+1], a[k+2]-b[k+2], a[k+3]-b[k+3]
		s0 += t0 * t0
		s1 += t1 * t1
		s2 += t2 * t2
		s3 += t3 * t3
	}
	for ; k < d; k++ {
		t := a[k] - b[k]
		s0 += t * t
	}
	return (s0 + s1) + (s2 + s3)
}

func sqBlockGo(q []float32, nq int, x []float32, m, d int, out []float32) {
	for i := 0; i < nq; i++ {
		qi := q[i*d : (i+1)*d]
		for j := 0; j < m; j++ {
			out[i*m+j] = sq32(qi, x[j*d:(j+1)*d])
		}
	}
}

// primChunkGo is one step of Prim's loop over m candidate rows: it lowers curD where the
// current point (row q, core distance cc) offers a shorter mutual reachability, skipping
// rows whose curD already equals the lower bound max(cc, core), and returns the row with
// the smallest curD (lowest original index on ties), or -1 when m is 0.
func primChunkGo(x []float32, m, d int, q []float32, cc, alpha float64, cosine bool,
	core, curD []float64, curSrc, orig []int32, cur int32) int {
	best := -1
	bestD := 0.0
	for j := 0; j < m; j++ {
		lb := math.Max(core[j], cc)
		if curD[j] > lb {
			s := float64(sq32(q, x[j*d:(j+1)*d]))
			dist := math.Sqrt(s)
			if cosine {
				dist = s * 0.5
			}
			if alpha != 1 {
				dist /= alpha
			}
			mr := math.Max(dist, lb)
			if mr < curD[j] {
				curD[j] = mr
				curSrc[j] = cur
			}
		}
		if best < 0 || curD[j] < bestD || (curD[j] == bestD && orig[j] < orig[best]) {
			best = j
			bestD = curD[j]
		}
	}
	return best
}
