#!/usr/bin/env python3
"""Writes the tiny Detoxify test models of package safety, their golden scores and the
token-id digests of the shared prompt corpus.

For each Detoxify checkpoint kind the script builds the checkpoint's Transformers class at toy
size (2 layers, hidden size 8, 2 heads, intermediate size 16) with random weights from a fixed
seed, and the checkpoint's real tokenizer files:

  original      BertForSequenceClassification, 6 labels; bert-base-uncased vocab.txt
                (shared data tokenizers/bert-base-uncased, the real 30,522 entries)
  unbiased      RobertaForSequenceClassification, 16 labels; roberta-base vocab.json and
                merges.txt (shared data tokenizers/roberta-base, the real 50,265 entries)
  multilingual  XLMRobertaForSequenceClassification, 16 labels; NOT the real xlm-roberta-base
                sentencepiece.bpe.model (no copy could be had: the published file is 5 MB and
                none is in the shared data or a package). Instead a Unigram model of 8,000
                pieces is trained here by the reference sentencepiece library on the shared
                prompts with XLM-R's settings (nmt_nfkc normaliser, the fairseq id layout
                <s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask>=last).

The label names and their order come from Detoxify itself: each kind's training config of the
Detoxify repository (scripts/detoxify_configs/*.json, copied unchanged from
unitaryai/detoxify@d537644 configs/) is put into a checkpoint {"config", "state_dict"} exactly
like the release checkpoints, and Detoxify(checkpoint=..., huggingface_config_path=folder)
loads it; its class_names (after Detoxify's renaming) are the first labels, the config's
identity_classes the rest. The one change to the config: arch.args.model_type names the local
folder instead of a hub name, because Detoxify calls from_pretrained(model_type) even when
huggingface_config_path is given, and the hub cannot be reached.

Golden scores are Detoxify(...).predict() on the golden prompts (the first 6 or 7 labels) and
torch.sigmoid of the same model's logits for all labels (the identity heads predict() drops);
the script checks both agree and that the exported ONNX model is within 1e-5 of torch.

Outputs (safety/testdata/detoxify-tiny/KIND/):
  config.json, tokenizer files, onnx/model.onnx (inputs input_ids, attention_mask and for
  BERT token_type_ids, int64 [batch, sequence]; output logits [batch, labels])
  golden.json: versions, labels, the golden prompts, their reference ids and scores
safety/testdata/detoxify-tiny/corpus_ids_KIND.bin: for every prompt of the shared corpus (in
  file order) then every extra text of EXTRA_TEXTS, the first 4 bytes of sha256 over the
  reference token ids (each as little-endian int32), concatenated
safety/testdata/detoxify-tiny/corpus_ids.json: the corpus sha256, counts and versions

Run: nice -n 10 /work/venv-safety/bin/python scripts/gen_detoxify_tiny.py
Pinned: torch 2.15.0, transformers 5.24.0, detoxify 0.5.4, sentencepiece 0.2.3,
tokenizers (the version transformers 5.24.0 installs), onnx, onnxruntime (written into each
golden's metadata).
"""
import copy
import hashlib
import importlib.metadata as md
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import torch
import transformers
from detoxify import Detoxify

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
SHARED = os.environ.get("IMAGEGEM_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
OUT = os.path.join(ROOT, "safety", "testdata", "detoxify-tiny")
CONFIGS = os.path.join(HERE, "detoxify_configs")
CORPUS = os.path.join(SHARED, "prompts", "prompts.jsonl")

PINNED = {"torch": "2.15.0", "transformers": "5.24.0", "detoxify": "0.5.4", "sentencepiece": "0.2.3"}
HIDDEN, LAYERS, HEADS, INTERMEDIATE = 8, 2, 2, 16
MAX_LENGTH = 512
SEED = 20251203
XLMR_PIECES = 8000

KINDS = {
    "original": {
        "config": "Toxic_comment_classification_BERT.json",
        "class": transformers.BertForSequenceClassification,
        "config_class": transformers.BertConfig,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
    },
    "unbiased": {
        "config": "Unintended_bias_toxic_comment_classification_RoBERTa.json",
        "class": transformers.RobertaForSequenceClassification,
        "config_class": transformers.RobertaConfig,
        "inputs": ["input_ids", "attention_mask"],
    },
    "multilingual": {
        "config": "Multilingual_toxic_comment_classification_XLMR.json",
        "class": transformers.XLMRobertaForSequenceClassification,
        "config_class": transformers.XLMRobertaConfig,
        "inputs": ["input_ids", "attention_mask"],
    },
}

# Texts beyond the corpus: empty and blank, non-Latin scripts, control characters, a text far
# past 512 tokens, special-token spellings.
EXTRA_TEXTS = [
    "",
    " ",
    "   \t\n  ",
    "Привет, как дела? Это тестовое сообщение на русском языке.",
    "一个美丽的女孩站在樱花树下，动漫风格，高清细节",
    "桜の木の下に立つ美しい少女、アニメスタイル、高精細",
    "벚꽃 나무 아래 서 있는 아름다운 소녀, 애니메이션 스타일",
    "مرحبا بك في عالم الذكاء الاصطناعي",
    "नमस्ते दुनिया, यह एक परीक्षण है",
    "สวัสดีครับ นี่คือการทดสอบ",
    "Γειά σου Κόσμε, Ελληνικά κείμενα",
    "שלום עולם, זה מבחן",
    "Ça va? Ünïcödé àccents, naïve café, Straße, İstanbul, ǅ",
    "ｆｕｌｌ－ｗｉｄｔｈ　ｔｅｘｔ　１２３",
    "emoji 😀🔥👩‍👩‍👧‍👦 🇯🇵 ✨",
    "e\u0301 combining acute, ﬁ ligature, ℌ fraktur, ① circled",
    "nul\x00byte and \x07bell and \u200bzero width and \ufeffbom",
    "tab\tseparated\nnew line\r\ncarriage",
    "<s> </s> <pad> <unk> <mask> [CLS] [SEP] [UNK] [MASK] [PAD]",
    "multiple     spaces    between   words   ",
    " ".join(["masterpiece, best quality, ultra detailed"] * 120),
    "x" * 3000,
    "supercalifragilisticexpialidocious" * 5,
]


def versions():
    out = {}
    for p in ["torch", "transformers", "detoxify", "sentencepiece", "tokenizers", "onnx", "onnxruntime", "numpy"]:
        out[p] = md.version(p)
    for p, v in PINNED.items():
        if out[p] != v:
            sys.exit(f"{p} {out[p]} is installed, the script is pinned to {v}")
    return out


def load_corpus():
    prompts = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            prompts.append(json.loads(line)["prompt"])
    with open(CORPUS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return prompts, digest


def golden_prompts(corpus):
    """About 200 real prompts: every 500th, the 20 longest, the non-ASCII ones of several
    scripts, plus the extra texts."""
    chosen = []
    seen = set()

    def add(p):
        if p not in seen:
            seen.add(p)
            chosen.append(p)

    for i in range(0, len(corpus), 500):
        add(corpus[i])
    for p in sorted(corpus, key=len, reverse=True)[:20]:
        add(p)
    scripts = [(0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7AF), (0x0400, 0x04FF), (0x0600, 0x06FF), (0x1F300, 0x1FAFF)]
    for lo, hi in scripts:
        n = 0
        for p in corpus:
            if any(lo <= ord(c) <= hi for c in p):
                add(p)
                n += 1
                if n == 4:
                    break
    for p in EXTRA_TEXTS:
        add(p)
    return chosen


def train_xlmr_spm(corpus, folder):
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "corpus.txt")
        with open(text, "w", encoding="utf-8") as f:
            for p in corpus:
                p = p.replace("\n", " ").strip()
                if p:
                    f.write(p + "\n")
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(
            input=text,
            model_prefix=prefix,
            model_type="unigram",
            vocab_size=XLMR_PIECES,
            character_coverage=0.9995,
            normalization_rule_name="nmt_nfkc",
            input_sentence_size=200000,
            shuffle_input_sentence=False,
            seed_sentencepiece_size=200000,
            num_threads=1,
            minloglevel=2,
        )
        shutil.copy(prefix + ".model", os.path.join(folder, "sentencepiece.bpe.model"))


def make_tokenizer(kind, corpus, folder):
    tok_dir = os.path.join(SHARED, "tokenizers")
    if kind == "original":
        shutil.copy(os.path.join(tok_dir, "bert-base-uncased", "vocab.txt"), folder)
        tok = transformers.BertTokenizer(os.path.join(folder, "vocab.txt"), do_lower_case=True, model_max_length=MAX_LENGTH)
    elif kind == "unbiased":
        for f in ["vocab.json", "merges.txt"]:
            shutil.copy(os.path.join(tok_dir, "roberta-base", f), folder)
        tok = transformers.RobertaTokenizer(
            os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"), model_max_length=MAX_LENGTH
        )
    else:
        train_xlmr_spm(corpus, folder)
        # Transformers 5 converts the sentencepiece model to its tokenizers-backed class.
        tok = transformers.XLMRobertaTokenizer.from_pretrained(folder, model_max_length=MAX_LENGTH)
    tok.save_pretrained(folder)
    # save_pretrained writes what the class needs; keep only the files a user's folder has.
    return transformers.AutoTokenizer.from_pretrained(folder) if kind != "multilingual" else tok


def spm_reference_ids(folder, texts):
    """XLM-R ids as the slow XLMRobertaTokenizer computes them: sentencepiece's encoding
    with fairseq's offset (spm id + 1; spm's unk 0 becomes 3), <s> and </s> around,
    truncated to 512."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "sentencepiece.bpe.model"))
    out = []
    for t in texts:
        ids = [3 if i == sp.unk_id() else i + 1 for i in sp.encode(t)]
        out.append([0] + ids[: MAX_LENGTH - 2] + [2])
    return out


def build(kind, corpus, golden, vers):
    spec = KINDS[kind]
    folder = os.path.join(OUT, kind)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "onnx"))
    with open(os.path.join(CONFIGS, spec["config"])) as f:
        det_config = json.load(f)
    args = det_config["dataset"]["args"]
    n_labels = det_config["arch"]["args"]["num_classes"]
    labels_cfg = args["classes"] + args.get("identity_classes", [])

    tok = make_tokenizer(kind, corpus, folder)
    pad = tok.pad_token_id
    common = dict(
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE,
        num_labels=n_labels,
        problem_type="multi_label_classification",
        initializer_range=0.5,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=pad,
    )
    if kind == "original":
        cfg = spec["config_class"](vocab_size=len(tok), max_position_embeddings=MAX_LENGTH, type_vocab_size=2, **common)
    else:
        cfg = spec["config_class"](
            vocab_size=len(tok), max_position_embeddings=MAX_LENGTH + 2, type_vocab_size=1,
            bos_token_id=0, eos_token_id=2, **common,
        )
    torch.manual_seed(SEED)
    model = spec["class"](cfg).eval()
    cfg.save_pretrained(folder)

    # Detoxify loads a {config, state_dict} checkpoint; its renamed class names are the labels.
    det_config = copy.deepcopy(det_config)
    det_config["arch"]["args"]["model_type"] = folder
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "tiny.ckpt")
        torch.save({"config": det_config, "state_dict": model.state_dict()}, ckpt)
        det = Detoxify(checkpoint=ckpt, huggingface_config_path=folder)
        class_names = list(det.class_names)
        labels = class_names + labels_cfg[len(class_names):]
        assert len(labels) == n_labels, (kind, labels)
        # Write the labels the way a release folder carries them.
        cfg.id2label = {i: l for i, l in enumerate(labels)}
        cfg.label2id = {l: i for i, l in enumerate(labels)}
        cfg.save_pretrained(folder)
        preds = {}
        batch = 16
        for i in range(0, len(golden), batch):
            r = det.predict(golden[i : i + batch])
            for k, v in r.items():
                preds.setdefault(k, []).extend(v if isinstance(v, list) else [v])
    # The same model's full sigmoid (identity heads included), one prompt at a time (no padding).
    # For XLM-R the reference ids are sentencepiece's (the slow XLMRobertaTokenizer); the
    # tokenizers-backed class of Transformers 5 is compared with them and its differences listed.
    fast_ids = [tok(p, truncation=True, max_length=MAX_LENGTH)["input_ids"] for p in golden]
    ids_all = spm_reference_ids(folder, golden) if kind == "multilingual" else fast_ids
    same = [a == b for a, b in zip(ids_all, fast_ids)]
    if not all(same):
        print(f"{kind}: {same.count(False)} of {len(golden)} golden prompts differ between the fast tokenizer and the reference")
    scores = []
    with torch.no_grad():
        for ids in ids_all:
            x = torch.tensor([ids])
            feed = {"input_ids": x, "attention_mask": torch.ones_like(x)}
            if "token_type_ids" in spec["inputs"]:
                feed["token_type_ids"] = torch.zeros_like(x)
            logits = model(**feed).logits
            scores.append(torch.sigmoid(logits)[0].double().tolist())
    scores = np.array(scores)
    for j, name in enumerate(class_names):
        diff = np.abs(np.array(preds[name]) - scores[:, j])[np.array(same)].max()
        assert diff < 1e-5, (kind, name, diff)

    export(model, spec["inputs"], os.path.join(folder, "onnx", "model.onnx"))
    check_onnx(os.path.join(folder, "onnx", "model.onnx"), spec["inputs"], ids_all, scores, pad)
    # Go reads vocab.txt (BERT) and vocab.json + merges.txt (RoBERTa); the fast tokenizer.json
    # Transformers writes beside them would only repeat them (3.5 MB for RoBERTa).
    extra = ["tokenizer.json"] if kind != "multilingual" else []
    for f in ["special_tokens_map.json", "chat_template.jinja"] + extra:
        p = os.path.join(folder, f)
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(folder, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(
            {
                "meta": {
                    "versions": vers,
                    "seed": SEED,
                    "kind": kind,
                    "detoxify_config": spec["config"],
                    "reference": "Detoxify(checkpoint, huggingface_config_path).predict in batches of 16 for the named "
                    "labels; torch.sigmoid(model(**tokenizer(text, truncation=True))) per prompt for all",
                    "max_length": MAX_LENGTH,
                    "pad_id": pad,
                },
                "labels": labels,
                "prompts": golden,
                "ids": ids_all,
                "fast_tokenizer_differs": [i for i, ok in enumerate(same) if not ok],
                "scores": scores.tolist(),
            },
            f,
            ensure_ascii=False,
        )
    return tok


def export(model, inputs, path):
    ex = {n: torch.ones((2, 7), dtype=torch.long) for n in inputs}
    if "token_type_ids" in ex:
        ex["token_type_ids"] = torch.zeros((2, 7), dtype=torch.long)

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *xs):
            return self.m(**dict(zip(inputs, xs))).logits

    dyn = {n: {0: "batch", 1: "sequence"} for n in inputs}
    dyn["logits"] = {0: "batch"}
    torch.onnx.export(
        Wrap(model), tuple(ex[n] for n in inputs), path, input_names=inputs, output_names=["logits"],
        dynamic_axes=dyn, opset_version=17, dynamo=False,
    )


def check_onnx(path, inputs, ids_all, scores, pad):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    worst = 0.0
    # Padded batches of 8, as the Go side runs them.
    for i in range(0, len(ids_all), 8):
        chunk = ids_all[i : i + 8]
        n = max(len(c) for c in chunk)
        ids = np.full((len(chunk), n), pad, dtype=np.int64)
        mask = np.zeros((len(chunk), n), dtype=np.int64)
        for r, c in enumerate(chunk):
            ids[r, : len(c)] = c
            mask[r, : len(c)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        logits = sess.run(["logits"], feed)[0]
        got = 1 / (1 + np.exp(-logits.astype(np.float64)))
        worst = max(worst, float(np.abs(got - scores[i : i + 8]).max()))
    print(f"{path}: onnx vs torch max |diff| {worst:.2e}")
    assert worst < 1e-5, worst


def corpus_digests(kind, tok, folder, corpus, vers):
    texts = corpus + EXTRA_TEXTS
    if kind == "multilingual":
        ref = spm_reference_ids(folder, texts)
        fast = [tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"] for t in texts]
        differ = [i for i, (a, b) in enumerate(zip(ref, fast)) if a != b]
        print(f"multilingual corpus: XLMRobertaTokenizer differs from sentencepiece on {len(differ)} texts")
    else:
        ref = [tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"] for t in texts]
        differ = []
    buf = bytearray()
    for ids in ref:
        buf += hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).digest()[:4]
    with open(os.path.join(OUT, f"corpus_ids_{kind}.bin"), "wb") as f:
        f.write(buf)
    return {"texts": len(texts), "fast_differs_from_reference": differ[:50], "fast_differs_count": len(differ)}


def main():
    vers = versions()
    corpus, digest = load_corpus()
    golden = golden_prompts(corpus)
    print(f"{len(corpus)} corpus prompts, {len(golden)} golden prompts")
    os.makedirs(OUT, exist_ok=True)
    meta = {"versions": vers, "corpus": "prompts/prompts.jsonl", "corpus_sha256": digest, "corpus_prompts": len(corpus),
            "extra_texts": EXTRA_TEXTS, "max_length": MAX_LENGTH,
            "reference": {"original": "transformers BertTokenizer (do_lower_case)", "unbiased": "transformers RobertaTokenizer",
                          "multilingual": "sentencepiece encode with fairseq's offset, as the slow XLMRobertaTokenizer"},
            "kinds": {}}
    meta_path = os.path.join(OUT, "corpus_ids.json")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta["kinds"] = json.load(f).get("kinds", {})
    only = os.environ.get("DETOXIFY_KINDS", ",".join(KINDS)).split(",")
    for kind in only:
        tok = build(kind, corpus, golden, vers)
        meta["kinds"][kind] = corpus_digests(kind, tok, os.path.join(OUT, kind), corpus, vers)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
