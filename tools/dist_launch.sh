#!/usr/bin/env bash
# Run a tool of this repository on GPUS processes of this node (or of NNODES nodes) with
# torchrun and --launcher pytorch.
#   bash tools/dist_launch.sh TOOL GPUS [TOOL args]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 PORT=29500 bash tools/dist_launch.sh TOOL 8 ...
# e.g. bash tools/dist_launch.sh tools/analysis_tools/knn_eval.py 8 CONFIG
# On a CPU node GPUS is the number of processes (gloo is chosen automatically).
set -euo pipefail
if [ $# -lt 2 ]; then sed -n 2,7p "$0"; exit 2; fi
TOOL=$1
GPUS=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$TOOL" in /*) ;; *) TOOL="$ROOT/$TOOL" ;; esac
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$GPUS" \
    --master_port="${PORT:-29500}" "$TOOL" "${@:3}" --launcher pytorch
