#!/usr/bin/python3
"""Writes the image preprocessing parity goldens of package embed with PIL (python3-pil).

For every image of ../shared/data/images/ it writes, as lossless PNG in
embed/testdata/pil/, the 224x224 8-bit RGB picture that the reference pipelines hand to
ToTensor/Normalize (the normalisation itself is exact arithmetic and checked in Go):

  NAME.clip.png   OpenAI CLIP / open_clip: Image.open, Resize(224, BICUBIC) on the image in
                  its own mode (torchvision: short side 224, long side int(224*long/short)),
                  CenterCrop(224) (offset int(round((size-224)/2))), convert("RGB")
  NAME.hf.png     Hugging Face CLIPImageProcessor: convert("RGB") first, the same resize,
                  centre crop with offset (size-224)//2 (only for files not opened as RGB)
  NAME.hps.png    HPSv2 (open_clip ResizeMaxSize): longest side to 224 (round(dim*scale)),
                  BICUBIC, zero padding pad//2 before and the rest after, convert("RGB")
  NAME.clip-exif.png  as .clip but after ImageOps.exif_transpose (only images with an EXIF
                  orientation other than 1)

It also writes embed/testdata/pil/inputs/gray16_301x203.png, a synthetic 16-bit
greyscale PNG (values 0..600, so PIL's clipping to 255 shows), with the same goldens.

Run with Debian's interpreter: /usr/bin/python3 scripts/gen_clip_images.py
"""
import os

from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "..", "shared", "data", "images")
OUT = os.path.join(ROOT, "embed", "testdata", "pil")
SIZE = 224


def resize_short(im):
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(SIZE * long / short)
    nw, nh = (SIZE, new_long) if w <= h else (new_long, SIZE)
    if (nw, nh) == (w, h):
        return im
    return im.resize((nw, nh), Image.BICUBIC)


def crop(im, rounding):
    w, h = im.size
    if rounding:
        top, left = int(round((h - SIZE) / 2.0)), int(round((w - SIZE) / 2.0))
    else:
        top, left = (h - SIZE) // 2, (w - SIZE) // 2
    return im.crop((left, top, left + SIZE, top + SIZE))


def clip(im):
    return crop(resize_short(im), True).convert("RGB")


def hf(im):
    return crop(resize_short(im.convert("RGB")), False)


def hps(im):
    w, h = im.size
    scale = SIZE / float(max(h, w))
    nh, nw = round(h * scale), round(w * scale)
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), Image.BICUBIC)
    ph, pw = SIZE - nh, SIZE - nw
    border = (pw // 2, ph // 2, pw - pw // 2, ph - ph // 2)
    if im.mode == "P":
        pal = im.getpalette()
        im = ImageOps.expand(im, border=border, fill=0)
        im.putpalette(pal)
    else:
        im = ImageOps.expand(im, border=border, fill=0)
    return im.convert("RGB")


def synthetic():
    import numpy as np

    rng = np.random.default_rng(16)
    y, x = np.mgrid[0:203, 0:301]
    a = 300 + 250 * np.sin(x / 17.0) * np.cos(y / 11.0) + rng.normal(0, 40, (203, 301))
    a = np.clip(a, 0, 600).astype(np.uint16)
    os.makedirs(os.path.join(OUT, "inputs"), exist_ok=True)
    path = os.path.join(OUT, "inputs", "gray16_301x203.png")
    Image.fromarray(a).save(path)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    paths = [os.path.join(SRC, n) for n in sorted(os.listdir(SRC)) if not n.endswith((".md", ".txt"))]
    for path in paths + [synthetic()]:
        name = os.path.basename(path)
        im = Image.open(path)
        im.load()
        base = os.path.join(OUT, name)
        clip(im).save(base + ".clip.png", optimize=True)
        if im.mode != "RGB":  # for RGB files only the crop offset rounding differs
            hf(im).save(base + ".hf.png", optimize=True)
        hps(im).save(base + ".hps.png", optimize=True)
        if im.getexif().get(0x0112, 1) != 1:
            clip(ImageOps.exif_transpose(im)).save(base + ".clip-exif.png", optimize=True)
        print(name, im.mode, im.size)


if __name__ == "__main__":
    main()
