#!/usr/bin/env bash
# Install what building the cuda package needs on Debian 12: nvcc (to rebuild the PTX in
# cuda/kernels) and the CUDA 11.8 headers and libraries that gorgonia.org/cu builds against,
# from Debian's nvidia-cuda-toolkit in the contrib and non-free components of the same
# archive (about 800 MB). Idempotent; needs root. No GPU is needed to build.
set -euo pipefail
if command -v nvcc >/dev/null && [ -f /usr/include/cuda.h ]; then
	nvcc --version | tail -n 2
	exit 0
fi
src=/etc/apt/sources.list.d/imagegem-cuda.sources
if [ ! -f "$src" ]; then
	# Same mirror and suites as the main Debian source, with contrib and non-free added.
	base=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 | awk '{print $2}')
	base=${base:-http://deb.debian.org/debian}
	cat >"$src" <<SRC
Types: deb
URIs: $base
Suites: bookworm bookworm-updates
Components: contrib non-free non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev
nvcc --version | tail -n 2
