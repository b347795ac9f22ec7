"""Writes the animated-WebP goldens of package embed (embed/testdata/webpanim/).

Each input is a two-frame animated WebP assembled here chunk by chunk (RIFF/VP8X/ANIM/ANMF,
the container of the WebP specification) around still bitstreams that Pillow encodes, so
that the first frame is a sub-rectangle at an offset with partial transparency, which
libwebp's encoder never writes for a first frame on its own. The golden is what Pillow's
Image.open shows (libwebp's WebPAnimDecoder, first frame), as a PNG in the mode Pillow
reports, plus the mode in the JSON file beside it.

Pinned: Pillow==13.0.0 (libwebp 1.6.0). Run: VENV/bin/python scripts/gen_webp_anim.py
"""
import io
import json
import os
import struct

import PIL
from PIL import Image, features

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "embed", "testdata", "webpanim")


def chunk(tag, payload):
    b = tag + struct.pack("<I", len(payload)) + payload
    return b + (b"\0" if len(payload) % 2 else b"")


def still_chunks(im, lossless):
    buf = io.BytesIO()
    im.save(buf, "WEBP", lossless=lossless, quality=80, method=4, exact=True)
    d = buf.getvalue()
    out, i = [], 12
    while i + 8 <= len(d):
        tag, n = d[i:i + 4], struct.unpack("<I", d[i + 4:i + 8])[0]
        if tag in (b"ALPH", b"VP8 ", b"VP8L"):
            out.append(d[i:i + 8 + n] + (b"\0" if n % 2 else b""))
        i += 8 + n + n % 2
    return b"".join(out)


def u24(v):
    return struct.pack("<I", v)[:3]


def anmf(x, y, im, lossless, blend_off=False):
    w, h = im.size
    flags = 0x02 if blend_off else 0x00
    hdr = u24(x // 2) + u24(y // 2) + u24(w - 1) + u24(h - 1) + u24(100) + bytes([flags])
    return chunk(b"ANMF", hdr + still_chunks(im, lossless))


def animated(canvas, alpha, frames):
    cw, ch = canvas
    flags = 0x02 | (0x10 if alpha else 0)
    vp8x = chunk(b"VP8X", bytes([flags, 0, 0, 0]) + u24(cw - 1) + u24(ch - 1))
    anim = chunk(b"ANIM", struct.pack("<4BH", 255, 255, 255, 255, 0))  # white background, ignored
    body = b"WEBP" + vp8x + anim + b"".join(frames)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pattern(w, h, seed, with_alpha):
    im = Image.new("RGBA", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            a = 255 if not with_alpha else (0 if (x + y) % 7 == 0 else (x * 255) // max(w - 1, 1))
            px[x, y] = ((x * 7 + seed * 31) % 256, (y * 11 + seed * 17) % 256, ((x ^ y) * 5) % 256, a)
    return im if with_alpha else im.convert("RGB")


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {
        # lossless frame with partial and zero alpha at an offset on an alpha canvas
        "lossless_offset_alpha_64x48": ((64, 48), True, [(10, 6, pattern(30, 20, 1, True), True, False),
                                                         (0, 0, pattern(64, 48, 2, False), True, False)]),
        # lossy frame with ALPH at an offset, blending off
        "lossy_offset_alph_80x60": ((80, 60), True, [(16, 8, pattern(40, 36, 3, True), False, True),
                                                     (0, 0, pattern(80, 60, 4, False), False, False)]),
        # opaque lossy frame at an offset on a canvas without the alpha flag (mode RGB)
        "lossy_offset_rgb_50x40": ((50, 40), False, [(4, 2, pattern(24, 30, 5, False), False, False),
                                                     (0, 0, pattern(50, 40, 6, False), False, False)]),
    }
    meta = {"pillow": PIL.__version__, "libwebp": features.version("webp"), "cases": {}}
    for name, (canvas, alpha, frames) in cases.items():
        data = animated(canvas, alpha, [anmf(x, y, im, ll, b) for x, y, im, ll, b in frames])
        with open(os.path.join(OUT, name + ".webp"), "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data))
        assert im.n_frames == 2, im.n_frames
        im.seek(0)
        im.load()
        im.save(os.path.join(OUT, name + ".png"))
        meta["cases"][name] = {"mode": im.mode, "size": list(im.size)}
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
