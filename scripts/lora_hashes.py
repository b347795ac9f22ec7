#!/usr/bin/env python3
"""Golden LoRA file hashes for imagegem's folder ingestion tests.

For every .safetensors file of the shared LoRA folder, the hashes Civitai and the A1111 web
UI use: AutoV1 (sha256 of the 64 KiB at 1 MiB, 8 hex), AutoV2 (sha256 of the file, 10 hex),
AutoV3 (sha256 of the bytes after the safetensors header, as sd-webui-additional-networks
and A1111's "Lora hashes" compute it, 12 hex), the full SHA-256 and CRC32. Standard library
only. Usage: python3 scripts/lora_hashes.py ../shared/data/lora > imagegem/testdata/lora_hashes.json
"""
import hashlib
import json
import os
import platform
import struct
import sys
import zlib


def hashes(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    return {
        "AutoV1": hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8].upper(),
        "AutoV2": hashlib.sha256(data).hexdigest()[:10].upper(),
        "AutoV3": hashlib.sha256(data[8 + n:]).hexdigest()[:12].upper(),
        "SHA256": hashlib.sha256(data).hexdigest().upper(),
        "CRC32": "%08X" % (zlib.crc32(data) & 0xFFFFFFFF),
    }


def main():
    folder = sys.argv[1]
    out = {"generator": "scripts/lora_hashes.py", "python": platform.python_version(), "files": {}}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            out["files"][name] = hashes(os.path.join(folder, name))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
