#!/usr/bin/env bash
# The GPU check in one command, on a node without network access that has Python and
# PyTorch (with torchvision, numpy, Pillow, OpenCV) but no OpenMMLab package: about
# 9 minutes on an H200 node with 16 cores. Each phase is time-boxed within --budget and
# writes its figures to the output folder as it ends; a phase that fails is reported and
# the next one runs.
#
#   bash tools/dev/gpu_check.sh                       # on the GPU node
#   bash tools/dev/gpu_check.sh --device cpu --quick  # the same path on a CPU: a check
#                                                     # of this script, not a measurement
#
# Phases:
#   install   the wheels of gpu_wheels/ (tools/dev/download_gpu_wheels.sh) into private
#             folders put first on PYTHONPATH: mmcv without ops for pre-training, and
#             mmdet, mmsegmentation and their needs; the node's own packages stay as
#             they are
#   mmcv      (in the background from the start) mmcv 2.1.0 built there with its CUDA
#             ops, from its source distribution, for this GPU
#   speed     tools/analysis_tools/benchmark_pretrain.py: the MST and DINO-baseline
#             ViT-S/16 steps (2 x 224 + 8 x 96 crops, batch 64) in fp32, fp16, bf16 and
#             bf16 with compiled blocks: s/iter, images/s, memory, FLOPs, MFU, the
#             phases and top operations of the step, host-device synchronisations;
#             then batch 128 and 256 (bf16), then ViT-B/16 (bf16)
#   cuda      tests/test_cuda.py and the CUDA cases of tests/test_benchmark_pretrain.py
#   smoke     the real-size smoke of the full benchmark (run_benchmark.py --preset full
#             --smoke) through tools/train.py and tools/test.py, fp16: pre-training,
#             extraction, Mask R-CNN, SETR, UperNet, each trained and tested, a run
#             resumed; s/iter, peak GPU memory
#   e2e       MST pre-training through tools/train.py with its real data pipeline on
#             synthetic ImageNet-size JPEGs (bf16, the node's cores as workers):
#             images/s with data loading, and the data wait
#   smoke-bf16  the same smoke in bf16 (pre-training and segmentation; the detectors
#             refuse bf16)
#
# Options:
#   --wheels DIR     the wheel folder (default: gpu_wheels/ in the repository)
#   --out DIR        where gpu_check.log (every phase's output) and gpu_check.json (every
#                    figure) go, with phases.tsv (default: $OUT or work_dirs/gpu_check)
#   --device cpu|cuda  default cuda
#   --quick          toy configs and tiny sizes (with --device cpu)
#   --budget S       seconds for all phases (default 560)
#   --only PHASES    comma-separated phases to run (default: all)
#   --print-install-line  print the command that installs the pre-training wheels, and stop
#   -- ARGS          passed on to every run of benchmark_pretrain.py
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHEELS="$ROOT/gpu_wheels"
OUT_DIR="${OUT:-$ROOT/work_dirs/gpu_check}"
DEVICE=cuda
QUICK=0
BUDGET=560
ONLY=all
PRINT_INSTALL=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --wheels) WHEELS="$2"; shift 2 ;;
        --out) OUT_DIR="$2"; shift 2 ;;
        --device) DEVICE="$2"; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --budget) BUDGET="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --print-install-line) PRINT_INSTALL=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
PY="${PYTHON:-python3}"
WORK="${GPU_CHECK_WORK:-/tmp/mst_mm_gpu_check}"
LITE="$WORK/site-lite"        # mmengine, mmcv without ops, mmpretrain
PIP_INSTALL=("$PY" -m pip install --quiet --disable-pip-version-check --no-index --no-deps
             --no-compile --no-cache-dir --upgrade --find-links "$WHEELS")
if [ "$PRINT_INSTALL" = 1 ]; then
    echo "${PIP_INSTALL[*]} --target $LITE -r $ROOT/tools/dev/gpu_requirements.txt"
    exit 0
fi
START=$SECONDS
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
DENSE="$WORK/site-dense"      # + mmdet, mmseg, their needs, and the mmcv built here
BUILT="$WORK/mmcv-wheel"
LOGS="$WORK/logs"             # each phase's output, gathered in $OUT_DIR/gpu_check.log
RESULTS="$WORK/results"       # each phase's figures, gathered in $OUT_DIR/gpu_check.json
STATUS="$OUT_DIR/phases.tsv"
REPORT="$OUT_DIR/gpu_check.log"
: > "$STATUS"; : > "$REPORT"
log() { printf '[gpu-check %4ds] %s\n' "$((SECONDS - START))" "$*"; }
left() { echo $((BUDGET - (SECONDS - START))); }
wanted() { [ "$ONLY" = all ] || [[ ",$ONLY," == *",$1,"* ]]; }

# phase NAME MIN_SECONDS CAP_SECONDS COMMAND...: run COMMAND (output in NAME.log, its
# tail shown) if MIN_SECONDS are left, stopped after CAP_SECONDS or at the budget.
phase() {
    local name="$1" need="$2" cap="$3"; shift 3
    if ! wanted "$name"; then return 0; fi
    local remaining; remaining="$(left)"
    if [ "$remaining" -lt "$need" ]; then
        log "$name: skipped, $remaining s left of the budget (needs $need)"
        printf '%s\tskipped\t0\n' "$name" >> "$STATUS"
        return 1
    fi
    local limit=$(( cap < remaining - 5 ? cap : remaining - 5 ))
    log "$name: start (at most $limit s)"
    local began=$SECONDS
    timeout --signal=TERM --kill-after=10 "$limit" "$@" > "$LOGS/$name.log" 2>&1
    local code=$?
    tail -n 25 "$LOGS/$name.log" | sed "s/^/    [$name] /"
    log "$name: exit $code after $((SECONDS - began)) s"
    printf '%s\t%s\t%s\n' "$name" "$code" "$((SECONDS - began))" >> "$STATUS"
    { echo "=== $name: exit $code after $((SECONDS - began)) s"; cat "$LOGS/$name.log"; } \
        >> "$REPORT"
    return $code
}

# -- install -------------------------------------------------------------------------
if [ ! -d "$WHEELS" ]; then
    echo "no wheel folder at $WHEELS: run tools/dev/download_gpu_wheels.sh on a machine" \
         "with network access and bring the folder (a device run: carry gpu_wheels)" >&2
    exit 1
fi
rm -rf "$LITE" "$DENSE" "$LOGS" "$RESULTS" && mkdir -p "$WORK" "$LOGS" "$RESULTS"
log "install: $(grep -c '^[a-z]' "$ROOT/tools/dev/gpu_requirements.txt") + $(grep -c '^[a-z]' "$ROOT/tools/dev/gpu_requirements_dense.txt") packages from $WHEELS"
"${PIP_INSTALL[@]}" --target "$LITE" -r "$ROOT/tools/dev/gpu_requirements.txt" || exit 1
grep -v '^mmcv-lite' "$ROOT/tools/dev/gpu_requirements.txt" > "$WORK/requirements-dense.txt"
grep -v '^setuptools\|^ninja\|^wheel' "$ROOT/tools/dev/gpu_requirements_dense.txt" >> "$WORK/requirements-dense.txt"
if ! "${PIP_INSTALL[@]}" --target "$DENSE" -r "$WORK/requirements-dense.txt" \
        > "$LOGS/install-dense.log" 2>&1; then
    log "install: the dense wheels do not install for this Python ($(tail -n 1 "$LOGS/install-dense.log")); the dense phases use the environment's packages"
    rm -rf "$DENSE"; mkdir -p "$DENSE"
fi
export PYTHONUNBUFFERED=1
LITE_PY=(env "PYTHONPATH=$LITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY")
DENSE_PY=(env "PYTHONPATH=$DENSE:$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY")
"${LITE_PY[@]}" - <<'EOF' 2>&1 | grep -v 'Warning\|warn\|Strip' | tee -a "$REPORT"
import sys
import mst_mm  # noqa: F401  (first: see mst_mm.utils.compat)
import mmcv, mmengine, mmpretrain, numpy, torch
print(f'python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__}, '
      f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, mmpretrain '
      f'{mmpretrain.__version__}, {len(__import__("os").sched_getaffinity(0))} cores')
if torch.cuda.is_available():
    print('GPU:', torch.cuda.get_device_name(0))
EOF

# -- mmcv with CUDA ops, in the background -------------------------------------------
CORES="$(nproc)"
BUILD_PID=""
if [ "$DEVICE" = cuda ] && wanted mmcv; then
    log "mmcv: building with CUDA ops in the background ($((CORES > 6 ? CORES - 4 : 2)) jobs)"
    BUILD_WHEELS="$WHEELS" MMCV_SDIST="$(ls "$WHEELS"/mmcv-*.tar.gz | head -n 1)" \
        MAX_JOBS=$((CORES > 6 ? CORES - 4 : 2)) \
        bash "$ROOT/tools/build_mmcv.sh" "$PY" 2.1.0 "$BUILT" > "$LOGS/mmcv.log" 2>&1 &
    BUILD_PID=$!
fi

# The JPEGs of the end-to-end run, written meanwhile on one core.
E2E_ITERS=10; E2E_BATCH=64; WORKERS=$((CORES - 2))
[ "$QUICK" = 1 ] && E2E_ITERS=2 && E2E_BATCH=2 && WORKERS=1
# (the writers need pycocotools and cityscapesscripts, of the dense folder, and mmcv,
# of the lite one until mmcv is built)
E2E_DATA_PID=""
if wanted e2e; then
    env "PYTHONPATH=$DENSE:$LITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -c "
from mst_mm.datasets.toy.full_size import make_full_size_data
make_full_size_data('$WORK/e2e', $((E2E_ITERS * E2E_BATCH)), 1, datasets=['imagenet'])" \
        > "$LOGS/e2e-data.log" 2>&1 &
    E2E_DATA_PID=$!
fi

# -- pre-training step speed (mmcv without ops) --------------------------------------
cd "$ROOT"
if [ "$QUICK" = 1 ]; then
    MST=configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py
    DINO=configs/pretrain/dino_vit-toy-p8_1xb32-20e_toy.py
    MST_B="$MST"; DINO_B="$DINO"
    SPEED=(--batch-size 2 --warmup 1 --iters 1 --compile-timeout 120)
    BATCHES=(4); PRECISIONS=(fp32); COMPILE=fp32
else
    MST=configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py
    DINO=configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py
    MST_B=configs/pretrain/mst_vit-base-p16_16xb64-coslr-100e_in1k.py
    DINO_B=configs/pretrain/dino_vit-base-p16_16xb64-coslr-100e_in1k.py
    SPEED=(--batch-size 64 --warmup 2 --iters 6 --compile-timeout 150)
    BATCHES=(128); PRECISIONS=(fp32 fp16 bf16); COMPILE=bf16
fi
[ "$DEVICE" = cpu ] && PRECISIONS=(fp32) && COMPILE=fp32  # autocast needs a GPU
BENCH=("${LITE_PY[@]}" tools/analysis_tools/benchmark_pretrain.py --device "$DEVICE")
LAST=(${EXTRA[@]+"${EXTRA[@]}"})  # the options after --, last: they win
phase speed 150 260 "${BENCH[@]}" "$MST" "$DINO" "${SPEED[@]}" --precision "${PRECISIONS[@]}" \
    --compile "$COMPILE" --fused-adamw --check-sync --phases --json "$RESULTS/speed.json" \
    ${LAST[@]+"${LAST[@]}"}
for BATCH in "${BATCHES[@]}"; do
    phase "speed-batch$BATCH" 50 70 "${BENCH[@]}" "$MST" --batch-size "$BATCH" --warmup 2 \
        --iters 5 --precision "${PRECISIONS[-1]}" --fused-adamw \
        --json "$RESULTS/speed-batch$BATCH.json" ${LAST[@]+"${LAST[@]}"}
done
# ViT-B/16 while the build goes on (else at the end, if time is left)
VIT_B=("${BENCH[@]}" "$MST_B" "$DINO_B" --batch-size "${SPEED[1]}" --warmup 2 --iters 5
       --precision "${PRECISIONS[-1]}" --fused-adamw --json "$RESULTS/speed-vit-base.json"
       ${LAST[@]+"${LAST[@]}"})
VIT_B_DONE=0
if [ -z "$BUILD_PID" ] || kill -0 "$BUILD_PID" 2>/dev/null; then
    phase speed-vit-base 50 80 "${VIT_B[@]}"; VIT_B_DONE=1
fi

# -- mmcv with CUDA ops: wait for the build ------------------------------------------
if [ -n "$BUILD_PID" ]; then
    log "mmcv: waiting for the build ($(left) s left)"
    waited=0
    while kill -0 "$BUILD_PID" 2>/dev/null && [ "$(left)" -gt 150 ]; do sleep 5; done
    if kill -0 "$BUILD_PID" 2>/dev/null; then
        kill "$BUILD_PID"; log "mmcv: build not done in time; the dense phases use no CUDA ops"
    fi
    wait "$BUILD_PID"; code=$?
    printf 'mmcv\t%s\t%s\n' "$code" "$((SECONDS - START))" >> "$STATUS"
    tail -n 5 "$LOGS/mmcv.log" | sed 's/^/    [mmcv] /'
    { echo "=== mmcv: exit $code"; cat "$LOGS/mmcv.log"; } >> "$REPORT"
    if ls "$BUILT"/mmcv-*.whl >/dev/null 2>&1; then
        "${PIP_INSTALL[@]}" --target "$DENSE" "$BUILT"/mmcv-*.whl && log "mmcv: installed $(ls "$BUILT")"
    fi
fi

# -- CUDA tests ------------------------------------------------------------------------
if [ "$DEVICE" = cuda ]; then
    phase cuda 30 90 "${DENSE_PY[@]}" -m pytest -q -p no:cacheprovider \
        tests/test_cuda.py tests/test_benchmark_pretrain.py -k "cuda or no_n_by_n or flop_count"
fi

# -- the real-size smoke on the GPU (mmdet, mmseg, mmcv's CUDA ops) ------------------
SMOKE=("${DENSE_PY[@]}" tools/run_benchmark.py --preset full --smoke --no-random-init
       --only det seg ade --smoke-iters 4 --smoke-batch 2 --smoke-images 2)
[ "$QUICK" = 1 ] && SMOKE=("${DENSE_PY[@]}" tools/run_benchmark.py --preset full --smoke
                           --no-random-init --only det seg ade --smoke-iters 2
                           --smoke-batch 1 --smoke-images 1)
AMP=(--amp fp16); [ "$DEVICE" = cpu ] && AMP=()
SMOKE_OK=0
if phase smoke 100 200 "${SMOKE[@]}" "${AMP[@]}" --work-dir "$WORK/smoke" \
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py; then
    cp "$WORK/smoke/step_costs.json" "$RESULTS/smoke.json"
    { echo "=== smoke: the table"; cat "$WORK/smoke/results.md"; } >> "$REPORT"
    SMOKE_OK=1
fi

# -- pre-training end to end, data loading included ----------------------------------
if wanted e2e; then
E2E_PRECISION=(--amp bf16); [ "$DEVICE" = cpu ] && E2E_PRECISION=()
[ -n "$E2E_DATA_PID" ] && { wait "$E2E_DATA_PID" || log "e2e: writing the JPEGs failed"; }
phase e2e 60 120 "${LITE_PY[@]}" tools/train.py "$MST" --work-dir "$WORK/e2e-run" --no-resume \
    "${E2E_PRECISION[@]}" --cfg-options train_dataloader.dataset.data_root="$WORK/e2e/imagenet/" \
    train_dataloader.batch_size=$E2E_BATCH train_dataloader.num_workers=$WORKERS \
    train_cfg.max_epochs=2 param_scheduler.0.end=1 param_scheduler.1.begin=1 \
    default_hooks.logger.interval=1 default_hooks.checkpoint.interval=100
"${LITE_PY[@]}" - "$LOGS/e2e.log" "$E2E_BATCH" > "$RESULTS/e2e.json" <<'EOF'
import json, re, statistics, sys
text = open(sys.argv[1], errors='replace').read()
batch = int(sys.argv[2])
rows = re.findall(r'Epoch\(train\)\s*\[\s*(\d+)\]\[\s*(\d+)/\d+\].*?\stime: ([0-9.]+)\s+'
                  r'data_time: ([0-9.]+)', text)
# the first iterations of the run wait for the workers to start
steady = [(float(t), float(d)) for e, i, t, d in rows if int(i) > 3 or int(e) > 1]
result = dict(iterations=len(rows), batch_size=batch)
if steady:
    time = statistics.median(t for t, _ in steady)
    data = statistics.median(d for _, d in steady)
    result.update(seconds_per_iter=time, data_wait=data, images_per_second=batch / time,
                  data_wait_share=data / time)
print(json.dumps(result))
EOF
cat "$RESULTS/e2e.json"
fi

# -- if time is left -------------------------------------------------------------------
[ "$VIT_B_DONE" = 0 ] && phase speed-vit-base 50 80 "${VIT_B[@]}"
if [ "$SMOKE_OK" = 1 ]; then
    # Resume: the segmentation run again with two more iterations starts from its last
    # checkpoint (tools/train.py resumes on its own).
    SEG_DIR="$(ls -d "$WORK"/smoke/*/seed_0/seg)"
    phase resume 30 60 "${DENSE_PY[@]}" tools/train.py \
        configs/seg/setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py \
        --work-dir "$SEG_DIR" "${AMP[@]}" \
        --cfg-options pretrained="$(dirname "$SEG_DIR")/backbone.pth" \
        train_cfg.max_iters=6 train_cfg.val_begin=7 default_hooks.logger.interval=1 \
        param_scheduler.0.end=1 param_scheduler.1.begin=1 train_dataloader.num_workers=0 \
        train_dataloader.persistent_workers=False train_dataloader.batch_size=2 \
        train_dataloader.dataset.data_root="$WORK/smoke/data/cityscapes/"
fi

if [ "$DEVICE" = cuda ]; then
    phase smoke-bf16 70 150 "${SMOKE[@]}" --only seg ade --amp bf16 \
        --work-dir "$WORK/smoke-bf16" configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py &&
        cp "$WORK/smoke-bf16/step_costs.json" "$RESULTS/smoke-bf16.json"
fi

# Every figure in one JSON (a device run brings back a few files only).
"$PY" - "$RESULTS" "$OUT_DIR/gpu_check.json" <<'EOF'
import glob, json, os.path as osp, sys
report = {}
for path in sorted(glob.glob(osp.join(sys.argv[1], '*.json'))):
    try:
        report[osp.splitext(osp.basename(path))[0]] = json.load(open(path))
    except ValueError as error:
        report[osp.basename(path)] = f'unreadable: {error}'
json.dump(report, open(sys.argv[2], 'w'), indent=1)
EOF
log "done in $((SECONDS - START)) s; $OUT_DIR: gpu_check.log, gpu_check.json, phases.tsv; phases:"
sed 's/^/    /' "$STATUS"
