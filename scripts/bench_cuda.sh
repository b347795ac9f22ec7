#!/usr/bin/env bash
# GPU checks of package cuda and the w2w CUDA backend, for a machine with an NVIDIA GPU and the
# CUDA toolkit (scripts/cuda-toolkit.sh): parity tests against the CPU backend, then LoRAs/s
# for the SDXL-shaped rank-32 LoRA on the CPU and CUDA backends, then PyTorch's per-module
# torch.linalg.svd on the same GPU (scripts/bench_torch_svd.py) for reference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go test -tags cuda -count 1 ./cuda
go test -tags cuda -count 1 -run 'CUDA' ./w2w
go test -tags cuda -run '^$' -bench 'ReduceSDXLBackends' -benchtime 3x ./w2w
python3 scripts/bench_torch_svd.py --loras 2
