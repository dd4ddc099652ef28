#!/usr/bin/env bash
# Build the peers' venvs, apart from kiss-automl's (FLAML pins xgboost<3, AutoGluon pandas<2.4).
#   bash benchmarks/setup_peers.sh            # FLAML and AutoGluon
#   bash benchmarks/setup_peers.sh flaml      # FLAML only
# Paths: $KISS_BENCH_VENV (default /work/bench-venv), $KISS_BENCH_VENV_AG (default /work/bench-venv-ag);
# benchmarks/run.py looks in the same places. Neither needs torch: nothing here may pull a CUDA build.
set -euo pipefail
FLAML_VENV="${KISS_BENCH_VENV:-/work/bench-venv}"
AG_VENV="${KISS_BENCH_VENV_AG:-/work/bench-venv-ag}"
PY="${PYTHON:-python3}"
what="${1:-all}"

if [[ "$what" == all || "$what" == flaml ]]; then
    "$PY" -m venv "$FLAML_VENV"
    "$FLAML_VENV/bin/pip" install 'flaml[automl]==2.7.0' pandas
    "$FLAML_VENV/bin/python" -c 'import flaml; print("flaml", flaml.__version__)'
fi
if [[ "$what" == all || "$what" == autogluon ]]; then
    "$PY" -m venv "$AG_VENV"
    # The extras bring LightGBM, CatBoost and XGBoost; without torch, AutoGluon skips its NN_TORCH/FASTAI models.
    "$AG_VENV/bin/pip" install 'autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3'
    if "$AG_VENV/bin/python" -c 'import torch' 2>/dev/null; then echo "warning: torch got installed" >&2; fi
    "$AG_VENV/bin/python" -c 'import autogluon.tabular as t; print("autogluon.tabular", t.__version__)'
fi
