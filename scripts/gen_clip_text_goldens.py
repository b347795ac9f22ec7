#!/usr/bin/env python3
"""Writes the parity goldens of package embed/ftfy and of embed's CLIP text pipelines.

References (pinned; the script refuses other versions):
  ftfy 6.3.1                  ftfy.fix_text, ftfy.fix_encoding
  openai-clip 1.0.1           clip/simple_tokenizer.py (SimpleTokenizer, loaded from its file
                              so that torch is not needed) and clip.tokenize's truncate=True
                              rule, restated from clip/clip.py
  open-clip-torch 3.3.0       open_clip/tokenizer.py SimpleTokenizer (clean="lower"); torch and
                              numpy, imported at its top but unused by encode(), are stubbed
  tokenizers 0.23.3           Hugging Face CLIPTokenizerFast's tokenizer.json
                              (../shared/data/tokenizers/clip-vit-base-patch32)

Inputs: ftfy's tests/test_cases.json (from the ftfy 6.3.1 sdist) and
../shared/data/prompts/prompts.jsonl. Outputs, in embed/ftfy/testdata/ and embed/testdata/:
  ftfy_cases.json.gz      ftfy's own test cases and hand-written edge cases: original,
                          fix_text, fix_encoding
  ftfy_corpus.json.gz     one 16-hex-digit sha256 digest of fix_text per corpus prompt, and
                          the full output of every prompt fix_text changes
  mutated_prompts.json.gz a few thousand corpus prompts with curly quotes, full-width forms,
                          decomposed accents, ligatures, mojibake, entities, C1 controls,
                          line breaks and terminal escapes put in (seeded), each with its
                          fix_text digest
  clip_prompts_digest.json.gz  OpenAI's clip.tokenize: one 16-hex-digit digest (sha256 of
                          the 77 ids joined by commas) per corpus prompt, full ids of every
                          97th
  clip_edge_cases.json    hand-written texts (whitespace, emoji, accents, CJK, weighting
                          syntax, HTML entities, special tokens, over-long) with the ids of
                          each family
  clip_pipeline_goldens.json.gz  per text family (openai, open_clip, hf): the digests of the
                          mutated prompts, and for open_clip and hf the corpus prompts whose
                          digest differs from openai's

Run (the downloads need no torch):
  python3 -m venv .cache/venv
  .cache/venv/bin/pip install ftfy==6.3.1 regex==2026.11.19 tokenizers==0.23.3
  .cache/venv/bin/pip download --no-deps --no-binary :all: ftfy==6.3.1 -d .cache/sdist
  .cache/venv/bin/pip download --no-deps openai-clip==1.0.1 open-clip-torch==3.3.0 -d .cache/dl
  (unpack both under .cache/dl and the sdist under .cache/sdist)
  .cache/venv/bin/python scripts/gen_ftfy_goldens.py
"""
import gzip
import hashlib
import importlib.util
import io
import json
import os
import random
import sys
import types

import ftfy
import regex
import tokenizers

VERSIONS = {"ftfy": "6.3.1", "regex": "2026.11.19", "tokenizers": "0.23.3",
            "openai-clip": "1.0.1", "open-clip-torch": "3.3.0"}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CACHE = os.path.join(ROOT, ".cache")
SHARED = os.path.join(ROOT, "..", "shared", "data")
FTFY_OUT = os.path.join(ROOT, "embed", "ftfy", "testdata")
EMBED_OUT = os.path.join(ROOT, "embed", "testdata")

assert ftfy.__version__ == VERSIONS["ftfy"], ftfy.__version__
assert regex.__version__ == VERSIONS["regex"], regex.__version__
assert tokenizers.__version__ == VERSIONS["tokenizers"], tokenizers.__version__


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def gz_text(path):
    """A gzip text file without a timestamp, so that regenerating gives the same bytes."""
    return io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8")


def digest_text(s):
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# The edge cases and the id digest are those of the no-ftfy reference tokenizer next to this
# script (importable: its main refuses to write goldens), extended with the text ftfy fixes.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_clip_tokenizer import EDGE as REFERENCE_EDGE, digest as digest_ids  # noqa: E402

TOKENIZER_EDGE = REFERENCE_EDGE + [
    "<start_of_text>inner<end_of_text> <START_OF_TEXT>",
    "<|EndOfText|> and <|STARTOFTEXT|>",
    "ΣΑΣ ΟΔΟΣ. İstanbul",
    "“curly” ‘quotes’ ＬＯＵＤ ﬁne e\u0301 cafÃ© &amp;amp; &lt;b&gt;",
    "  leading and trailing  ",
    "\x1cfile\x1d\x1e\x1f seps \x85 nel",
]


EDGE = [
    "",
    "plain ascii prompt, nothing to fix",
    "cafÃ© au lait",
    "â€œquotedâ€\x9d and â€˜singleâ€™",
    "“curly” ‘quotes’ ʼn „low‟",
    "ＬＯＵＤ　ＮＯＩＳＥＳ，ｆｕｌｌ－ｗｉｄｔｈ！ ｶﾀｶﾅ",
    "ﬁne ﬂour ﬀ ﬃ ﬄ ﬅ ﬆ Ĳssel ǅ ǈ ǋ",
    "e\u0301 a\u0308 n\u0303 \u212b",
    "&amp; &lt;b&gt; &NTILDE; &ntilde; &#x2019; &#8217; &#0; &#128; &#xD800; &#1114112; &#12ab; &hellip; &nbsp;",
    "a < b &amp; c",
    "first line &amp;\nsecond <tag> &amp;\nthird &amp;",
    "\x1b[31mred\x1b[0m \x1b[1;4mbold\x1b[m",
    "nul\x00 bell\x07 del\x7f zwnbsp\ufeff interlinear\ufff9 inhibit\u206a",
    "line\r\nbreaks\rmac\u2028ls\u2029ps\x85nel",
    "c1 \x80 \x85 \x91smart\x92 \x9f",
    "voilÃ  le travail",
    "Ã  quelques",
    "sÃ³",
    "The Mona Lisa doesnÃƒÂ¢Ã¢â€šÂ¬Ã¢â€žÂ¢t have eyebrows.",
    "Ð¿Ñ€Ð¸Ð²ÐµÑ‚",
    "ÐÑ€Ð¸Ð²ÐµÑ‚",
    "â\x80\x9cmixedâ\x80\x9d",
    "Ã¡\x1a lossy Ã?",
    "emoji ðŸ˜€ and real 😀",
    "CESU \xed\xa0\xbd\xed\xb8\x80",
    "×²",
    "(╯°□°)╯︵ ┻━┻",
    "¯\\_(ツ)_/¯ &macr;\\_(ã\x83\x84)_/&macr;",
    "ÃƒÂ©",
    "Â¡Hola!",
    "Ã\xa0 Ã\xa0",
    "I'm a \u201csmart\u201d quote \u2018and\u2019 dash \u2014",
    "\ud83d\ude00 not a pair here",
    "x" * 3000 + "Ã©",
]


def mutate(rng, text):
    """One seeded random corruption of a real prompt."""
    kind = rng.randrange(10)
    words = text.split(" ")
    if not words:
        return text
    i = rng.randrange(len(words))
    w = words[i]
    if kind == 0:
        words[i] = "“" + w + "”"
    elif kind == 1:
        words[i] = w.replace("'", "’") + "’s"
    elif kind == 2:
        words[i] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w)
        if rng.random() < 0.5:
            words[i] += "，"
    elif kind == 3:
        words[i] = w.replace("e", "e\u0301").replace("a", "a\u0308") + " café"
    elif kind == 4:
        words[i] = w.replace("fi", "ﬁ").replace("fl", "ﬂ") + " ﬁne"
    elif kind == 5:
        enc = rng.choice(["latin-1", "windows-1252", "windows-1251", "windows-1250", "macroman"])
        bad = (w + " café naïve “q”").encode("utf-8")
        words[i] = bad.decode(enc, errors="replace")
    elif kind == 6:
        words[i] = rng.choice(["&amp;", "&quot;", "&#x2019;", "&eacute;", "&lt;3", "&AMP;", "&#39;"]) + w
    elif kind == 7:
        words[i] = w + rng.choice(["\x80", "\x92", "\x85", "\x9d"])
    elif kind == 8:
        words[i] = w + rng.choice(["\r\n", "\u2028", "\x1b[1m", "\x00", "\ufeff", "\t\x0b"])
    else:
        words[i] = w.upper().replace("O", "Ö") + " İ ß ΣΑΣ"
    return " ".join(words)


class OpenAIReference:
    """clip.tokenize(text, truncate=True) over clip/simple_tokenizer.py."""

    def __init__(self, vocab):
        mod = load_module("clip_simple_tokenizer", os.path.join(
            CACHE, "dl", "openai-clip-1.0.1", "clip", "simple_tokenizer.py"))
        self.tok = mod.SimpleTokenizer(bpe_path=vocab)

    def __call__(self, text):
        sot, eot = self.tok.encoder["<|startoftext|>"], self.tok.encoder["<|endoftext|>"]
        ids = [sot] + self.tok.encode(text) + [eot]
        if len(ids) > 77:
            ids = ids[:77]
            ids[-1] = eot
        return ids + [0] * (77 - len(ids))


class OpenCLIPReference:
    """open_clip.tokenizer.SimpleTokenizer()(text) with context length 77."""

    def __init__(self, vocab):
        for name in ("torch", "numpy"):
            stub = types.ModuleType(name)
            stub.__getattr__ = lambda attr: object  # annotations only
            sys.modules.setdefault(name, stub)
        mod = load_module("open_clip_tokenizer", os.path.join(
            CACHE, "dl", "oc", "open_clip", "tokenizer.py"))
        self.tok = mod.SimpleTokenizer(bpe_path=vocab)

    def __call__(self, text):
        ids = [self.tok.sot_token_id] + self.tok.encode(text) + [self.tok.eot_token_id]
        if len(ids) > 77:
            ids = ids[:77]
            ids[-1] = self.tok.eot_token_id
        return ids + [0] * (77 - len(ids))


class HFReference:
    """CLIPTokenizerFast(text, truncation=True, max_length=77), zero-padded to 77 like
    clip.tokenize (the fast tokenizer itself pads with <|endoftext|> when asked to)."""

    def __init__(self, path):
        self.tok = tokenizers.Tokenizer.from_file(path)
        self.tok.enable_truncation(77)
        self.tok.no_padding()

    def __call__(self, text):
        ids = self.tok.encode(text).ids
        return ids + [0] * (77 - len(ids))


def main():
    os.makedirs(FTFY_OUT, exist_ok=True)
    with open(os.path.join(CACHE, "sdist", "ftfy-6.3.1", "tests", "test_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    out = []
    for c in cases:
        out.append({"label": c["label"], "original": c["original"],
                    "fix_text": ftfy.fix_text(c["original"]), "fix_encoding": ftfy.fix_encoding(c["original"])})
    for i, t in enumerate(EDGE):
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in t):
            continue  # a Go string holds no surrogate code point
        out.append({"label": f"edge {i}", "original": t, "fix_text": ftfy.fix_text(t), "fix_encoding": ftfy.fix_encoding(t)})
    meta = {"ftfy": VERSIONS["ftfy"], "python": sys.version.split()[0]}
    with gz_text(os.path.join(FTFY_OUT, "ftfy_cases.json.gz")) as f:
        json.dump({"meta": meta, "cases": out}, f, ensure_ascii=True)

    prompts = []
    with open(os.path.join(SHARED, "prompts", "prompts.jsonl"), encoding="utf-8") as f:
        for line in f:
            prompts.append(json.loads(line)["prompt"])
    digests, changed = [], {}
    for i, p in enumerate(prompts):
        fixed = ftfy.fix_text(p)
        digests.append(digest_text(fixed))
        if fixed != p:
            changed[str(i)] = fixed
    with gz_text(os.path.join(FTFY_OUT, "ftfy_corpus.json.gz")) as f:
        json.dump({"meta": meta, "digests": digests, "changed": changed}, f, ensure_ascii=True, separators=(",", ":"))

    rng = random.Random(13)
    mutated = []
    for _ in range(4000):
        p = prompts[rng.randrange(len(prompts))]
        m = mutate(rng, p)
        if rng.random() < 0.3:
            m = mutate(rng, m)
        mutated.append(m)
    mutated += EDGE
    mutated = [m for m in mutated if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in m)]
    with gz_text(os.path.join(FTFY_OUT, "mutated_prompts.json.gz")) as f:
        json.dump({"meta": meta, "prompts": mutated, "digests": [digest_text(ftfy.fix_text(m)) for m in mutated]},
                  f, ensure_ascii=True, separators=(",", ":"))
    print(len(out), "cases,", len(prompts), "prompts,", len(changed), "changed,", len(mutated), "mutated")

    vocab = os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
    refs = {"openai": OpenAIReference(vocab), "open_clip": OpenCLIPReference(vocab),
            "hf": HFReference(os.path.join(SHARED, "tokenizers", "clip-vit-base-patch32", "tokenizer.json"))}
    meta = dict(VERSIONS, python=sys.version.split()[0])
    corpus = {name: [digest_ids(ref(p)) for p in prompts] for name, ref in refs.items()}
    with gz_text(os.path.join(EMBED_OUT, "clip_prompts_digest.json.gz")) as f:
        json.dump({"meta": meta, "digests": corpus["openai"],
                   "ids": {str(i): refs["openai"](prompts[i]) for i in range(0, len(prompts), 97)}},
                  f, separators=(",", ":"))
    edge = [{"text": t, "ids": refs["openai"](t), "open_clip": refs["open_clip"](t), "hf": refs["hf"](t)}
            for t in TOKENIZER_EDGE]
    with open(os.path.join(EMBED_OUT, "clip_edge_cases.json"), "w", encoding="utf-8") as f:
        json.dump(edge, f, ensure_ascii=True, indent=0)
    golden = {"meta": meta, "families": {}}
    for name, ref in refs.items():
        golden["families"][name] = {
            "corpus_differs_from_openai": {str(i): d for i, d in enumerate(corpus[name]) if d != corpus["openai"][i]},
            "mutated": [digest_ids(ref(m)) for m in mutated],
        }
        print(name, len(golden["families"][name]["corpus_differs_from_openai"]), "corpus prompts differ from openai")
    with gz_text(os.path.join(EMBED_OUT, "clip_pipeline_goldens.json.gz")) as f:
        json.dump(golden, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
