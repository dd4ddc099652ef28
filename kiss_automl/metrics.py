"""Scoring metrics as data: name → function, task types, direction.

Scores are kept in the metric's own units (an RMSE stays positive); `signed` turns a score
into "higher is better" for ranking and for the plateau rule.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError

CLASSIFICATION = frozenset({"binary", "multiclass"})
REGRESSION = frozenset({"regression"})


@dataclass(frozen=True)
class Metric:
    name: str
    tasks: frozenset
    greater_is_better: bool
    needs_proba: bool
    fn: Callable[..., float]

    def score(self, y_true: np.ndarray, y_pred: np.ndarray | None, proba: np.ndarray | None) -> float:
        """Score predictions (class indices or values) or probabilities, per `needs_proba`.

        A score that is undefined on these rows (ROC AUC without both classes) is NaN, quietly:
        the search makes that candidate a failed row and says why."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(self.fn(y_true, proba if self.needs_proba else y_pred))

    def signed(self, value: float) -> float:
        """The score with the sign that makes larger better."""
        return value if self.greater_is_better else -value


def _sklearn(name: str) -> Callable[..., float]:
    """sklearn.metrics.`name`, imported when first scored: reading a metric's direction (the
    report does) should not pay ~1 s of importing scikit-learn and scipy."""

    def score(*args, **kwargs) -> float:
        from sklearn import metrics

        return getattr(metrics, name)(*args, **kwargs)

    score.__name__ = name
    return score


def _roc_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 2:
        return _sklearn("roc_auc_score")(y_true, proba[:, 1])
    return _sklearn("roc_auc_score")(y_true, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))


def _log_loss(y_true: np.ndarray, proba: np.ndarray) -> float:
    # float32 models and blends sum to 1 within ~1e-7, which sklearn warns about.
    proba = proba / proba.sum(axis=1, keepdims=True)
    return _sklearn("log_loss")(y_true, proba, labels=np.arange(proba.shape[1]))


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # sklearn's accuracy_score's input checks cost ~0.5 ms a call, a visible share of the search's
    # own overhead on small data (a score per fold); the labels here are already clean arrays.
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.shape[0]} labels but {y_pred.shape[0]} predictions")
    return float(np.mean(y_true == y_pred))


def _rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(_sklearn("mean_squared_error")(y_true, y_pred)))


def _f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Binary: F1 of the rarer class (churn, fraud, defect), the second label on a tie; else macro-F1."""
    counts = np.bincount(np.ravel(y_true))
    if len(counts) > 2:
        return _sklearn("f1_score")(y_true, y_pred, average="macro")
    positive = 0 if len(counts) == 2 and counts[0] < counts[1] else 1
    return _sklearn("f1_score")(y_true, y_pred, average="binary", pos_label=positive)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", CLASSIFICATION, True, False, _accuracy),
        Metric("balanced_accuracy", CLASSIFICATION, True, False, _sklearn("balanced_accuracy_score")),
        Metric("f1", CLASSIFICATION, True, False, _f1),
        Metric("roc_auc", CLASSIFICATION, True, True, _roc_auc),
        Metric("log_loss", CLASSIFICATION, False, True, _log_loss),
        Metric("r2", REGRESSION, True, False, _sklearn("r2_score")),
        Metric("rmse", REGRESSION, False, False, _rmse),
        Metric("mae", REGRESSION, False, False, _sklearn("mean_absolute_error")),
    )
}

DEFAULT_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}


def get_metric(name: str | None, task: str) -> Metric:
    """The metric called `name` for `task` (its default when `name` is None)."""
    name = DEFAULT_METRIC[task] if name is None else name
    metric = METRICS.get(name)
    if metric is None or task not in metric.tasks:
        valid = ", ".join(m for m, spec in METRICS.items() if task in spec.tasks)
        raise ConfigError(f"Unknown metric '{name}' for a {task} task; choose one of: {valid}")
    return metric
