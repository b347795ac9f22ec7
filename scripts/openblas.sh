#!/usr/bin/env bash
# Install what the w2w OpenBLAS backend (build tag openblas) needs: Debian's libopenblas-dev
# (cblas.h and libopenblas with LAPACK inside). Idempotent; installing needs root and apt.
set -euo pipefail
if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] ||
	ls /usr/include/*/openblas*/cblas.h >/dev/null 2>&1; then
	# ldconfig lives in /sbin, which a user's PATH may lack; the linker needs libopenblas.so.
	for lib in /usr/lib/x86_64-linux-gnu/libopenblas.so /usr/lib/libopenblas.so /usr/local/lib/libopenblas.so; do
		[ -e "$lib" ] && exit 0
	done
	if PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | grep 'libopenblas\.so ' >/dev/null; then
		exit 0
	fi
fi
if [ "$(id -u)" != 0 ]; then
	echo "openblas.sh: the w2w OpenBLAS tests need Debian's libopenblas-dev (cblas.h, libopenblas.so); run make test as root once, or: sudo apt-get install -y libopenblas-dev" >&2
	exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas-dev >/dev/null
echo "openblas.sh: installed $(dpkg-query -W -f='${Package} ${Version}' libopenblas-dev)"
