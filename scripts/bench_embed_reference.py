#!/usr/bin/python3
"""Reference side of the embed benchmarks (BENCHMARKS.md, section embed).

Times, on one core, (1) the reference CLIP tokenizer of scripts/gen_clip_tokenizer.py
(OpenAI's simple_tokenizer logic, fresh word cache) over the first 10,000 corpus prompts and
(2) PIL open + transform + float32 normalisation of the images BenchmarkPreprocess uses.
Run with Debian's interpreter: /usr/bin/python3 scripts/bench_embed_reference.py
"""
import json
import os
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_clip_images as pilref  # noqa: E402
import gen_clip_tokenizer as tokref  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "shared", "data")
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def main():
    prompts = []
    with open(os.path.join(SHARED, "prompts", "prompts.jsonl"), encoding="utf-8") as f:
        for line in f:
            prompts.append(json.loads(line)["prompt"])
            if len(prompts) == 10000:
                break
    vocab = os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
    for _ in range(2):
        tok = tokref.Reference(vocab)
        t0 = time.perf_counter()
        for p in prompts:
            tok.tokenize(p)
        dt = time.perf_counter() - t0
        print(f"tokenizer: {len(prompts) / dt:.0f} prompts/s")
    for name in ["photo_rgb_512x512.png", "jpeg_progressive_832x1216.jpg", "webp_lossy-vp8-simple_1024x772.webp"]:
        path = os.path.join(SHARED, "images", name)
        for tr, fn in (("clip", pilref.clip), ("hpsv2", pilref.hps)):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 2:
                im = Image.open(path)
                a = (np.asarray(fn(im), dtype=np.float32) / 255 - MEAN) / STD
                a.transpose(2, 0, 1).copy()
                n += 1
            print(f"{name}/{tr}: {n / (time.perf_counter() - t0):.1f} images/s")


if __name__ == "__main__":
    main()
