// Package cuda runs the LoRA SVD, flattening and PCA products of package w2w on an NVIDIA GPU
// (paper §4.3, §5.3: building a weights2weights space reduces tens of thousands of LoRAs with
// hundreds of modules each, then takes a PCA over them).
//
// # Overview
//
// The package is built only with the build tag cuda, on gorgonia.org/cu v0.9.6 (the CUDA
// driver API) and gorgonia.org/cu/blas (cuBLAS). Without the tag every function returns
// [ErrUnavailable] with a message saying how to enable it, because gorgonia.org/cu exits the
// process at start-up when no GPU is present: no file without the tag may import it, and no
// package but this one imports it.
//
// The kernels are CUDA C (kernels/rank1.cu), compiled ahead of time to PTX for compute
// capability 5.2 by scripts/cuda-ptx.sh (go generate), so any newer driver JIT-compiles
// them; the PTX is embedded with go:embed and loaded with cu.LoadData.
//
//   - [TopTriplets]: the top singular triplet of every module of many LoRAs, one thread
//     block per module, grouped by rank: Gram matrices of the thin factors, then two r×r
//     symmetric eigenproblems by Jacobi rotations in round-robin order (r/2 disjoint
//     rotations per step, spread over the block), with the r×r work in shared memory up to
//     rank 32, never forming ΔW.
//   - [Flatten]: scatters √σ·u and √σ·v into the flattened vectors, with signs aligned to
//     per-module reference directions.
//   - [Gram] and [MulT]: the PCA Gram matrix X·Xᵀ and projections X·Bᵀ through cuBLAS
//     SGEMM over column blocks, accumulated in float64.
//
// Package w2w uses this package through its Backend interface (w2w.CUDA, built with the tag)
// and makes it the default when a device is present; the CPU backend is the reference these
// kernels must equal (1e-4 relative). scripts/bench_cuda.sh runs the parity tests and the
// benchmarks on a GPU machine; scripts/cuda-crossbuild.sh builds them for a machine with
// CUDA 13 or without Go.
//
// # Invariants
//
//   - Inputs are plain Go slices in row-major order; results are copied back to Go memory.
//   - Every call runs on one OS thread locked to the CUDA context, so the package is safe for
//     concurrent use (calls are serialised).
//   - Signs of singular vectors are left as computed by TopTriplets; Flatten aligns them.
package cuda
