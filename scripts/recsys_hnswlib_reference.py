#!/usr/bin/python3
"""Reference run for BenchmarkHNSW (package recsys): hnswlib on the same vectors.

Usage: /usr/bin/python3 scripts/recsys_hnswlib_reference.py DIR DIM [M] [EF_CONSTRUCTION]

DIR holds items.f32, queries.f32 and exact.f32 (little-endian float32; exact.f32 holds the
exact top-100 item indices per query), written by BenchmarkHNSW when RECSYS_ANN_DUMP=DIR.
It builds an hnswlib index (inner product, M 16 and ef_construction 200 unless given, all
cores), then prints build time, inserts/s, and recall@100 and queries/s at ef 100 to 1600,
in the same form as the Go benchmark. Uses Debian's python3-hnswlib (apt-get install
python3-hnswlib) and numpy.
"""
import os
import sys
import time

import hnswlib
import numpy as np

K = 100


def main():
    folder, dim = sys.argv[1], int(sys.argv[2])
    m = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    efc = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    items = np.fromfile(os.path.join(folder, "items.f32"), dtype="<f4").reshape(-1, dim)
    queries = np.fromfile(os.path.join(folder, "queries.f32"), dtype="<f4").reshape(-1, dim)
    exact = np.fromfile(os.path.join(folder, "exact.f32"), dtype="<f4").reshape(-1, K).astype(np.int64)
    n, nq = items.shape[0], queries.shape[0]
    threads = os.cpu_count()
    print(f"hnswlib {getattr(hnswlib, '__version__', '?')}: {n}x{dim}, {nq} queries, M {m}, "
          f"ef_construction {efc}, {threads} threads", flush=True)
    index = hnswlib.Index(space="ip", dim=dim)
    index.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=1)
    index.set_num_threads(threads)
    t0, c0 = time.time(), time.process_time()
    index.add_items(items, np.arange(n))
    build, cpu = time.time() - t0, time.process_time() - c0
    print(f"build: {build:.1f}s, {n / build:.0f} inserts/s, process CPU {cpu:.0f}s", flush=True)
    for ef in (100, 200, 400, 800, 1600):
        index.set_ef(ef)
        index.set_num_threads(1)
        t0 = time.time()
        labels, _ = index.knn_query(queries, k=K)
        one = time.time() - t0
        index.set_num_threads(threads)
        t0 = time.time()
        index.knn_query(queries, k=K)
        multi = time.time() - t0
        found = sum(len(set(labels[q].tolist()) & set(exact[q].tolist())) for q in range(nq))
        print(f"ef {ef:4d}: recall@100 {found / (nq * K):.4f}, {nq / one:.0f} queries/s on 1 thread, "
              f"{nq / multi:.0f} on {threads}", flush=True)


if __name__ == "__main__":
    main()
