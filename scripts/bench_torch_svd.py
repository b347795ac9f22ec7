#!/usr/bin/env python3
"""Reference timing for the cuda benchmark: PyTorch's per-module route to a rank-1 LoRA.

For an SDXL-shaped LoRA (every attention and feed-forward module of the 70 SDXL UNet
transformer blocks, 700 modules, rank 32) it forms each ΔW = (alpha/r)·up·down on the GPU and
takes torch.linalg.svd, as weights2weights-style reductions do, and prints LoRAs per second.
Run on the GPU machine: python3 scripts/bench_torch_svd.py [--loras N] [--device cuda]
"""
import argparse
import time

import torch


def sdxl_modules():
    """(out, in) of every attention and FF module of the SDXL UNet transformer blocks."""
    blocks = [(640, 4), (1280, 20), (1280, 10), (1280, 30), (640, 6)]  # down1, down2, mid, up0, up1
    shapes = []
    for d, n in blocks:
        for _ in range(n):
            shapes += [(d, d)] * 4                      # attn1 q, k, v, out
            shapes += [(d, d), (d, 2048), (d, 2048), (d, d)]  # attn2 q, k, v, out
            shapes += [(8 * d, d), (d, 4 * d)]          # ff.net.0.proj (GEGLU), ff.net.2
    return shapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loras", type=int, default=3)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--route", choices=["full", "thin"], default="full",
                    help="full: form ΔW and torch.linalg.svd it; thin: QR of both factors and the r×r SVD")
    a = ap.parse_args()
    dev = torch.device(a.device)
    shapes = sdxl_modules()
    g = torch.Generator(device="cpu").manual_seed(0)
    factors = [(torch.randn(o, a.rank, generator=g).half(), torch.randn(a.rank, i, generator=g).half()) for o, i in shapes]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    # Warm up the SVD kernels once.
    torch.linalg.svd(torch.randn(320, 320, device=dev), full_matrices=False)
    sync()
    t0 = time.perf_counter()
    for _ in range(a.loras):
        for j, (up, down) in enumerate(factors):
            if j % 100 == 99:
                sync()
                print(f"  {j + 1} modules: {time.perf_counter() - t0:.2f} s", flush=True)
            if a.route == "full":
                w = (up.to(dev).float() @ down.to(dev).float()) * (1.0 / a.rank)
                U, S, Vh = torch.linalg.svd(w, full_matrices=False)
                u, s, v = U[:, 0], S[0], Vh[0]
            else:
                qa, ra = torch.linalg.qr(up.to(dev).float())
                qb, rb = torch.linalg.qr(down.to(dev).float().T)
                U, S, Vh = torch.linalg.svd((ra @ rb.T) * (1.0 / a.rank))
                u, s, v = qa @ U[:, 0], S[0], qb @ Vh[0]
            _ = (u * s.sqrt()).cpu(), (v * s.sqrt()).cpu()
        sync()
    dt = time.perf_counter() - t0
    print(f"{a.route} route, torch.linalg.svd per module on {dev} ({torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}): "
          f"{len(shapes)} modules/LoRA, rank {a.rank}: {dt / a.loras:.2f} s/LoRA, {a.loras / dt:.3f} LoRAs/s")


if __name__ == "__main__":
    main()
