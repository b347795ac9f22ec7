//go:build cuda

package cuda

import (
	"context"
	"fmt"
	"sort"

	"gorgonia.org/cu"
)

// maxBatch bounds the modules of one launch, and so the workspace (5·r² + 2·r doubles each).
const maxBatch = 8192

// tripletThreads is the thread-block size of top_triplet: the Gram products and the r×r
// steps are spread over it.
const tripletThreads = 128

// sharedRank is the largest rank whose r×r workspace top_triplet keeps in shared memory
// (SHARED_RANK in kernels/rank1.cu); larger ranks use the global workspace.
const sharedRank = 32

// workBytes is the global workspace of one top_triplet launch.
func workBytes(n, r int) int64 {
	if r <= sharedRank {
		return 8
	}
	return int64(n) * int64(5*r*r+2*r) * 8
}

// Stages of a launch, reported to stageHook (set by benchmarks) as each begins.
const (
	stageUpload   = "upload"
	stageKernel   = "kernel"
	stageDownload = "download"
	stageDone     = "done"
)

var stageHook func(stage string)

func stage(s string) {
	if stageHook != nil {
		stageHook(s)
	}
}

// TopTriplets computes out[i], the top singular triplet of in[i], for every i: modules are
// grouped by rank and each group runs as one launch of the top_triplet kernel (one thread
// block per module). out[i].U and out[i].V are allocated when nil or of the wrong length.
func TopTriplets(ctx context.Context, in []Factors, out []Triplet) error {
	if err := checkFactors(in); err != nil {
		return err
	}
	if len(out) != len(in) {
		return fmt.Errorf("cuda: %d inputs but %d outputs", len(in), len(out))
	}
	d, err := getDevice()
	if err != nil {
		return err
	}
	byRank := map[int][]int{}
	for i, f := range in {
		byRank[f.Rank] = append(byRank[f.Rank], i)
	}
	ranks := make([]int, 0, len(byRank))
	for r := range byRank {
		ranks = append(ranks, r)
	}
	sort.Ints(ranks)
	for _, r := range ranks {
		idx := byRank[r]
		for start := 0; start < len(idx); start += maxBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			batch := idx[start:min(start+maxBatch, len(idx))]
			if err := d.ctx.Do(func() error { return d.topTripletBatch(in, out, batch, r) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *device) topTripletBatch(in []Factors, out []Triplet, batch []int, r int) error {
	n := len(batch)
	upOff, downOff := make([]int64, n), make([]int64, n)
	uOff, vOff := make([]int64, n), make([]int64, n)
	outDim, inDim := make([]int32, n), make([]int32, n)
	scale := make([]float64, n)
	var upLen, downLen, uLen, vLen int64
	for k, i := range batch {
		f := in[i]
		upOff[k], downOff[k], uOff[k], vOff[k] = upLen, downLen, uLen, vLen
		outDim[k], inDim[k], scale[k] = int32(f.Out), int32(f.In), f.Scale
		upLen += int64(len(f.Up))
		downLen += int64(len(f.Down))
		uLen += int64(f.Out)
		vLen += int64(f.In)
	}
	// The factors go to the device through page-locked staging buffers filled straight from
	// the caller's slices (no host-side concatenation).
	stage(stageUpload)
	var b buffers
	defer b.free()
	dFactors, err := b.alloc((upLen + downLen) * 4)
	if err != nil {
		return err
	}
	dUp, dDown := dFactors, dFactors+cu.DevicePtr(upLen*4)
	segs := make([]segment, 0, 2*n)
	for k, i := range batch {
		segs = append(segs, segment{src: in[i].Up, off: upOff[k]})
	}
	for k, i := range batch {
		segs = append(segs, segment{src: in[i].Down, off: upLen + downOff[k]})
	}
	st, err := d.staging()
	if err != nil {
		return err
	}
	if err := st.upload(dFactors, upLen+downLen, segs); err != nil {
		return err
	}
	// U and V share one buffer so that they come back in one staged download.
	dUV, err := b.alloc((uLen + vLen) * 4)
	if err != nil {
		return err
	}
	ptrs := []cu.DevicePtr{dUp, dDown}
	for _, up := range []func() (cu.DevicePtr, error){
		func() (cu.DevicePtr, error) { return upload(&b, upOff) },
		func() (cu.DevicePtr, error) { return upload(&b, downOff) },
		func() (cu.DevicePtr, error) { return upload(&b, outDim) },
		func() (cu.DevicePtr, error) { return upload(&b, inDim) },
		func() (cu.DevicePtr, error) { return upload(&b, scale) },
		func() (cu.DevicePtr, error) { return b.alloc(workBytes(n, r)) },
		func() (cu.DevicePtr, error) { return b.alloc(int64(n) * 8) },
		func() (cu.DevicePtr, error) { return b.alloc(int64(n) * 8) },
		func() (cu.DevicePtr, error) { return upload(&b, uOff) },
		func() (cu.DevicePtr, error) { return upload(&b, vOff) },
	} {
		p, err := up()
		if err != nil {
			return err
		}
		ptrs = append(ptrs, p)
	}
	dUp, dDown, dUpOff, dDownOff, dOut, dIn, dScale := ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6]
	dWork, dSigma, dEnergy, dUOff, dVOff := ptrs[7], ptrs[8], ptrs[9], ptrs[10], ptrs[11]
	dU, dV := dUV, dUV+cu.DevicePtr(uLen*4)
	args := params(dUp, dDown, dUpOff, dDownOff, dOut, dIn, dScale, r, n, dWork, dSigma, dEnergy, dU, dV, dUOff, dVOff)
	stage(stageKernel)
	if err := d.topTriplet.LaunchAndSync(n, 1, 1, tripletThreads, 1, 1, 0, cu.NoStream, args); err != nil {
		return fmt.Errorf("cuda: top_triplet (rank %d, %d modules): %w", r, n, err)
	}
	stage(stageDownload)
	sigma := make([]float64, n)
	energy := make([]float64, n)
	if err := download(sigma, dSigma); err != nil {
		return err
	}
	if err := download(energy, dEnergy); err != nil {
		return err
	}
	// U and V come back through the staging buffers straight into the outputs.
	segs = segs[:0]
	for k, i := range batch {
		f := in[i]
		t := &out[i]
		t.Sigma, t.Energy = sigma[k], energy[k]
		if len(t.U) != f.Out {
			t.U = make([]float32, f.Out)
		}
		segs = append(segs, segment{src: t.U, off: uOff[k]})
	}
	for k, i := range batch {
		t := &out[i]
		if len(t.V) != in[i].In {
			t.V = make([]float32, in[i].In)
		}
		segs = append(segs, segment{src: t.V, off: uLen + vOff[k]})
	}
	if err := st.download(dU, uLen+vLen, segs); err != nil {
		return err
	}
	stage(stageDone)
	return nil
}

// Flatten writes √σ·sign·U then √σ·sign·V of trips[i] at place[i] in n vectors of length d
// (out is n×d, row-major, zeroed first: modules a LoRA lacks stay zero).
func Flatten(ctx context.Context, trips []Triplet, place []Placement, n, d int, out []float32) error {
	if len(place) != len(trips) {
		return fmt.Errorf("cuda: %d triplets but %d placements", len(trips), len(place))
	}
	if len(out) != n*d {
		return fmt.Errorf("cuda: out has %d values, want %d×%d", len(out), n, d)
	}
	var (
		sigma                   []float64
		U, V, ref               []float32
		uOff, vOff, refOff, dst []int64
		outDim, inDim           []int32
	)
	for i, t := range trips {
		p := place[i]
		if p.Vector < 0 || p.Vector >= n || p.Offset < 0 || p.Offset+len(t.U)+len(t.V) > d {
			return fmt.Errorf("cuda: placement %d (vector %d, offset %d) out of range for %d vectors of %d", i, p.Vector, p.Offset, n, d)
		}
		if p.Ref != nil && len(p.Ref) != len(t.U) {
			return fmt.Errorf("cuda: placement %d: reference has %d values, U has %d", i, len(p.Ref), len(t.U))
		}
		sigma = append(sigma, t.Sigma)
		uOff = append(uOff, int64(len(U)))
		vOff = append(vOff, int64(len(V)))
		U = append(U, t.U...)
		V = append(V, t.V...)
		outDim = append(outDim, int32(len(t.U)))
		inDim = append(inDim, int32(len(t.V)))
		if p.Ref == nil {
			refOff = append(refOff, -1)
		} else {
			refOff = append(refOff, int64(len(ref)))
			ref = append(ref, p.Ref...)
		}
		dst = append(dst, int64(p.Vector)*int64(d)+int64(p.Offset))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dv, err := getDevice()
	if err != nil {
		return err
	}
	return dv.ctx.Do(func() error {
		var b buffers
		defer b.free()
		ptrs := []cu.DevicePtr{}
		for _, f := range []func() (cu.DevicePtr, error){
			func() (cu.DevicePtr, error) { return upload(&b, sigma) },
			func() (cu.DevicePtr, error) { return upload(&b, U) },
			func() (cu.DevicePtr, error) { return upload(&b, V) },
			func() (cu.DevicePtr, error) { return upload(&b, uOff) },
			func() (cu.DevicePtr, error) { return upload(&b, vOff) },
			func() (cu.DevicePtr, error) { return upload(&b, outDim) },
			func() (cu.DevicePtr, error) { return upload(&b, inDim) },
			func() (cu.DevicePtr, error) { return upload(&b, ref) },
			func() (cu.DevicePtr, error) { return upload(&b, refOff) },
			func() (cu.DevicePtr, error) { return upload(&b, dst) },
			func() (cu.DevicePtr, error) { return b.alloc(int64(n) * int64(d) * 4) },
		} {
			p, err := f()
			if err != nil {
				return err
			}
			ptrs = append(ptrs, p)
		}
		vec := ptrs[10]
		if err := cu.MemsetD32(vec, 0, int64(n)*int64(d)); err != nil {
			return fmt.Errorf("cuda: clear vectors: %w", err)
		}
		if len(trips) > 0 {
			args := params(ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6], ptrs[7], ptrs[8], ptrs[9], len(trips), vec)
			if err := dv.scatter.LaunchAndSync(len(trips), 1, 1, 256, 1, 1, 0, cu.NoStream, args); err != nil {
				return fmt.Errorf("cuda: scatter_rank1: %w", err)
			}
		}
		return download(out, vec)
	})
}
