#!/usr/bin/python3
"""Writes the tiny CLIP-shaped test models of package embed and their golden embeddings.

The towers follow OpenAI CLIP's architecture (clip/model.py) at toy width, with random
weights from a fixed seed:
  text:   token embedding (49,408 x 16, stored as float16) + positional embedding (77),
          2 pre-LayerNorm residual attention blocks with a causal mask and QuickGELU MLPs,
          final LayerNorm, pooling at the end token (argmax of the ids), projection 16 -> 12
  vision: 32x32 patch convolution on 224x224, class token, positional embedding (50),
          ln_pre, 2 residual attention blocks, ln_post on the class token, projection 16 -> 12
Exported (torch.onnx, opset 14) in the Hugging Face / Transformers.js layout:
  embed/testdata/tinyclip/onnx/text_model.onnx    input_ids [N,77] int64 -> text_embeds [N,12]
  embed/testdata/tinyclip/onnx/vision_model.onnx  pixel_values [N,3,224,224] -> image_embeds [N,12]
  embed/testdata/tinyclip/config.json, preprocessor_config.json
  embed/testdata/tinyclip/bpe_simple_vocab_16e6.txt.gz  the first 48,895 lines of OpenAI's
          merges file (all that the tokenizer reads), so that the folder is self-contained
  embed/testdata/tinyclip-combined/model.onnx  both towers at width 8 in one graph, the way
          a whole CLIPModel is exported: (input_ids, pixel_values) -> (text_embeds,
          image_embeds), with its own golden.json
  embed/testdata/tinyclip/golden.json  unit-length embeddings of a few prompts (ids from the
          reference tokenizer of scripts/gen_clip_tokenizer.py) and images (pixels from PIL
          as in scripts/gen_clip_images.py), computed by torch, not by ONNX Runtime.

Run with Debian's interpreter: /usr/bin/python3 scripts/gen_clip_models.py
"""
import gzip
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_clip_images as pilref  # noqa: E402
import gen_clip_tokenizer as tokref  # noqa: E402

OUT = os.path.join(HERE, "..", "embed", "testdata", "tinyclip")
SHARED = os.path.join(HERE, "..", "..", "shared", "data")
VOCAB, CTX, WIDTH, HEADS, LAYERS, EMBED, PATCH, RES = 49408, 77, 16, 2, 2, 12, 32, 224
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
LOGIT_SCALE = math.log(100.0)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.out = nn.Linear(WIDTH, WIDTH)
        self.ln_2 = nn.LayerNorm(WIDTH)
        self.fc = nn.Linear(WIDTH, 4 * WIDTH)
        self.act = QuickGELU()
        self.proj = nn.Linear(4 * WIDTH, WIDTH)
        self.causal = causal

    def attn(self, x):
        n, l, _ = x.shape
        q, k, v = self.qkv(x).split(WIDTH, dim=-1)
        hd = WIDTH // HEADS
        q = q.reshape(n, l, HEADS, hd).transpose(1, 2)
        k = k.reshape(n, l, HEADS, hd).transpose(1, 2)
        v = v.reshape(n, l, HEADS, hd).transpose(1, 2)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if self.causal:
            mask = torch.full((l, l), float("-inf")).triu(1)
            a = a + mask
        a = a.softmax(dim=-1)
        y = (a @ v).transpose(1, 2).reshape(n, l, WIDTH)
        return self.out(y)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.proj(self.act(self.fc(self.ln_2(x))))


class Text(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Parameter(torch.randn(VOCAB, WIDTH).half())
        self.positional_embedding = nn.Parameter(torch.randn(CTX, WIDTH) * 0.1)
        self.blocks = nn.ModuleList([Block(True) for _ in range(LAYERS)])
        self.ln_final = nn.LayerNorm(WIDTH)
        self.text_projection = nn.Parameter(torch.randn(WIDTH, EMBED) / math.sqrt(WIDTH))

    def forward(self, input_ids):
        x = self.token_embedding[input_ids].float() + self.positional_embedding
        for b in self.blocks:
            x = b(x)
        x = self.ln_final(x)
        eot = input_ids.argmax(dim=-1)
        x = x[torch.arange(x.shape[0]), eot]
        return x @ self.text_projection


class Vision(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, WIDTH, PATCH, PATCH, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(WIDTH) * 0.1)
        self.positional_embedding = nn.Parameter(torch.randn((RES // PATCH) ** 2 + 1, WIDTH) * 0.1)
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.blocks = nn.ModuleList([Block(False) for _ in range(LAYERS)])
        self.ln_post = nn.LayerNorm(WIDTH)
        self.proj = nn.Parameter(torch.randn(WIDTH, EMBED) / math.sqrt(WIDTH))

    def forward(self, pixel_values):
        x = self.conv1(pixel_values)
        x = x.reshape(x.shape[0], WIDTH, -1).permute(0, 2, 1)
        cls = self.class_embedding.reshape(1, 1, WIDTH).expand(x.shape[0], 1, WIDTH)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x[:, 0, :]) @ self.proj


def perturb_layernorms(m, gen):
    for mod in m.modules():
        if isinstance(mod, nn.LayerNorm):
            with torch.no_grad():
                mod.weight.add_(0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.add_(0.1 * torch.randn(mod.bias.shape, generator=gen))


PROMPTS = [
    "a photo of a cat",
    "",
    "(masterpiece:1.2), ((best quality)), 1girl, <lora:detail:0.8>, cherry blossoms",
    "中文提示词，一个女孩 😀 café",
    " ".join(["very long prompt"] * 40),
]
IMAGES = [
    "photo_rgb_512x512.png",
    "png_grayscale-8bit_mask_512x512.png",
    "png_palette-2bit_900x600.png",
    "png_rgba-soft-alpha_1024x768.png",
]


def pixels(rgb):
    a = np.asarray(rgb, dtype=np.float32) / 255.0
    a = (a - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def unit(x):
    return (x / x.norm(dim=-1, keepdim=True)).tolist()


def main():
    torch.manual_seed(20251125)
    gen = torch.Generator().manual_seed(7)
    text, vision = Text().eval(), Vision().eval()
    perturb_layernorms(text, gen)
    perturb_layernorms(vision, gen)
    os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)
    ids = torch.zeros(2, CTX, dtype=torch.int64)
    ids[:, 0], ids[:, 3] = 49406, 49407
    torch.onnx.export(text, (ids,), os.path.join(OUT, "onnx", "text_model.onnx"), opset_version=14,
                      input_names=["input_ids"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}})
    px = torch.zeros(2, 3, RES, RES)
    torch.onnx.export(vision, (px,), os.path.join(OUT, "onnx", "vision_model.onnx"), opset_version=14,
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}})

    tok = tokref.Reference(os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz"))
    tids = torch.tensor([tok.tokenize(p) for p in PROMPTS], dtype=torch.int64)
    imgs = {}
    for tr, fn in (("clip", pilref.clip), ("hpsv2", pilref.hps)):
        batch = []
        for name in IMAGES:
            im = Image.open(os.path.join(SHARED, "images", name))
            im.load()
            batch.append(pixels(fn(im)))
        with torch.no_grad():
            imgs[tr] = unit(vision(torch.stack(batch)))
    with torch.no_grad():
        temb = unit(text(tids))
    golden = {"prompts": PROMPTS, "text_embeds": temb, "images": IMAGES,
              "image_embeds_clip": imgs["clip"], "image_embeds_hpsv2": imgs["hpsv2"]}
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, indent=0)
    config = {
        "model_type": "clip",
        "projection_dim": EMBED,
        "logit_scale_init_value": LOGIT_SCALE,
        "text_config": {"hidden_size": WIDTH, "max_position_embeddings": CTX, "vocab_size": VOCAB,
                        "bos_token_id": 49406, "eos_token_id": 49407, "num_hidden_layers": LAYERS},
        "vision_config": {"hidden_size": WIDTH, "image_size": RES, "patch_size": PATCH,
                          "num_hidden_layers": LAYERS},
    }
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    pre = {"crop_size": {"height": RES, "width": RES}, "do_center_crop": True, "do_normalize": True,
           "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_convert_rgb": True,
           "image_mean": MEAN, "image_std": STD, "resample": 3, "size": {"shortest_edge": RES},
           "image_processor_type": "CLIPImageProcessor"}
    with open(os.path.join(OUT, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    src = os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz")
    lines = gzip.open(src).read().decode("utf-8").split("\n")[: 49152 - 256 - 2 + 1]
    with gzip.GzipFile(os.path.join(OUT, "bpe_simple_vocab_16e6.txt.gz"), "wb", 9, mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))


class Combined(nn.Module):
    def __init__(self):
        super().__init__()
        self.text, self.vision = Text(), Vision()

    def forward(self, input_ids, pixel_values):
        return self.text(input_ids), self.vision(pixel_values)


def combined():
    global WIDTH
    WIDTH = 8
    torch.manual_seed(20251126)
    m = Combined().eval()
    perturb_layernorms(m, torch.Generator().manual_seed(8))
    out = OUT + "-combined"
    os.makedirs(out, exist_ok=True)
    ids = torch.zeros(2, CTX, dtype=torch.int64)
    ids[:, 0], ids[:, 3] = 49406, 49407
    torch.onnx.export(m, (ids, torch.zeros(2, 3, RES, RES)), os.path.join(out, "model.onnx"), opset_version=14,
                      input_names=["input_ids", "pixel_values"], output_names=["text_embeds", "image_embeds"],
                      dynamic_axes={"input_ids": {0: "texts"}, "pixel_values": {0: "images"},
                                    "text_embeds": {0: "texts"}, "image_embeds": {0: "images"}})
    tok = tokref.Reference(os.path.join(SHARED, "tokenizers", "clip_bpe_simple_vocab_16e6.txt.gz"))
    tids = torch.tensor([tok.tokenize(p) for p in PROMPTS], dtype=torch.int64)
    batch = []
    for name in IMAGES:
        im = Image.open(os.path.join(SHARED, "images", name))
        im.load()
        batch.append(pixels(pilref.clip(im)))
    with torch.no_grad():
        t, v = m(tids, torch.stack(batch))
    golden = {"prompts": PROMPTS, "text_embeds": unit(t), "images": IMAGES, "image_embeds_clip": unit(v)}
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=0)


if __name__ == "__main__":
    main()
    combined()
