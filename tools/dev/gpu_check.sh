#!/usr/bin/env bash
# The first GPU check of MST pre-training, in one command, on a node without network
# access that has Python and PyTorch (with torchvision, numpy, Pillow, OpenCV) but no
# OpenMMLab package.
#
#   bash tools/dev/gpu_check.sh                     # on the GPU node, about 8 minutes
#   bash tools/dev/gpu_check.sh --device cpu --quick  # the same path on a CPU, in minutes
#
# 1. Installs the packages pinned in tools/dev/gpu_requirements.txt (mmengine, mmcv
#    without ops, mmpretrain and their pure-Python needs) from a wheel folder made
#    beforehand by tools/dev/download_gpu_wheels.sh, into a private folder put first on
#    PYTHONPATH: the node's own packages stay as they are.
# 2. On CUDA, tests that the teacher's [CLS] attention forms no N x N map there either.
# 3. Runs tools/analysis_tools/benchmark_pretrain.py on the MST and DINO-baseline
#    ViT-S/16 configs (2 x 224 + 8 x 96 crops, batch 64) in fp32, fp16 and bf16
#    autocast, then bf16 with torch.compile of the transformer blocks, time-boxed, last;
#    fused AdamW. It prints one table: s/iter, images/s, peak memory, FLOPs of a step
#    and the model FLOP utilisation over the H200's dense bf16 peak (989 TFLOP/s), the
#    MST/DINO ratio, and the host-device synchronisations of one step.
#
# Options:
#   --wheels DIR          the wheel folder (default: gpu_wheels/ in the repository)
#   --site DIR            where the wheels are installed (default: /tmp/mst_mm_site)
#   --out DIR             where the JSON of all figures goes (default: $OUT or work_dirs/gpu_check)
#   --device cpu|cuda     default cuda
#   --quick               toy configs, batch 2, one timed iteration, compile time-boxed
#                         to 60 s: a check of this script, not a measurement
#   --print-install-line  print the install command and stop
#   -- ARGS               passed on to benchmark_pretrain.py
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHEELS="$ROOT/gpu_wheels"
SITE="/tmp/mst_mm_site"
OUT_DIR="${OUT:-$ROOT/work_dirs/gpu_check}"
DEVICE=cuda
QUICK=0
PRINT_INSTALL=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --wheels) WHEELS="$2"; shift 2 ;;
        --site) SITE="$2"; shift 2 ;;
        --out) OUT_DIR="$2"; shift 2 ;;
        --device) DEVICE="$2"; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --print-install-line) PRINT_INSTALL=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
PY="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/tools/dev/gpu_requirements.txt"
INSTALL=("$PY" -m pip install --quiet --disable-pip-version-check --no-index --no-deps
         --no-compile --no-cache-dir --upgrade --target "$SITE" --find-links "$WHEELS"
         -r "$REQUIREMENTS")
if [ "$PRINT_INSTALL" = 1 ]; then
    echo "${INSTALL[*]}"
    exit 0
fi
log() { printf '[gpu-check %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
START=$SECONDS

if [ ! -d "$WHEELS" ]; then
    echo "no wheel folder at $WHEELS: run tools/dev/download_gpu_wheels.sh on a machine" \
         "with network access and bring the folder (a device run: carry gpu_wheels)" >&2
    exit 1
fi
log "installing $(grep -c '^[a-z]' "$REQUIREMENTS") packages from $WHEELS into $SITE"
rm -rf "$SITE"
"${INSTALL[@]}"
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

IMPORT_ERROR="$(mktemp)"
if ! "$PY" -c "import mst_mm" 2>"$IMPORT_ERROR"; then
    echo "import mst_mm failed with the installed wheels:" >&2
    tail -n 3 "$IMPORT_ERROR" >&2
    echo "a package the node lacks (the last line names it): add its wheel to" \
         "tools/dev/gpu_requirements.txt and run download_gpu_wheels.sh again" >&2
    exit 1
fi
"$PY" - <<'EOF'
import sys
import mmcv, mmengine, mmpretrain, numpy, torch
print(f'python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__}, '
      f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__} (no ops), '
      f'mmpretrain {mmpretrain.__version__}; mmdet/mmseg loaded: '
      f'{"mmdet" in sys.modules or "mmseg" in sys.modules}')
if torch.cuda.is_available():
    print('GPU:', torch.cuda.get_device_name(0))
EOF

if [ "$QUICK" = 1 ]; then
    CONFIGS=(configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py
             configs/pretrain/dino_vit-toy-p8_1xb32-20e_toy.py)
    RUN=(--batch-size 2 --warmup 1 --iters 1 --compile-timeout 60)
else
    CONFIGS=(configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py
             configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py)
    RUN=(--batch-size 64 --warmup 3 --iters 10 --compile-timeout 240)
fi
if [ "$DEVICE" = cuda ]; then  # the teacher's [CLS] attention forms no N x N map on CUDA
    (cd "$ROOT" && "$PY" -m pytest -q -p no:cacheprovider tests/test_benchmark_pretrain.py \
        -k "no_n_by_n_attention_map or flop_count") ||
        log "the tests above FAILED on CUDA; going on with the benchmark"
fi
COMPILE=bf16
[ "$DEVICE" = cpu ] && COMPILE=fp32  # autocast through AmpOptimWrapper needs a GPU
mkdir -p "$OUT_DIR"
log "benchmark on $DEVICE: ${CONFIGS[*]}"
cd "$ROOT"
"$PY" tools/analysis_tools/benchmark_pretrain.py "${CONFIGS[@]}" --device "$DEVICE" \
    "${RUN[@]}" --precision fp32 fp16 bf16 --compile "$COMPILE" --fused-adamw --check-sync \
    --json "$OUT_DIR/gpu_check.json" "${EXTRA[@]}"
log "done in $((SECONDS - START)) s; all figures in $OUT_DIR/gpu_check.json"
