#!/usr/bin/env bash
# Set up the environment, write the built-in toy data and pre-train the miniature MST
# on CPU (a few minutes on 2 cores).
#   bash tools/quickstart.sh [extra tools/train.py args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
PY="${VENV:-$ROOT/.venv}/bin/python"
"$PY" tools/dataset_converters/make_toy_data.py data/toy
"$PY" tools/train.py configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py \
    --work-dir work_dirs/mst_vit-toy-p8_1xb32-20e_toy "$@"
