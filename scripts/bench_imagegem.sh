#!/usr/bin/env bash
# Benchmark: open a generated release of about 5,000,000 image rows and compute Stats()
# (paper Table 1). The release is generated once (not timed) into $IMAGEGEM_BENCH_DIR
# (default /tmp/imagegem-bench-5m); the benchmark runs in its own test binary so that its
# peak memory (peak-MiB, the process's VmHWM) covers only opening and Stats.
#   scripts/bench_imagegem.sh [IMAGES]     # IMAGES distinct images, default 3,340,000 (~5.0M rows)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
images=${1:-3340000}
dir=${IMAGEGEM_BENCH_DIR:-/tmp/imagegem-bench-5m}
if [ ! -d "$dir/ImageGem-images" ]; then
	go run ./examples/synth -out "$dir" -images "$images"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
du -sh "$dir/ImageGem-images" "$dir/ImageGem-models"
go test -c -o /tmp/imagegem.bench.test ./imagegem
IMAGEGEM_BENCH_RELEASE="$dir" /tmp/imagegem.bench.test -test.run '^$' -test.bench 'BenchmarkOpenStats' -test.benchtime 3x -test.benchmem
IMAGEGEM_BENCH_RELEASE="$dir" /tmp/imagegem.bench.test -test.run '^$' -test.bench 'BenchmarkFilteredStats' -test.benchtime 3x
