#!/usr/bin/python3
"""The CLIP tokenizer without ftfy, as scripts/gen_clip_models.py and
scripts/bench_embed_reference.py import it. The parity goldens of package embed are written
by scripts/gen_clip_text_goldens.py from the real reference packages (ftfy included); this
script's main() no longer writes them.

Former description:

Reference: the tokenizer of OpenAI's CLIP (clip/simple_tokenizer.py and clip.tokenize with
truncate=True), re-stated step by step below with the same regular expression through the
`regex` module, html.unescape and the gzipped merges file. ftfy.fix_text, the reference's
first cleaning step, is not packaged by Debian and is left out; the Go side documents that.

Inputs: ../shared/data/tokenizers/clip_bpe_simple_vocab_16e6.txt.gz and
../shared/data/prompts/prompts.jsonl. Outputs, in embed/testdata/:
  clip_prompts_digest.json.gz  one 16-hex-digit digest per prompt line (sha256 of the 77 ids
                               joined by commas), and the full ids of every 97th prompt
  clip_edge_cases.json         hand-written texts (whitespace, emoji, accents, CJK, weighting
                               syntax, HTML entities, over-long) with their 77 ids

Run with Debian's interpreter: /usr/bin/python3 scripts/gen_clip_tokenizer.py
"""
import gzip
import hashlib
import html
import json
import os

import regex as re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHARED = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "embed", "testdata")


def byte_table():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, [chr(c) for c in chars]))


class Reference:
    def __init__(self, path):
        self.byte_enc = byte_table()
        lines = gzip.open(path).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
        vocab = list(self.byte_enc.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.enc = dict(zip(vocab, range(len(vocab))))
        self.rank = dict(zip(merges, range(len(merges))))
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            re.IGNORECASE,
        )
        self.memo = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}

    def bpe(self, tok):
        if tok in self.memo:
            return self.memo[tok]
        word = list(tok[:-1]) + [tok[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.rank.get(p, float("inf")))
            if best not in self.rank:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out = " ".join(word)
        self.memo[tok] = out
        return out

    def encode(self, text):
        text = html.unescape(html.unescape(text)).strip()
        text = __import__("re").sub(r"\s+", " ", text).strip().lower()
        ids = []
        for tok in re.findall(self.pat, text):
            tok = "".join(self.byte_enc[b] for b in tok.encode("utf-8"))
            ids.extend(self.enc[p] for p in self.bpe(tok).split(" "))
        return ids

    def tokenize(self, text, n=77):
        ids = [49406] + self.encode(text) + [49407]
        if len(ids) > n:
            ids = ids[:n]
            ids[-1] = 49407
        return ids + [0] * (n - len(ids))


def digest(ids):
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]


EDGE = [
    "",
    "   ",
    "a photo of a cat",
    "A Photo   of\tA\nCAT  ",
    "it's the dog's bone, they're here, we've gone, I'm ok, you'll see, he'd go",
    "'''s ''t",
    "(masterpiece:1.2), ((best quality)), [[lowres]], {{1girl}}, <lora:detail_tweaker:0.8>, BREAK",
    "a cat::2 a dog::-0.5 --ar 16:9 --v 5",
    "[cat:dog:0.5] [red|blue]",
    "emoji 😀🔥👩‍👩‍👧 ❤️ ✨",
    "accents: café naïve résumé Ångström Øre Straße",
    "中文提示词，一个女孩，高质量",
    "日本語のプロンプト、かわいい猫",
    "한국어 프롬프트",
    "Кошка в шляпе",
    "ΣΊΣΥΦΟΣ ΟΔΟΣ",
    "İstanbul",
    "&amp; &lt;tag&gt; &amp;amp; &quot;q&quot; &#39;s &#x1F600;",
    "numbers 1234567890 ½ ² ①",
    "tab\there\x1cfile\x1fsep\u00a0nbsp\u2003emsp\u3000ideo",
    "<|startoftext|>inner<|endoftext|> <|EndOfText|>",
    "zero\u200bwidth joiner\u200d and combining e\u0301",
    "mojibake cafÃ© â€œquotedâ€\x9d",
    " ".join(["word"] * 100),
    " ".join(["supercalifragilisticexpialidocious"] * 30),
    "x" * 300,
]


def main():
    raise SystemExit("the goldens are written by scripts/gen_clip_text_goldens.py")
    ref = Reference(os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz"))
    digests, full = [], {}
    with open(os.path.join(SHARED, "prompts", "prompts.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            ids = ref.tokenize(json.loads(line)["prompt"])
            digests.append(digest(ids))
            if i % 97 == 0:
                full[str(i)] = ids
    os.makedirs(OUT, exist_ok=True)
    with gzip.open(os.path.join(OUT, "clip_prompts_digest.json.gz"), "wt", encoding="utf-8") as f:
        json.dump({"digests": digests, "ids": full}, f, separators=(",", ":"))
    edge = [{"text": t, "ids": ref.tokenize(t)} for t in EDGE]
    with open(os.path.join(OUT, "clip_edge_cases.json"), "w", encoding="utf-8") as f:
        json.dump(edge, f, ensure_ascii=True, indent=0)
    print(len(digests), "prompts")


if __name__ == "__main__":
    main()
