#!/usr/bin/env bash
# Benchmarks of package recsys (see BENCHMARKS.md, section recsys):
#   1. SASRec on the SASRec "Video" data (Amazon Games) under the sampled protocol with the
#      paper's settings, printing validation and test HR@10/NDCG@10 every 10 epochs;
#   2. all five models under full ranking on the same data;
#   3. HNSW build time, recall@100 and throughput against exact top-k (BenchmarkHNSW), on
#      clustered unit vectors generated with a fixed seed; with REFERENCE=1 also hnswlib
#      (Debian's python3-hnswlib) on the same vectors, side by side.
#   scripts/recsys_bench.sh [sasrec|full|ann|all]   (default all)
# Environment: RECSYS_DATA (default ../shared/data/recsys/sasrec_Video.txt),
# SASREC_MINUTES (training cap, default 40), N / DIM (ANN corpus, default 1000000 × 512;
# RECSYS_ANN_N / RECSYS_ANN_DIM also work), RECSYS_ANN_CENTERS, RECSYS_ANN_QUERIES,
# RECSYS_ANN_EFC, RECSYS_ANN_M, RECSYS_ANN_WORKERS (see BenchmarkHNSW), REFERENCE=1 (also run
# scripts/recsys_hnswlib_reference.py on the same data), OUT (log folder, default
# /tmp/recsys-bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-all}
data=${RECSYS_DATA:-../shared/data/recsys/sasrec_Video.txt}
out=${OUT:-/tmp/recsys-bench}
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go build -o "$out/recommend" ./examples/recommend
if [ "$what" = sasrec ] || [ "$what" = all ]; then
	"$out/recommend" -in "$data" -recommender sasrec -protocol sampled100 -eval-every 10 \
		-max-minutes "${SASREC_MINUTES:-40}" 2>&1 | tee "$out/sasrec_sampled100.log"
fi
if [ "$what" = full ] || [ "$what" = all ]; then
	for m in itemknn userknn item2vec twotower sasrec; do
		extra=()
		if [ "$m" = sasrec ]; then extra=(-max-minutes "${SASREC_MINUTES:-40}"); fi
		"$out/recommend" -in "$data" -recommender "$m" -protocol full "${extra[@]}" 2>&1 | tee "$out/full_$m.log" | tail -1
	done
fi
if [ "$what" = ann ] || [ "$what" = all ]; then
	n=${N:-${RECSYS_ANN_N:-1000000}}
	dim=${DIM:-${RECSYS_ANN_DIM:-512}}
	dump=()
	if [ "${REFERENCE:-0}" = 1 ]; then
		mkdir -p "$out/ann-data"
		dump=(RECSYS_ANN_DUMP="$out/ann-data")
	fi
	/usr/bin/time -v env RECSYS_ANN_N="$n" RECSYS_ANN_DIM="$dim" "${dump[@]}" \
		go test -run '^$' -bench 'BenchmarkHNSW$' -benchtime 1x -timeout 120m ./recsys/ \
		2>&1 | tee "$out/ann_${n}x${dim}.log"
	if [ "${REFERENCE:-0}" = 1 ]; then
		/usr/bin/time -v /usr/bin/python3 scripts/recsys_hnswlib_reference.py "$out/ann-data" "$dim" \
			2>&1 | tee "$out/ann_${n}x${dim}_hnswlib.log"
	fi
fi
