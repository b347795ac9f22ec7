#!/usr/bin/env bash
# Benchmark of imagegem/meta against sd-parsers and sd-prompt-reader (Python registry) on a
# folder of 10,000 files (hard links to the shared images, round robin: 36 PNG/JPEG/WebP
# files, 19 of them generations), metadata only; and the fields each gets right on the
# shared generations. Usage: scripts/meta_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
SHARED=${IMAGEGEM_SHARED_DATA:-../shared/data}
DIR=${TMPDIR:-/tmp}/imagegem-meta-bench-$N
VENV=.cache/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q sd-parsers==0.6 sd-prompt-reader==1.3.4.post2 piexif==1.1.3 defusedxml==0.7.1 Pillow==13.0.0
fi
if [ ! -d "$DIR" ]; then
  mkdir -p "$DIR"
  mapfile -t src < <(ls "$SHARED"/images/*.png "$SHARED"/images/*.jpg "$SHARED"/images/*.webp)
  for ((i = 0; i < N; i++)); do
    f=${src[$((i % ${#src[@]}))]}
    ln "$f" "$DIR/$(printf %05d "$i")-$(basename "$f")" 2>/dev/null || cp "$f" "$DIR/$(printf %05d "$i")-$(basename "$f")"
  done
fi
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3), Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
echo "== imagegem/meta ($N files, one goroutine, warm page cache)"
IMAGEGEM_META_BENCH_DIR=$DIR go test ./imagegem/meta -run '^$' -bench 'BenchmarkReadFolder$' -benchtime 3x
echo "== sd-parsers, sd-prompt-reader ($N files, one process, warm page cache)"
"$VENV/bin/python" scripts/meta_bench.py speed "$DIR" 2>/dev/null
echo "== fields right on the shared generations"
"$VENV/bin/python" scripts/meta_bench.py fields "$SHARED/images" imagegem/meta/testdata/shared_generations.json 2>/dev/null
