#!/usr/bin/env bash
# Rebuild the PTX of package cuda from its CUDA C sources (run by `go generate ./cuda`).
# Targets compute capability 5.2 (PTX ISA of CUDA 11.8), which every newer driver
# JIT-compiles for its own GPU. Needs nvcc: scripts/cuda-toolkit.sh installs Debian's CUDA
# 11.8 toolkit. The output is deterministic for a given nvcc, so the committed PTX can be
# checked by rebuilding it and diffing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../cuda/kernels"
command -v nvcc >/dev/null || { echo "cuda-ptx.sh: nvcc not found (run scripts/cuda-toolkit.sh)" >&2; exit 1; }
for src in *.cu; do
	out="${src%.cu}.ptx"
	nvcc --ptx -arch=compute_52 -O3 -o "$out.tmp" "$src"
	mv -f "$out.tmp" "$out"
	echo "wrote cuda/kernels/$out ($(nvcc --version | tail -n 1))"
done
