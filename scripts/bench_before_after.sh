#!/usr/bin/env bash
# Headline benchmarks of w2w (rank-1 reduction), recsys (HNSW 20,000 x 128) and embed/hdbscan
# (fast mode) for two commits, run alternately in one sitting so that the machine's load
# falls on both alike.
#
#   scripts/bench_before_after.sh BEFORE [AFTER] [ROUNDS]   (AFTER defaults to HEAD, ROUNDS to 3)
#
# Prints each benchmark line prefixed with "before"/"after" and the package, and the process
# CPU seconds ("cpu USER SYS wall WALL") from /usr/bin/time; compare medians.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
before=${1:?usage: bench_before_after.sh BEFORE [AFTER] [ROUNDS]}
after=${2:-HEAD}
rounds=${3:-3}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/before-src" 2>/dev/null; git worktree remove --force "$work/after-src" 2>/dev/null; rm -rf "$work"' EXIT
for w in before after; do
	rev=$before
	[ "$w" = after ] && rev=$after
	git worktree add -q --detach "$work/$w-src" "$rev"
	(cd "$work/$w-src" && for p in w2w recsys embed/hdbscan; do
		go test -c -o "$work/$w-$(basename $p).test" ./$p
	done)
done
run() {
	local w=$1 p=$2 dir
	case $p in
	w2w) dir=w2w; set -- -test.bench 'ReduceSDXL/(reduce|read\+reduce-overlapped)$' -test.benchtime 5x ;;
	recsys) dir=recsys; set -- -test.bench 'BenchmarkHNSW$' -test.benchtime 1x ;;
	hdbscan) dir=embed/hdbscan; set -- -test.bench '^BenchmarkFit(5k|20k)Fast$' -test.benchtime 1x ;;
	esac
	(cd "$dir" && RECSYS_ANN_N=20000 RECSYS_ANN_DIM=128 /usr/bin/time -f "cpu %U %S wall %e" \
		"$work/$w-$p.test" -test.run '^$' "$@" 2>&1 | grep -E '^Benchmark|^cpu ') | sed "s/^/$w $p /"
}
for r in $(seq "$rounds"); do
	for p in w2w recsys hdbscan; do
		if [ $((r % 2)) = 1 ]; then run before $p; run after $p; else run after $p; run before $p; fi
	done
	echo "round $r done, load $(cut -d' ' -f1 /proc/loadavg)"
done
