//go:build !cgo || !amd64

package hdbscan

func kernelName() string { return "go" }

func forceKernel(level int) int { return 0 }

func sqBlock(q []float32, nq int, x []float32, m, d int, out []float32) {
	sqBlockGo(q, nq, x, m, d, out)
}

func sqBlockNorms(q []float32, nq int, x []float32, m, d int, qn, xn, out []float32) {
	sqBlockGo(q, nq, x, m, d, out)
}

func primChunk(x []float32, m, d int, q []float32, cc, alpha float64, cosine bool,
	core, curD []float64, curSrc, orig []int32, cur int32) int {
	return primChunkGo(x, m, d, q, cc, alpha, cosine, core, curD, curSrc, orig, cur)
}
