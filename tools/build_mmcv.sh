#!/usr/bin/env bash
# Build an mmcv wheel with its ops from the PyPI sdist against the torch of a given Python.
#
#   bash tools/build_mmcv.sh PYTHON VERSION OUT_DIR
#
# The released setup.py passes -std=c++17 for the CPU extension, but torch >= 2.10 headers
# need C++20; the flag is raised before building. Where CUDA is available the CUDA ops are
# built too (FORCE_CUDA=1). The wheel lands in OUT_DIR, which the caller keys by torch and
# Python version: pip's own wheel cache does not key on torch and would reuse a stale build.
set -euo pipefail
PY="$1"; VERSION="$2"; OUT_DIR="$3"
log() { printf '[build-mmcv %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# setuptools<70: mmcv's setup.py imports pkg_resources; ninja for a parallel build.
"$PY" -m pip install -q --disable-pip-version-check 'setuptools<70' ninja
log "downloading the mmcv $VERSION source distribution"
"$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: --no-cache-dir -d "$WORK" "mmcv==$VERSION"
tar -xzf "$WORK"/mmcv-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/mmcv-$VERSION"
sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py" || { echo "could not patch the C++ standard in mmcv's setup.py" >&2; exit 1; }

export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
if "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    export FORCE_CUDA=1
    log "CUDA found: building CUDA and CPU ops"
fi
log "compiling mmcv ops with MAX_JOBS=$MAX_JOBS (several minutes on 2 cores)"
mkdir -p "$OUT_DIR"
( cd "$SRC" && "$PY" -m pip wheel -q --no-build-isolation --no-deps --no-cache-dir -w "$WORK/dist" . )
mv "$WORK"/dist/mmcv-*.whl "$OUT_DIR"/
log "wheel stored in $OUT_DIR"
