#!/usr/bin/env bash
# Build the GPU checks of package cuda and the w2w CUDA backend here, to run on a GPU machine
# that has a newer CUDA (12.x or 13.x) and PyTorch but no Go toolchain:
#   scripts/cuda-crossbuild.sh OUT [CUBLAS_SONAME]      (default soname libcublas.so.13)
# then copy OUT to the GPU machine and run `bash OUT/run.sh` from the repository root there.
#
# Why a cross-build: gorgonia.org/cu builds against the CUDA 11.x/12.x headers but not 13's,
# so the binaries are compiled against Debian's CUDA 11.8 (scripts/cuda-toolkit.sh). Debian's
# libcublas.so.11 versions its symbols (cublasSgemm_v2@libcublas.so.11), which a newer cuBLAS
# does not define, so the binaries are linked against an unversioned stub that carries the
# target's soname; at run time the target's real cuBLAS supplies the same cublas*_v2 entry
# points, and the driver JIT-compiles the embedded compute_52 PTX for the GPU.
# OUT also receives the shared-data files the tests read and scripts/bench_torch_svd.py.
set -euo pipefail
out=${1:?usage: cuda-crossbuild.sh OUT [CUBLAS_SONAME]}
soname=${2:-libcublas.so.13}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${IMAGEGEM_SHARED_DATA:-$root/../shared/data}
mkdir -p "$out/stub" "$out/data/lora"
out=$(cd "$out" && pwd)
cd "$root"
[ -f /usr/include/cuda.h ] || { echo "cuda-crossbuild.sh: CUDA headers missing (run scripts/cuda-toolkit.sh)" >&2; exit 1; }
# 1. A first build against the real library lists the cuBLAS symbols the binaries use.
go test -tags cuda -c -o "$out/w2w.test" ./w2w
nm -D --undefined-only "$out/w2w.test" | awk '{print $2}' | sed 's/@.*//' | grep '^cublas' | sort -u |
	awk '{print "void " $1 "(void) {}"}' >"$out/stub/cublas_stub.c"
gcc -shared -fPIC -Wl,-soname,"$soname" -o "$out/stub/libcublas.so" "$out/stub/cublas_stub.c"
# 2. The real builds, linked against the stub (searched before the system library).
for pkg in cuda w2w; do
	CGO_LDFLAGS="-L$out/stub" go test -tags cuda -c -o "$out/$pkg.test" "./$pkg"
	readelf -d "$out/$pkg.test" | grep -q "\[$soname\]" || { echo "cuda-crossbuild.sh: $pkg.test does not need $soname" >&2; exit 1; }
done
# 3. The test data: real LoRAs and the key manifests the benchmarks build their files from.
for f in cloneofsimo_analog_svd_rank4 cloneofsimo_lora_disney cloneofsimo_lora_disney_inpainting \
	diffusers_sd15_rank4_catundchat diffusers_sd15_rank4_pokemon diffusers_sd15_unetprefix_bf16_vfph55 \
	diffusers_sd15_unetprefix_rank4_timohavdk flux_peft_aitoolkit_leighwoods \
	lycoris_lokr_smart_falcon_4 lycoris_lokr_smart_falcon_8 lycoris_lokr_smart_falcon_16; do
	cp "$data/lora/$f.safetensors" "$out/data/lora/"
done
cp -r "$data/lora/invokeai_stripped_manifests" "$out/data/lora/"
chmod -R u+w "$out/data"
cp scripts/bench_torch_svd.py scripts/cuda-device-check.sh "$out/"
mv -f "$out/cuda-device-check.sh" "$out/run.sh"
du -sh "$out"
