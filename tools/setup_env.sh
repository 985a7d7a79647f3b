#!/usr/bin/env bash
# Build (or refresh) the project's virtual environment in .venv.
#
#   bash tools/setup_env.sh            # create / update .venv, quick when it exists
#   VENV=/path/to/venv bash tools/setup_env.sh
#
# Installs the versions verified in the design notes: torch 2.14.1 and torchvision 0.29.1,
# mmcv 2.1.0 built from source with its ops (kept as a wheel in a cache folder keyed by
# the torch and Python versions, so the same machine never rebuilds it), mmengine, mmdet,
# mmsegmentation, mmpretrain and this package in editable mode.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE_ROOT="${MST_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mst_mm}"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
PY_TAG="$("$PY" -c 'import sys; print(f"py{sys.version_info[0]}.{sys.version_info[1]}")')"

"${PIP[@]}" install -q 'pip>=23' wheel

if ! "$PY" -c "import torch, torchvision, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    log "installing torch $TORCH_VERSION and torchvision $TORCHVISION_VERSION"
    "${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# mmcv 2.1.0 with ops, built from source against this torch (see docs in tools/build_mmcv.sh).
# On a GPU node the installed mmcv must also run its ops there (one tiny RoIAlign).
MMCV_OK="import sys, torch, mmcv, mmcv.ops
if mmcv.__version__ != '$MMCV_VERSION': sys.exit(1)
if torch.cuda.is_available():
    mmcv.ops.RoIAlign((1, 1), 1.0)(torch.ones(1, 1, 2, 2, device='cuda'),
                                   torch.tensor([[0., 0., 0., 1., 1.]], device='cuda'))"
if ! "$PY" -c "$MMCV_OK" 2>/dev/null; then
    WHEEL_DIR="$CACHE_ROOT/mmcv-$MMCV_VERSION/torch-${TORCH_VERSION}_${PY_TAG}"
    if "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
        WHEEL_DIR="${WHEEL_DIR}_cuda"
        log "a GPU is visible: mmcv is built with its CUDA ops (Mask R-CNN needs them there)"
    else
        log "no GPU visible: mmcv is built with its CPU ops only (run this again on a GPU node)"
    fi
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        bash "$ROOT/tools/build_mmcv.sh" "$PY" "$MMCV_VERSION" "$WHEEL_DIR"
    else
        log "using cached mmcv wheel from $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
    "${PIP[@]}" install -q addict packaging Pillow pyyaml yapf 'opencv-python<4.11' 'numpy<2'
fi

log "installing the OpenMMLab stack and mst_mm (editable)"
"${PIP[@]}" install -q -e "$ROOT[dev]"
"$PY" -c "import mst_mm, mmdet, mmseg, mmpretrain, mmcv.ops; print('mst_mm environment ready:', mst_mm.__version__)"
log "done: activate with 'source $VENV/bin/activate'"
