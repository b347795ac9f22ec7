#!/usr/bin/env python3
"""Times the reference CLIP text pipelines on the first 20,000 corpus prompts, one core:
OpenAI's clip/simple_tokenizer.py with ftfy 6.3.1 (as clip.tokenize runs it) and Hugging
Face tokenizers' CLIPTokenizerFast (encode one prompt at a time). Same references and
setup as scripts/gen_clip_text_goldens.py; run by scripts/bench_clip_text.sh."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_clip_text_goldens as g  # noqa: E402

prompts = []
with open(os.path.join(g.SHARED, "prompts", "prompts.jsonl"), encoding="utf-8") as f:
    for line in f:
        prompts.append(json.loads(line)["prompt"])
        if len(prompts) == 20000:
            break
vocab = os.path.join(g.SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
for name, ref in [("openai", g.OpenAIReference(vocab)),
                  ("hf", g.HFReference(os.path.join(g.SHARED, "tokenizers", "clip-vit-base-patch32", "tokenizer.json")))]:
    t = time.perf_counter()
    for p in prompts:
        ref(p)
    dt = time.perf_counter() - t
    print(f"python {name}: {len(prompts) / dt:.0f} prompts/s")
t = time.perf_counter()
for p in prompts:
    g.ftfy.fix_text(p)
print(f"python ftfy.fix_text: {len(prompts) / (time.perf_counter() - t):.0f} prompts/s")
