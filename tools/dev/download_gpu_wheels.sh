#!/usr/bin/env bash
# Prepare, on a machine with network access, the wheels that tools/dev/gpu_check.sh
# installs on a GPU node that has none.
#
#   bash tools/dev/download_gpu_wheels.sh [DIR]          # DIR defaults to gpu_wheels/
#   GPU_PYTHON_VERSION=3.11 bash tools/dev/download_gpu_wheels.sh DIR
#
# Fetches the packages pinned in tools/dev/gpu_requirements.txt (pre-training) and
# tools/dev/gpu_requirements_dense.txt (detection and segmentation) for the node's Python
# (3.12 by default) into DIR, builds mmcv 2.1.0 without its compiled ops from mmcv's
# source distribution (MMCV_WITH_OPS=0 gives the pure wheel
# mmcv_lite-2.1.0-py2.py3-none-any.whl) and keeps that source distribution beside them,
# from which gpu_check.sh builds mmcv with its CUDA ops on the node. The
# folder must stay under 64 MiB, what a device run carries: the script checks. It ends
# with the line gpu_check.sh runs to install the folder. gpu_wheels/ is ignored by git;
# give it to the node beside the repository (for a device run: carry gpu_wheels).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:-$ROOT/gpu_wheels}"
PYVER="${GPU_PYTHON_VERSION:-3.12}"
PY="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/tools/dev/gpu_requirements.txt"
MMCV_VERSION="$(sed -n 's/^mmcv-lite==\([0-9.]*\).*/\1/p' "$REQUIREMENTS")"
LIMIT_MB=64
log() { printf '[gpu-wheels %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# mmcv without ops, from mmcv's own sdist. Its setup.py imports pkg_resources
# (setuptools < 70) and builds no extension when MMCV_WITH_OPS=0.
if ! ls "$DIR"/mmcv_lite-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION without ops (MMCV_WITH_OPS=0)"
    "$PY" -m venv "$WORK/build-env"
    BUILD_PIP=("$WORK/build-env/bin/python" -m pip --disable-pip-version-check -q)
    "${BUILD_PIP[@]}" install 'setuptools<70' wheel
    "${BUILD_PIP[@]}" download --no-deps --no-build-isolation --no-binary :all: \
        -d "$WORK" "mmcv==$MMCV_VERSION"
    cp "$WORK/mmcv-$MMCV_VERSION.tar.gz" "$DIR/"
    tar -xzf "$WORK/mmcv-$MMCV_VERSION.tar.gz" -C "$WORK"
    (cd "$WORK/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=0 "${BUILD_PIP[@]}" wheel --no-deps \
        --no-build-isolation --no-cache-dir -w "$DIR" .)
fi
ls "$DIR"/mmcv_lite-"$MMCV_VERSION"-py2.py3-none-any.whl >/dev/null || {
    echo "the mmcv build did not give a pure wheel (mmcv_lite-$MMCV_VERSION-py2.py3-none-any.whl)" >&2
    exit 1
}

if [ ! -f "$DIR/mmcv-$MMCV_VERSION.tar.gz" ]; then
    "$PY" -m pip --disable-pip-version-check download -q --no-deps --no-binary :all: \
        --no-build-isolation -d "$DIR" "mmcv==$MMCV_VERSION"
fi

log "downloading the pinned packages for Python $PYVER"
cat "$REQUIREMENTS" "$ROOT/tools/dev/gpu_requirements_dense.txt" | grep -v '^mmcv-lite==' \
    > "$WORK/requirements.txt"
"$PY" -m pip --disable-pip-version-check download -q --no-deps --only-binary=:all: \
    --python-version "$PYVER" --implementation cp --abi "cp${PYVER/./}" \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$DIR" -r "$WORK/requirements.txt"

SIZE_MB="$(du -sm "$DIR" | cut -f1)"
if [ "$SIZE_MB" -ge "$LIMIT_MB" ]; then
    echo "$DIR holds ${SIZE_MB} MiB, over the ${LIMIT_MB} MiB a device run carries" >&2
    exit 1
fi
log "$(ls "$DIR" | wc -l) wheels, ${SIZE_MB} MiB in $DIR; gpu_check.sh installs them with:"
bash "$ROOT/tools/dev/gpu_check.sh" --wheels "$DIR" --print-install-line
