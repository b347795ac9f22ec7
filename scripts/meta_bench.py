#!/usr/bin/env python3
"""Reference side of the imagegem/meta benchmark: sd-parsers and sd-prompt-reader.

  python scripts/meta_bench.py speed FOLDER            images per second over every file
  python scripts/meta_bench.py fields IMAGES EXPECTED  fields right per tool on the shared images

EXPECTED is imagegem/meta/testdata/shared_generations.json (the fields read by eye from what
each tool wrote). Pinned: sd-parsers==0.6, sd-prompt-reader==1.3.4.post2 (with piexif 1.1.3,
defusedxml 0.7.1, Pillow 13.0.0), in a venv under .cache/ (scripts/meta_bench.sh).
"""
import json
import os
import sys
import time
import warnings
import logging

logging.disable(logging.CRITICAL)
warnings.filterwarnings("ignore")

FIELDS = ["Prompt", "Negative", "Steps", "Sampler", "CFG", "Seed", "Width", "Height", "Model"]


def sd_parsers_reader():
    from sd_parsers import ParserManager
    pm = ParserManager()

    def read(path):
        i = pm.parse(path)
        if i is None:
            return None
        out = {}
        prompts, negatives, samplers, models = (list(x or []) for x in (i.prompts, i.negative_prompts, i.samplers, i.models))
        if prompts:
            out["Prompt"] = prompts[0].value
        if negatives:
            out["Negative"] = negatives[0].value
        if samplers:
            s = samplers[0]
            p = s.parameters
            out["Sampler"] = s.name
            out["Steps"] = p.get("steps", (i.metadata or {}).get("steps"))
            out["CFG"] = p.get("cfg_scale")
            out["Seed"] = p.get("seed", p.get("noise_seed"))
        if models:
            out["Model"] = models[0].name
        md = i.metadata or {}
        size = md.get("Size")
        if isinstance(size, str) and "x" in size:
            out["Width"], out["Height"] = size.split("x", 1)
        else:
            out["Width"], out["Height"] = md.get("width"), md.get("height")
        return out
    return read


def sd_prompt_reader_reader():
    from sd_prompt_reader.image_data_reader import ImageDataReader

    def read(path):
        r = ImageDataReader(path)
        if not r.tool:
            return None
        p = r.parameter or {}
        out = {"Prompt": r.positive, "Negative": r.negative, "Steps": p.get("steps"),
               "Sampler": p.get("sampler"), "CFG": p.get("cfg"), "Seed": p.get("seed"),
               "Model": p.get("model")}
        size = p.get("size")
        if isinstance(size, str) and "x" in size:
            out["Width"], out["Height"] = size.split("x", 1)
        return out
    return read


READERS = {"sd-parsers 0.6": sd_parsers_reader, "sd-prompt-reader 1.3.4.post2": sd_prompt_reader_reader}


def same(field, want, got):
    if got is None:
        return want in ("", 0, None)
    if field in ("Prompt", "Negative", "Sampler", "Model"):
        return str(got).strip() == str(want).strip()
    try:
        return float(str(got).strip()) == float(want)
    except ValueError:
        return False


def speed(folder):
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    res = {}
    for name, make in READERS.items():
        read = make()
        found = 0
        t = time.perf_counter()
        for f in files:
            try:
                if read(f):
                    found += 1
            except Exception:
                pass
        dt = time.perf_counter() - t
        res[name] = {"files": len(files), "with_generation": found, "seconds": dt, "images_per_second": len(files) / dt}
    print(json.dumps(res, indent=1))


def fields(images, expected):
    want = json.load(open(expected))
    res = {}
    for name, make in READERS.items():
        read = make()
        right, total, wrong = 0, 0, []
        for fname in sorted(want):
            try:
                got = read(os.path.join(images, fname)) or {}
            except Exception as e:
                got = {}
            for f in FIELDS:
                total += 1
                if same(f, want[fname][f], got.get(f)):
                    right += 1
                else:
                    wrong.append("%s %s: want %r got %r" % (fname, f, want[fname][f], got.get(f)))
        res[name] = {"right": right, "total": total, "wrong": wrong}
    print(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        speed(sys.argv[2])
    else:
        fields(sys.argv[2], sys.argv[3])
