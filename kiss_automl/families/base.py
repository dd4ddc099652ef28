"""What a model family is: data that the search reads, plus one factory function."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from optuna.distributions import BaseDistribution

TASK_KINDS = ("classification", "regression")


def task_kind(task: str) -> str:
    """'classification' for binary and multiclass tasks, else 'regression'."""
    return "regression" if task == "regression" else "classification"


@dataclass(frozen=True)
class BuildContext:
    """What a factory needs besides the hyperparameters."""

    task: str
    random_state: int
    n_threads: int = 1
    device: str = "auto"


@dataclass(frozen=True)
class Stopped:
    """What early stopping settled: the rounds used and, where the library kept them, the
    validation rows' predictions at that round, as ``predict_proba`` (classifiers) or
    ``predict`` (regressors) would give them, so that they need not be predicted again."""

    rounds: int
    held_out: Any = None


# fit_with_validation(model, X_train, y_train, X_valid, y_valid, rounds) -> Stopped
EarlyStopper = Callable[[Any, Any, Any, Any, Any, int], Stopped]


@dataclass(frozen=True)
class Family:
    """One model family: a factory, an optuna search space and low-cost starting points.

    Parameters
    ----------
    name : registry key, also the leaderboard's `family` column.
    group : the cost rung it belongs to (baseline, linear, forest, boosted, neural).
    preprocessing : 'onehot' (impute, scale, one-hot), 'ordinal' (impute, ordinal codes)
        or 'native' (categoricals passed as pandas categories).
    build : factory ``build(params, context) -> unfitted estimator``.
    spaces : per task kind, hyperparameter name → optuna distribution.
    starts : per task kind, configurations tried before optuna proposes, cheapest first.
    requires : modules that must import for the family to be usable.
    early_stopping : when set, used in holdout mode to stop boosting on the validation rows;
        the parameter ``rounds_param`` then holds the rounds actually used.
    probe_first : whether the family's starts run in the probe phase. A family far costlier
        than the rungs below it (the MLP) waits instead until the tuning phase chooses it
        as worth its expected energy.
    imports : modules its factory imports, loaded before the search starts so that the
        search's clock and the candidates' meters do not pay for them (torch is left out:
        the MLP pays for it when, and only if, it runs).
    uses_gpu : whether the family may run on a GPU: only its candidates are charged the
        GPUs' energy (an NVML counter is device-wide, and an idle H100 alone draws ~120 W).
    text_input : how the family takes free-text columns (kiss_automl/text/features.py):
        'sparse' (the TF-IDF or embedding itself, for linear models), 'score' (a text
        model's out-of-fold predictions, for trees and the MLP) or 'none' (left out).
    grow : ``grow(params) -> params or None``: one step up in capacity (bigger trees, a
        slower learning rate), tried on all the rows once the best configuration still
        gained from more rows; None when the family cannot grow further (search.py).
    """

    name: str
    group: str
    preprocessing: str
    build: Callable[[Mapping[str, Any], BuildContext], Any]
    spaces: Mapping[str, Mapping[str, BaseDistribution]] = field(default_factory=dict)
    starts: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    early_stopping: EarlyStopper | None = None
    rounds_param: str = "n_estimators"
    probe_first: bool = True
    uses_gpu: bool = False
    imports: tuple[str, ...] = ()
    text_input: str = "score"
    grow: Callable[[Mapping[str, Any]], dict | None] | None = None

    def space(self, task: str) -> Mapping[str, BaseDistribution]:
        return self.spaces.get(task_kind(task), {})

    def start_configs(self, task: str) -> tuple[Mapping[str, Any], ...]:
        return self.starts.get(task_kind(task), ({},))

    def missing_requirements(self) -> list[str]:
        """Modules this family needs that cannot be found (checked without importing)."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]
