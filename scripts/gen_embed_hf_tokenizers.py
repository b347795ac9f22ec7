#!/usr/bin/python3
"""Writes the BERT WordPiece and RoBERTa byte-level BPE parity goldens of package embed.

References, re-stated step by step (Transformers' slow BertTokenizer with
do_lower_case=True, and GPT-2's encoder.py as used by RobertaTokenizer with
add_prefix_space=False), run on ../shared/data/tokenizers/bert-base-uncased/vocab.txt and
roberta-base/{vocab.json,merges.txt}:
  bert:    clean text (drop NUL, U+FFFD and control characters, whitespace -> space), spaces
           around CJK ideographs, whitespace split, lower-case, NFD and drop Mn (accents),
           split on punctuation, greedy longest-match WordPiece with "##", [UNK] for words
           over 100 characters; [CLS] ... [SEP], truncated to 512
  roberta: GPT-2 split regex, UTF-8 bytes to printable symbols, BPE by merge rank;
           <s> ... </s>, truncated to 512
Output: embed/testdata/hf_tokenizers_golden.json.gz with the ids of every 53rd corpus
prompt and of hand-written edge cases.
Run with Debian's interpreter: /usr/bin/python3 scripts/gen_embed_hf_tokenizers.py
"""
import gzip
import json
import os
import unicodedata

import regex as re

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")
OUT = os.path.join(HERE, "..", "embed", "testdata")
MAX_LEN = 512


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def is_ws(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class Bert:
    def __init__(self, path):
        self.vocab = {}
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                self.vocab[line.rstrip("\n")] = i

    def basic(self, text):
        out = []
        for c in text:
            cp = ord(c)
            if cp == 0 or cp == 0xFFFD or is_control(c):
                continue
            out.append(" " if is_ws(c) else c)
        text = "".join(out)
        text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
        tokens = []
        for tok in text.strip().split():
            tok = tok.lower()
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
            cur = []
            for c in tok:
                if is_punct(c):
                    if cur:
                        tokens.append("".join(cur))
                        cur = []
                    tokens.append(c)
                else:
                    cur.append(c)
            if cur:
                tokens.append("".join(cur))
        return tokens

    def wordpiece(self, tok):
        if len(tok) > 100:
            return ["[UNK]"]
        out, start = [], 0
        while start < len(tok):
            end, cur = len(tok), None
            while start < end:
                s = tok[start:end]
                if start > 0:
                    s = "##" + s
                if s in self.vocab:
                    cur = s
                    break
                end -= 1
            if cur is None:
                return ["[UNK]"]
            out.append(cur)
            start = end
        return out

    def encode(self, text):
        ids = [self.vocab[p] for t in self.basic(text) for p in self.wordpiece(t)]
        ids = ids[: MAX_LEN - 2]
        return [self.vocab["[CLS]"]] + ids + [self.vocab["[SEP]"]]


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


class Roberta:
    def __init__(self, vocab, merges):
        with open(vocab, encoding="utf-8") as f:
            self.enc = json.load(f)
        with open(merges, encoding="utf-8") as f:
            lines = f.read().split("\n")[1:]
        pairs = [tuple(m.split()) for m in lines if m.strip()]
        self.rank = dict(zip(pairs, range(len(pairs))))
        self.byte_enc = byte_table()
        self.pat = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

    def bpe(self, tok):
        word = list(tok)
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
        return word

    def encode(self, text):
        ids = []
        for tok in re.findall(self.pat, text):
            tok = "".join(self.byte_enc[b] for b in tok.encode("utf-8"))
            ids.extend(self.enc[p] for p in self.bpe(tok))
        ids = ids[: MAX_LEN - 2]
        return [self.enc["<s>"]] + ids + [self.enc["</s>"]]


EDGE = [
    "",
    "Hello, World!",
    "  leading and trailing   spaces  ",
    "it's the dog's bone, they're here, we've gone",
    "(masterpiece:1.2), ((best quality)), <lora:detail:0.8>, BREAK",
    "emoji 😀🔥👩‍👩‍👧 ❤️",
    "accents: café naïve résumé Ångström Øre Straße",
    "中文提示词，一个女孩",
    "日本語のプロンプト、かわいい猫",
    "Кошка в шляпе",
    "tabs\tand\nnewlines\r\nhere",
    "control\x00\x07chars\ufffd",
    "numbers 1234567890 ½ ² ①",
    "x" * 150,
    " ".join(["supercalifragilisticexpialidocious"] * 200),
]


def main():
    tk = os.path.join(SHARED, "tokenizers")
    bert = Bert(os.path.join(tk, "bert-base-uncased", "vocab.txt"))
    rob = Roberta(os.path.join(tk, "roberta-base", "vocab.json"), os.path.join(tk, "roberta-base", "merges.txt"))
    prompts = {}
    with open(os.path.join(SHARED, "prompts", "prompts.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 53 == 0:
                prompts[str(i)] = json.loads(line)["prompt"]
    out = {
        "prompts": {k: {"bert": bert.encode(p), "roberta": rob.encode(p)} for k, p in prompts.items()},
        "edge": [{"text": t, "bert": bert.encode(t), "roberta": rob.encode(t)} for t in EDGE],
    }
    with gzip.GzipFile(os.path.join(OUT, "hf_tokenizers_golden.json.gz"), "wb", 9, mtime=0) as f:
        f.write(json.dumps(out, separators=(",", ":")).encode("utf-8"))
    print(len(prompts), "prompts")


if __name__ == "__main__":
    main()
