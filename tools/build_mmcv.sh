#!/usr/bin/env bash
# Build an mmcv wheel with its ops from the PyPI sdist against the torch of a given Python.
#
#   bash tools/build_mmcv.sh PYTHON VERSION OUT_DIR
#
# The released setup.py passes -std=c++17 for the CPU extension, but torch >= 2.10 headers
# need C++20; the flag is raised before building. Where CUDA is available the CUDA ops are
# built too (FORCE_CUDA=1), for this machine's GPU unless TORCH_CUDA_ARCH_LIST says
# otherwise. The wheel lands in OUT_DIR, which the caller keys by torch and Python
# version: pip's own wheel cache does not key on torch and would reuse a stale build.
#
# Without network (a GPU node): MMCV_SDIST=mmcv-VERSION.tar.gz and BUILD_WHEELS=DIR (a
# folder with the setuptools<70, ninja and wheel wheels, installed into a private folder, not
# into PYTHON's environment); tools/dev/download_gpu_wheels.sh fetches both.
set -euo pipefail
PY="$1"; VERSION="$2"; OUT_DIR="$3"
log() { printf '[build-mmcv %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# setuptools<70: mmcv's setup.py imports pkg_resources; ninja for a parallel build.
if [ -n "${BUILD_WHEELS:-}" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps \
        --find-links "$BUILD_WHEELS" --target "$WORK/build-site" 'setuptools<70' ninja wheel
    export PYTHONPATH="$WORK/build-site${PYTHONPATH:+:$PYTHONPATH}"
    export PATH="$WORK/build-site/bin:$PATH"
else
    "$PY" -m pip install -q --disable-pip-version-check 'setuptools<70' ninja
fi
if [ -n "${MMCV_SDIST:-}" ]; then
    cp "$MMCV_SDIST" "$WORK/mmcv-$VERSION.tar.gz"
else
    log "downloading the mmcv $VERSION source distribution"
    "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: --no-cache-dir -d "$WORK" "mmcv==$VERSION"
fi
tar -xzf "$WORK"/mmcv-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/mmcv-$VERSION"
sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py" || { echo "could not patch the C++ standard in mmcv's setup.py" >&2; exit 1; }

export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
if "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    export FORCE_CUDA=1
    if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
        TORCH_CUDA_ARCH_LIST="$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")"
        export TORCH_CUDA_ARCH_LIST
    fi
    log "CUDA found: building CUDA (for compute capability $TORCH_CUDA_ARCH_LIST) and CPU ops"
fi
log "compiling mmcv ops with MAX_JOBS=$MAX_JOBS (several minutes on 2 cores)"
mkdir -p "$OUT_DIR"
( cd "$SRC" && "$PY" -m pip wheel -q --no-build-isolation --no-deps --no-cache-dir \
    ${BUILD_WHEELS:+--no-index} -w "$WORK/dist" . )
mv "$WORK"/dist/mmcv-*.whl "$OUT_DIR"/
log "wheel stored in $OUT_DIR"
