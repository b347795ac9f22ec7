#!/usr/bin/env bash
# Fetch libonnxruntime.so.1 (ONNX Runtime 1.24.1, CPU, linux-x64) from the npm package
# onnxruntime-node@1.24.1 into third_party/onnxruntime/linux-x64/, verify it by sha256.
# Idempotent: does nothing when the verified library is already there.
#
# Only the npm registry is contacted (`npm pack`, which also checks the tarball's integrity
# against the registry's record). Prints the library's absolute path on success.
set -euo pipefail

VERSION=1.24.1
# sha256 of bin/napi-v6/linux/x64/libonnxruntime.so.1 inside onnxruntime-node@1.24.1.
SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/third_party/onnxruntime/linux-x64"
lib="$dest/libonnxruntime.so.1"

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) ;;
*)
	echo "onnxruntime.sh: only linux-x64 is fetched; set IMAGEGEM_ONNXRUNTIME_LIB to your own libonnxruntime" >&2
	exit 1
	;;
esac

check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if check "$lib"; then
	echo "$lib"
	exit 0
fi

command -v npm >/dev/null || { echo "onnxruntime.sh: npm is needed (apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
tgz=$(ls "$tmp"/onnxruntime-node-*.tgz)
tar -xzf "$tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
got="$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
if ! check "$got"; then
	echo "onnxruntime.sh: sha256 mismatch for libonnxruntime.so.1 from onnxruntime-node@$VERSION" >&2
	echo "  want $SHA256" >&2
	echo "  got  $(sha256sum "$got" | cut -d' ' -f1)" >&2
	exit 1
fi
mkdir -p "$dest"
# Write beside the destination and rename, so an interrupted run leaves no half file.
cp "$got" "$dest/.libonnxruntime.so.1.tmp"
mv -f "$dest/.libonnxruntime.so.1.tmp" "$lib"
echo "$lib"
