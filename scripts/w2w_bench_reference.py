#!/usr/bin/python3
"""Reference timings for the w2w benchmarks, run with numpy beside `go test -bench` on the
same machine (see BENCHMARKS.md, section w2w).

Usage: /usr/bin/python3 scripts/w2w_bench_reference.py SHARED_DATA_DIR [reduce|pca|all] [N]

reduce: the SDXL UNet attention and feed-forward modules (names and shapes from the SDXL
        kohya manifest in the shared data), random rank-32 factors stored as float16:
        (a) the naive route, forming ΔW and taking numpy's SVD, timed on one module of each
        distinct shape and extrapolated to all modules; (b) the thin-factor route in numpy
        (QR of both factors, SVD of the r×r core) over all modules.
pca:    N vectors (default 2000) of the SD1.5 rank-1 length (all UNet and text-encoder
        modules of the SD1.5 kohya manifest), float32, m = 100 components through the N×N
        Gram matrix; prints the time and the peak resident memory.
"""
import json
import os
import re
import resource
import sys
import time

# OpenBLAS 0.3.21 picks its kernels from the CPU model when it loads and falls back to generic
# SSE3 kernels on models it does not know (the recent Xeons of the benchmark machine among
# them). The Go OpenBLAS backend re-selects the AVX-512 or AVX2 set in that case; for a fair
# side-by-side, run this script with the same set, e.g. OPENBLAS_CORETYPE=SkylakeX (printed
# below), which must be in the environment before numpy loads OpenBLAS.
import numpy as np

ATTN_FF = re.compile(r"(attn[12]_to_(q|k|v|out_0)|ff_net_0_proj|ff_net_2)$")


def load_manifest(shared, name):
    with open(os.path.join(shared, "lora", "invokeai_stripped_manifests", name)) as f:
        return json.load(f)


def modules(man, keep):
    """Yields (name, out, in) per module from .lora_down/.lora_up shapes."""
    downs, ups = {}, {}
    for key, e in man.items():
        if key.endswith(".lora_down.weight"):
            downs[key[: -len(".lora_down.weight")]] = e["shape"]
        elif key.endswith(".lora_up.weight"):
            ups[key[: -len(".lora_up.weight")]] = e["shape"]
    for name in sorted(downs):
        if not keep(name):
            continue
        d, u = downs[name], ups[name]
        yield name, u[0], int(np.prod(d[1:]))


def bench_reduce(shared):
    man = load_manifest(shared, "alien_style_sdxl_kohya.manifest.json")
    mods = list(modules(man, lambda n: n.startswith("lora_unet_") and ATTN_FF.search(n)))
    rng = np.random.default_rng(32)
    r = 32
    factors = [(rng.standard_normal((o, r)).astype(np.float16) * 0.05, rng.standard_normal((r, i)).astype(np.float16) * 0.05) for _, o, i in mods]
    print(f"reduce: {len(mods)} modules, {sum(r * (o + i) for _, o, i in mods)} factor elements")
    # (b) thin-factor route, all modules.
    t0 = time.perf_counter()
    for up, down in factors:
        a = up.astype(np.float32)
        b = down.astype(np.float32)
        qa, ra = np.linalg.qr(a)
        qb, rb = np.linalg.qr(b.T)
        u, s, vt = np.linalg.svd(ra @ rb.T)
        _ = qa @ u[:, 0], s[0], qb @ vt[0]
    thin = time.perf_counter() - t0
    print(f"numpy thin-factor route, all modules: {thin:.3f} s ({1000 * thin / len(mods):.2f} ms/module)")
    # (a) naive route, one module per shape, extrapolated.
    shapes = {}
    for k, (_, o, i) in enumerate(mods):
        shapes.setdefault((o, i), []).append(k)
    total = 0.0
    for (o, i), idx in sorted(shapes.items()):
        up, down = factors[idx[0]]
        t0 = time.perf_counter()
        w = up.astype(np.float32) @ down.astype(np.float32)
        np.linalg.svd(w, full_matrices=False)
        sec = time.perf_counter() - t0
        total += sec * len(idx)
        print(f"numpy SVD of formed {o}x{i} ΔW: {sec:.2f} s ({len(idx)} such modules)")
    print(f"numpy naive route extrapolated: {total:.1f} s per LoRA")


def bench_pca(shared, n):
    man = load_manifest(shared, "shinkai_makoto_offset_sd15_kohya.manifest.json")
    d = sum(o + i for _, o, i in modules(man, lambda name: True))
    m = 100
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d), dtype=np.float32)
    print(f"pca: N={n} d={d} m={m}")
    t0 = time.perf_counter()
    x -= x.mean(axis=0, dtype=np.float64).astype(np.float32)
    t1 = time.perf_counter()
    g = x @ x.T
    t2 = time.perf_counter()
    lam, e = np.linalg.eigh(g.astype(np.float64))
    lam, e = lam[::-1][:m], e[:, ::-1][:, :m]
    t3 = time.perf_counter()
    # A C-contiguous float32 copy of Eᵀ: with the reversed, transposed view numpy's matmul
    # leaves BLAS for its own loop and takes several times longer.
    et = np.ascontiguousarray(e.T, dtype=np.float32)
    comps = et @ x
    comps /= np.sqrt(lam)[:, None].astype(np.float32)
    t4 = time.perf_counter()
    sec = t4 - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"numpy PCA through the Gram matrix: {sec:.1f} s (centre {t1 - t0:.2f} s, gram {t2 - t1:.2f} s, "
          f"eigh {t3 - t2:.2f} s, components {t4 - t3:.2f} s), peak resident memory {peak:.2f} GB, components {comps.shape}")


def blas_core():
    """Returns the kernel set of the OpenBLAS numpy loaded, or '' when it is not OpenBLAS."""
    import ctypes
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
    for lib in sorted(libs):
        try:
            ob = ctypes.CDLL(lib)
            ob.openblas_get_corename.restype = ctypes.c_char_p
            return ob.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return ""


def main():
    np.ones((2, 2), dtype=np.float32) @ np.ones((2, 2), dtype=np.float32)  # loads the BLAS
    print(f"numpy {np.__version__}, OpenBLAS kernels: {blas_core() or 'not OpenBLAS'}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    shared = sys.argv[1]
    what = sys.argv[2] if len(sys.argv) > 2 else "all"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    if what in ("reduce", "all"):
        bench_reduce(shared)
    if what in ("pca", "all"):
        bench_pca(shared, n)


if __name__ == "__main__":
    main()
