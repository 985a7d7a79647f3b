#!/usr/bin/env bash
# Test on GPUS processes with torchrun (NNODES, NODE_RANK, MASTER_ADDR, PORT as in
# tools/dist_train.sh).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py args]
set -euo pipefail
if [ $# -lt 3 ]; then sed -n 2,4p "$0"; exit 2; fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" tools/test.py "$3" "$1" "$2" \
    "${@:4}"
