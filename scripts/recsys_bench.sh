#!/usr/bin/env bash
# Benchmarks of package recsys (see BENCHMARKS.md, section recsys):
#   1. SASRec on the SASRec "Video" data (Amazon Games) under the sampled protocol with the
#      paper's settings, printing validation and test HR@10/NDCG@10 every 10 epochs;
#   2. all five models under full ranking on the same data;
#   3. HNSW recall@100 and throughput against exact top-k.
#   scripts/recsys_bench.sh [sasrec|full|ann|all]   (default all)
# Environment: RECSYS_DATA (default ../shared/data/recsys/sasrec_Video.txt),
# SASREC_MINUTES (training cap, default 40), RECSYS_ANN_N / RECSYS_ANN_DIM (default 20000 × 128),
# OUT (log folder, default /tmp/recsys-bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-all}
data=${RECSYS_DATA:-../shared/data/recsys/sasrec_Video.txt}
out=${OUT:-/tmp/recsys-bench}
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go build -o "$out/recommend" ./examples/recommend
if [ "$what" = sasrec ] || [ "$what" = all ]; then
	"$out/recommend" -data "$data" -model sasrec -protocol sampled100 -eval-every 10 \
		-max-minutes "${SASREC_MINUTES:-40}" | tee "$out/sasrec_sampled100.log"
fi
if [ "$what" = full ] || [ "$what" = all ]; then
	for m in itemknn userknn item2vec twotower sasrec; do
		extra=()
		if [ "$m" = sasrec ]; then extra=(-max-minutes "${SASREC_MINUTES:-40}"); fi
		"$out/recommend" -data "$data" -model "$m" -protocol full "${extra[@]}" | tee "$out/full_$m.log" | tail -1
	done
fi
if [ "$what" = ann ] || [ "$what" = all ]; then
	RECSYS_ANN_N=${RECSYS_ANN_N:-20000} RECSYS_ANN_DIM=${RECSYS_ANN_DIM:-128} \
		go test -run '^$' -bench 'BenchmarkHNSW$' -benchtime 1x -timeout 60m ./recsys/
fi
