#!/usr/bin/env bash
# Benchmarks of embed/hdbscan recorded in BENCHMARKS.md: HDBSCAN on generated unit-vector
# mixtures in 768 dimensions (20 clusters + 10% noise, min_cluster_size 15), each run in its
# own process under /usr/bin/time -v for the wall time and the peak resident memory.
#
#   scripts/hdbscan_bench.sh                 # 20,000 × 768 fast, 5,000 × 768 fast and exact
#   scripts/hdbscan_bench.sh Fit100kApprox   # any benchmark names of embed/hdbscan/bench_test.go
set -euo pipefail
cd "$(dirname "$0")/.."
benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
	benches=(Fit20kFast Fit5kFast Fit5kExact)
fi
bin=$(mktemp -d)/hdbscan.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./embed/hdbscan
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "${benches[@]}"; do
	out=$( (cd embed/hdbscan && /usr/bin/time -v "$bin" -test.run '^$' -test.bench "^Benchmark${b}\$" -test.benchtime 1x) 2>&1)
	line=$(grep -E "^Benchmark${b}" <<<"$out" || true)
	rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); printf "%.0f MiB", $2/1024}' <<<"$out")
	cpu=$(awk -F: '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f s CPU", u+s}' <<<"$out")
	echo "$line | peak RSS $rss | $cpu"
done
