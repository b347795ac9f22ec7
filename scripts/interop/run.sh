#!/usr/bin/env bash
# make interop: load the LoRA files w2w writes with diffusers, peft and lycoris-lora (see
# interop.py). The reference packages live in a virtual environment under .cache/, built from
# requirements.txt and rebuilt when it changes; they are never a dependency of the library.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.cache/interop-venv
req=scripts/interop/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "interop: installing the reference packages into $venv" >&2
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
	echo "$want" >"$stamp"
fi
mkdir -p .cache/interop
go build -o .cache/interop/w2w ./examples/w2w
work=$(mktemp -d "${TMPDIR:-/tmp}/interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/interop/interop.py --w2w .cache/interop/w2w --work "$work" "$@"
