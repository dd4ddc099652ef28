"""What a candidate should cost, from its size alone: the figure the search's decisions read.

The meter's reading of one candidate moves by 10-30% from run to run (caches, page faults,
other processes), and a decision that compares joules flips when two options sit within
that noise: the same seed could then stop one candidate earlier. So the plateau rule, the
family order and `simplest` read this model instead, a deterministic function of the data's
shape and the configuration; the leaderboard still reports what the meter measured.

Each family's fit costs `per_fit`, plus `per_step` per iteration (a tree, a boosting round,
a mini-batch), plus `per_unit` per unit of work on the rows (a feature scanned at a tree
level, a weight updated for a row...); predicting costs `per_row_predict` per row and unit
of model size.
The constants were fitted by `benchmarks/calibrate_cost_model.py` to 447 candidates measured
by the CPU-time model (4 W per core) on the reference machine, a 2-core x86 VM, over 21 of
the 22 benchmark datasets: the median estimate is within a factor of 1.3-1.9 of the reading,
depending on the family. Only ratios steer the search (a doubling of energy, one family
against another), and those carry across x86 machines better than absolute joules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Shape:
    """The data one fold sees."""

    train_rows: int
    predict_rows: int
    columns: int  # features as the trees see them (one per column)
    width: int  # features after one-hot encoding (linear models, MLP)
    classes: int  # 0 for regression
    patience_rounds: int = 0  # boosting rounds run past the best one (early stopping, holdout only)


Work = Callable[[Mapping[str, Any], Shape], float]


@dataclass(frozen=True)
class FamilyCost:
    """fit: per_fit + per_step * steps + per_unit * units; predict: per_row_predict * rows * size.

    A step is an iteration with a fixed cost whatever the rows (a boosting round, a tree, a
    mini-batch); a unit is work per row (a histogram pass over a feature, a node split).
    """

    per_fit: float
    per_step: float
    per_unit: float
    per_row_predict: float
    steps: Work
    units: Work
    size: Work  # work per predicted row


def _outputs(shape: Shape) -> int:
    """Trees per boosting round, weight columns of a linear model: one per class past two."""
    return shape.classes if shape.classes > 2 else 1


def _depth(rows: float) -> float:
    return max(1.0, math.log2(max(rows, 2.0)))


def _none(params, shape: Shape) -> float:
    return 0.0


def _trees(params, shape: Shape) -> float:
    return params.get("n_estimators", 32)


def _forest_units(params, shape: Shape) -> float:
    features = max(1.0, params.get("max_features", 0.5) * shape.columns)
    leaf = params.get("min_samples_leaf", 1)
    return _trees(params, shape) * shape.train_rows * features * _depth(shape.train_rows / leaf)


def _forest_size(params, shape: Shape) -> float:
    return _trees(params, shape) * _depth(shape.train_rows / params.get("min_samples_leaf", 1))


def _rounds(params, shape: Shape) -> float:
    """Boosting rounds run: those kept, the patience past them, one tree per class each."""
    return (params.get("n_estimators", 32) + shape.patience_rounds) * _outputs(shape)


def _validation_rows(shape: Shape) -> int:
    """Rows scored after every round while early stopping watches them."""
    return shape.predict_rows if shape.patience_rounds else 0


def _lightgbm_units(params, shape: Shape) -> float:
    features = max(1.0, params.get("colsample_bytree", 1.0) * shape.columns)
    rows = shape.train_rows * params.get("subsample", 1.0)
    leaves = params.get("num_leaves", 8)
    return _rounds(params, shape) * features * (rows + 64 * leaves)


def _xgboost_units(params, shape: Shape) -> float:
    features = max(1.0, params.get("colsample_bytree", 1.0) * shape.columns)
    rows = shape.train_rows * params.get("subsample", 1.0)
    depth = min(params.get("max_depth", 3), 10)
    nodes = min(2**depth, rows / 8)  # a deep tree on few rows stops splitting early
    return _rounds(params, shape) * features * (depth * rows + 256 * nodes)


def _boosted_steps(params, shape: Shape) -> float:
    """A round's fixed cost, larger while early stopping scores the validation rows each round."""
    return _rounds(params, shape) * (1 + _validation_rows(shape) / 1000)


def _boosted_size(params, shape: Shape) -> float:
    return params.get("n_estimators", 32) * _outputs(shape)


def _linear_units(params, shape: Shape) -> float:
    """Logistic regression: L-BFGS passes over rows x weights; ridge: one solve, far cheaper."""
    if shape.classes == 0:
        return 0.2 * shape.train_rows * shape.width * max(1.0, shape.width / 50)
    return shape.train_rows * shape.width * _outputs(shape)


def _mlp_weights(params, shape: Shape) -> float:
    hidden = params.get("hidden_size", 64)
    layers = params.get("n_layers", 2)
    return shape.width * hidden + (layers - 1) * hidden * hidden + hidden * max(1, shape.classes)


# Epochs the MLP is assumed to run: early stopping ends most fits well before the cap.
MLP_ASSUMED_EPOCHS = 30

COSTS: dict[str, FamilyCost] = {
    "baseline": FamilyCost(per_fit=0.0038, per_step=0, per_unit=8.2e-07, per_row_predict=4.5e-06,
                           steps=_none, units=lambda p, s: s.train_rows, size=lambda p, s: 1.0),
    "linear": FamilyCost(per_fit=0.033, per_step=0, per_unit=1.3e-06, per_row_predict=1e-06,
                         steps=_none, units=_linear_units,
                         size=lambda p, s: s.width * _outputs(s)),
    "random_forest": FamilyCost(per_fit=0.36, per_step=0, per_unit=4.9e-08, per_row_predict=6.9e-08,
                                steps=_trees, units=_forest_units, size=_forest_size),
    "extra_trees": FamilyCost(per_fit=0.076, per_step=0.0045, per_unit=2.3e-08, per_row_predict=6.9e-08,
                              steps=_trees, units=_forest_units, size=_forest_size),
    "lightgbm": FamilyCost(per_fit=0.021, per_step=0.00053, per_unit=3.3e-08, per_row_predict=3.4e-07,
                           steps=_boosted_steps, units=_lightgbm_units, size=_boosted_size),
    "xgboost": FamilyCost(per_fit=0.039, per_step=0.00087, per_unit=3.1e-09, per_row_predict=2.6e-07,
                          steps=_boosted_steps, units=_xgboost_units, size=_boosted_size),
    "mlp": FamilyCost(per_fit=0.36, per_step=0.0063, per_unit=1.4e-10, per_row_predict=7.3e-09,
                      steps=lambda p, s: MLP_ASSUMED_EPOCHS * s.train_rows / p.get("batch_size", 128),
                      units=lambda p, s: MLP_ASSUMED_EPOCHS * s.train_rows * 3 * _mlp_weights(p, s),
                      size=_mlp_weights),
}
# A family missing from the table (a plugin) is costed like a random forest.
_FALLBACK = COSTS["random_forest"]


def fit_joules(family: str, params: Mapping[str, Any], shape: Shape) -> float:
    return fit_joules_with(COSTS.get(family, _FALLBACK), params, shape)


def fit_joules_with(cost: FamilyCost, params: Mapping[str, Any], shape: Shape) -> float:
    return cost.per_fit + cost.per_step * cost.steps(params, shape) + cost.per_unit * cost.units(params, shape)


def predict_joules(family: str, params: Mapping[str, Any], shape: Shape) -> float:
    cost = COSTS.get(family, _FALLBACK)
    return cost.per_row_predict * shape.predict_rows * cost.size(params, shape)


def candidate_joules(family: str, params: Mapping[str, Any], shapes: list[Shape]) -> tuple[float, float]:
    """(fit, predict) joules of one candidate over its folds."""
    return (sum(fit_joules(family, params, s) for s in shapes),
            sum(predict_joules(family, params, s) for s in shapes))


# Free text (kiss_automl/text), per character of the rows' text, measured on this project's
# reference 2-core VM with the CPU-time model (4 W per core): TF-IDF of word 1-2-grams
# fitted (0.34-0.65 CPU-s on 13k short remarks / 3.75k reviews of 400 characters) and
# applied; MiniLM-L6 sentence embeddings (~5 ms per 100 characters, plus ~2 ms a text).
TFIDF_FIT_J_PER_CHAR = 1.6e-06
TFIDF_APPLY_J_PER_CHAR = 0.8e-06
EMBED_J_PER_CHAR = 2.0e-04
EMBED_J_PER_TEXT = 0.008
EMBED_LOAD_J = 20.0  # importing torch and sentence-transformers, reading ~90 MB of weights


def text_joules(view: str | None, shapes: list[Shape], chars_per_row: float) -> tuple[float, float]:
    """(fit, predict) joules of a candidate's text step over its folds: vectorizing (or
    embedding) the training rows, and the predicted rows; 0 without text."""
    if not view or view == "none" or chars_per_row <= 0:
        return 0.0, 0.0
    if view.startswith("embed:"):
        per_row = EMBED_J_PER_TEXT + EMBED_J_PER_CHAR * chars_per_row
        return (sum(s.train_rows for s in shapes) * per_row, sum(s.predict_rows for s in shapes) * per_row)
    return (sum(s.train_rows for s in shapes) * TFIDF_FIT_J_PER_CHAR * chars_per_row,
            sum(s.predict_rows for s in shapes) * TFIDF_APPLY_J_PER_CHAR * chars_per_row)


def embedding_joules(rows: int, chars_per_row: float) -> float:
    """Embedding every row's text once (the cache keeps them for every later candidate)."""
    return EMBED_LOAD_J + rows * (EMBED_J_PER_TEXT + EMBED_J_PER_CHAR * chars_per_row)


def feature_counts(X, categorical) -> tuple[int, int]:
    """(columns, one-hot width) of a typed frame whose `categorical` columns are pandas categories."""
    from .preprocess import MAX_ONEHOT_CATEGORIES

    width = X.shape[1] - len(categorical)
    for name in categorical:
        width += min(len(X[name].cat.categories), MAX_ONEHOT_CATEGORIES)
    return X.shape[1], max(1, width)
