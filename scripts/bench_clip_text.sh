#!/bin/sh
# CLIP text pipelines, Go against the Python references, in one run (one core each).
# Needs the venv of scripts/gen_clip_text_goldens.py under .cache/venv.
set -e
cd "$(dirname "$0")/.."
GOMAXPROCS=1 go test -run '^$' -bench 'BenchmarkTextFamilies|BenchmarkStore' -benchtime 3x ./embed
GOMAXPROCS=1 go test -run '^$' -bench 'BenchmarkFixText' -benchtime 3x ./embed/ftfy
.cache/venv/bin/python scripts/bench_clip_text_reference.py
