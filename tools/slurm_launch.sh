#!/usr/bin/env bash
# Run a tool of this repository through Slurm, one task per GPU, with --launcher slurm.
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:N] [CPU_ONLY=1] [SRUN_ARGS=...] \
#       bash tools/slurm_launch.sh PARTITION JOB_NAME TOOL [TOOL args]
# e.g. bash tools/slurm_launch.sh gpu knn tools/analysis_tools/knn_eval.py CONFIG
# tools/slurm_train.sh and tools/slurm_test.sh run tools/train.py and tools/test.py so.
#
# Each node is asked for GPUS_PER_NODE GPUs (--gres=gpu:GPUS_PER_NODE, or GRES=... for
# another generic resource string), and a task that then sees no GPU stops instead of
# training on the CPU. On a CPU cluster set CPU_ONLY=1: no GPU is asked for, the
# tasks run with gloo, and GPUS is the number of processes.
set -euo pipefail
if [ $# -lt 3 ]; then sed -n 2,11p "$0"; exit 2; fi
PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$TOOL" in /*) ;; *) TOOL="$ROOT/$TOOL" ;; esac
if [ "${CPU_ONLY:-0}" = 1 ]; then
    GRES_ARGS=()
    export MST_MM_REQUIRE_GPU=0
else
    GRES_ARGS=(--gres="${GRES:-gpu:$GPUS_PER_NODE}")
    export MST_MM_REQUIRE_GPU=1  # read by mst_mm.utils.launch in every task
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    "${GRES_ARGS[@]}" --kill-on-bad-exit=1 \
    ${SRUN_ARGS} python -u "$TOOL" "${@:4}" --launcher slurm
