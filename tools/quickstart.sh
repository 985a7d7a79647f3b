#!/usr/bin/env bash
# Set up the environment and run the miniature benchmark end to end on CPU: the toy data,
# MST / DINO / random-mask pre-training, backbone extraction, Mask R-CNN, SETR, UperNet on
# ADE20K, linear and k-NN evaluation, and the transfer table (about 20-25 minutes on 2
# cores).
#   bash tools/quickstart.sh [tools/run_benchmark.py args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "${VENV:-$ROOT/.venv}/bin/python" tools/run_benchmark.py "$@"
