#!/usr/bin/env bash
# The GPU checks, run on the GPU machine from the repository root with the folder made by
# scripts/cuda-crossbuild.sh (this script is copied there as run.sh): the cuda package's
# tests, the w2w CUDA parity tests (CPU backend as reference, 1e-4), then LoRAs/s for the
# SDXL-shaped rank-32 LoRA on the CPU and CUDA backends and PyTorch's per-module SVD routes.
# Logs go to $OUT when it is set.
set -uo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$PWD
logs=${OUT:-$dir/logs}
mkdir -p "$logs"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
lib=$(python3 -c "import nvidia.cublas,os;print(os.path.join(list(nvidia.cublas.__path__)[0],'lib'))" 2>/dev/null)
[ -n "$lib" ] && ls "$lib"/libcublas.so.* >/dev/null 2>&1 ||
	lib=$(dirname "$(find /usr/local /opt /usr/lib -name 'libcublas.so.1[0-9]' 2>/dev/null | head -n 1)")
export LD_LIBRARY_PATH=$lib:${LD_LIBRARY_PATH:-}
export IMAGEGEM_SHARED_DATA=$dir/data
chmod +x "$dir"/*.test
echo "== cuda package tests"
(cd "$root/cuda" && timeout 300 "$dir/cuda.test" -test.count 1 -test.v 2>&1 | grep -v '^=== ') | tee "$logs/cuda.log"
echo "== w2w CUDA parity"
(cd "$root/w2w" && timeout 300 "$dir/w2w.test" -test.count 1 -test.run CUDA -test.v 2>&1 | grep -v '^=== ') | tee "$logs/w2w_parity.log"
echo "== benchmarks"
(cd "$root/cuda" && timeout 120 "$dir/cuda.test" -test.run '^$' -test.bench 'TopTripletsSDXL' -test.benchtime 10x -test.benchmem 2>&1) | tee "$logs/cuda_bench.log"
(cd "$root/w2w" && timeout 300 "$dir/w2w.test" -test.run '^$' -test.bench 'ReduceSDXLBackends|CUDAGramPCA' -test.benchtime 10x -test.benchmem 2>&1 | grep -v '^=== ') | tee "$logs/w2w_bench.log"
echo "== PyTorch per-module SVD routes on the same GPU"
(timeout 60 python3 "$dir/bench_torch_svd.py" --loras 5 --route thin; timeout 300 python3 "$dir/bench_torch_svd.py" --loras 1 --route full) 2>&1 | tee "$logs/torch.log"
