#!/usr/bin/env bash
# Train through Slurm: one task per GPU (tools/slurm_launch.sh says what each variable does).
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:N] [CPU_ONLY=1] [SRUN_ARGS=...] \
#       bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py args]
set -euo pipefail
if [ $# -lt 4 ]; then sed -n 2,4p "$0"; exit 2; fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_launch.sh" "$1" "$2" tools/train.py "$3" \
    --work-dir="$4" "${@:5}"
