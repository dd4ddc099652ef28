"""The registry of model families, in increasing order of cost."""

from __future__ import annotations

from .base import BuildContext, Family, task_kind
from .baseline import BASELINE
from .boosted import LIGHTGBM, XGBOOST
from .forests import EXTRA_TREES, RANDOM_FOREST
from .linear import LINEAR
from .mlp import MLP

REGISTRY: dict[str, Family] = {
    f.name: f for f in (BASELINE, LINEAR, RANDOM_FOREST, EXTRA_TREES, LIGHTGBM, XGBOOST, MLP)
}

__all__ = ["REGISTRY", "BuildContext", "Family", "task_kind"]
