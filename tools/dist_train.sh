#!/usr/bin/env bash
# Train on GPUS processes of this node (or of NNODES nodes) with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py args]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 PORT=29500 bash tools/dist_train.sh CONFIG 8
# On a CPU node GPUS is the number of processes (gloo is chosen automatically).
set -euo pipefail
if [ $# -lt 2 ]; then sed -n 2,5p "$0"; exit 2; fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" tools/train.py "$2" "$1" "${@:3}"
