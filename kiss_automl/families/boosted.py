"""Gradient-boosted trees: LightGBM and XGBoost, categoricals handled natively.

Both start from a low-cost configuration (few rounds, small trees), then their library
defaults, then optuna's proposals. In holdout mode boosting stops early on the
validation rows and the rounds actually used are what gets refit.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from optuna.distributions import FloatDistribution, IntDistribution

from .base import BuildContext, Family, Stopped

# Bounds keep a random proposal's energy within ~10x the defaults' (rounds, leaves).
LGBM_SPACE = {
    "n_estimators": IntDistribution(8, 1024, log=True),
    "learning_rate": FloatDistribution(0.01, 0.3, log=True),
    "num_leaves": IntDistribution(4, 128, log=True),
    "min_child_samples": IntDistribution(2, 100, log=True),
    "colsample_bytree": FloatDistribution(0.3, 1.0),
    "subsample": FloatDistribution(0.5, 1.0),
    "reg_lambda": FloatDistribution(1e-3, 10.0, log=True),
}
LGBM_STARTS = (
    {"n_estimators": 32, "learning_rate": 0.1, "num_leaves": 8, "min_child_samples": 20,
     "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 0.001},
    # LightGBM's own defaults, the bar every tabular AutoML must clear (but for reg_lambda:
    # 0 there, the log-scaled space's floor here).
    {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
     "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 0.001},
)

XGB_SPACE = {
    "n_estimators": IntDistribution(8, 1024, log=True),
    "learning_rate": FloatDistribution(0.01, 0.3, log=True),
    "max_depth": IntDistribution(2, 10),
    "min_child_weight": FloatDistribution(0.1, 20.0, log=True),
    "colsample_bytree": FloatDistribution(0.3, 1.0),
    "subsample": FloatDistribution(0.5, 1.0),
    "reg_lambda": FloatDistribution(1e-3, 10.0, log=True),
}
XGB_STARTS = (
    {"n_estimators": 32, "learning_rate": 0.1, "max_depth": 3, "min_child_weight": 1.0,
     "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 1.0},
    {"n_estimators": 100, "learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1.0,
     "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 1.0},
)


# One capacity step (Family.grow): trees twice as big, learning rate halved, room for the
# rounds that needs. Early stopping on the validation rows decides the rounds actually used.
MAX_GROWN_LEAVES, MAX_GROWN_DEPTH, MIN_GROWN_LEARNING_RATE, MAX_GROWN_ROUNDS = 1024, 12, 0.01, 8192


def _slower(params: Mapping[str, Any]) -> dict | None:
    rate = params["learning_rate"] / 2
    if rate < MIN_GROWN_LEARNING_RATE:
        return None
    # The rounds a halved rate needs: twice those used (params hold the rounds used), with room.
    return {"learning_rate": rate, "n_estimators": int(min(MAX_GROWN_ROUNDS, 4 * params["n_estimators"]))}


def grow_lightgbm(params: Mapping[str, Any]) -> dict | None:
    slower = _slower(params)
    leaves = min(MAX_GROWN_LEAVES, 2 * params["num_leaves"])
    return None if slower is None else {**params, **slower, "num_leaves": leaves}


def grow_xgboost(params: Mapping[str, Any]) -> dict | None:
    slower = _slower(params)
    depth = min(MAX_GROWN_DEPTH, params["max_depth"] + 1)
    return None if slower is None else {**params, **slower, "max_depth": depth}


def build_lightgbm(params: dict, context: BuildContext):
    from .lightgbm_models import LGBMClassifier, LGBMRegressor  # a large model predicts a block of rounds at a time

    cls = LGBMRegressor if context.task == "regression" else LGBMClassifier
    params = {**LGBM_STARTS[0], **params}
    return cls(
        **params,
        subsample_freq=1 if params["subsample"] < 1.0 else 0,
        n_jobs=context.n_threads,
        random_state=context.random_state,
        verbose=-1,
    )


def early_stop_lightgbm(model, X_train, y_train, X_valid, y_valid, rounds: int) -> Stopped:
    import inspect

    import lightgbm

    # LightGBM 4.7 renamed eval_set to eval_X/eval_y; older releases know only eval_set.
    if "eval_X" in inspect.signature(model.fit).parameters:
        validation = {"eval_X": (X_valid,), "eval_y": (y_valid,)}
    else:
        validation = {"eval_set": [(X_valid, y_valid)]}
    keeper = _HeldOutAtBest(lightgbm.early_stopping(rounds, verbose=False), lightgbm.callback.EarlyStopException)
    model.fit(X_train, y_train, **validation, callbacks=[keeper])
    held_out = keeper.held_out
    if held_out is not None and isinstance(model, lightgbm.LGBMClassifier) and held_out.ndim == 1:
        held_out = np.column_stack([1.0 - held_out, held_out])  # as predict_proba gives a binary task's
    return Stopped(max(1, int(model.best_iteration_ or model.n_estimators)), held_out)


class _HeldOutAtBest:
    """LightGBM's early stopping, keeping the validation rows' predictions at the best round.

    Boosting scores the validation rows at every round already; predicting them again after
    the fit cost a quarter of a large search's candidates (connect-4: 238 of 902 J). When early
    stopping ends the training, the rounds after the best are rolled back (which takes their
    trees out of the validation scores too) and the booster's own validation predictions are
    read: the model then holds the best round's trees, which are all that `predict` uses.
    """

    order = 30  # lightgbm.early_stopping's: run where it would

    def __init__(self, stopper, stop_exception: type[Exception]):
        self.stopper, self.stop_exception = stopper, stop_exception
        self.held_out = None

    def __call__(self, env) -> None:  # after every boosting round: nothing but the stopper's check
        try:
            self.stopper(env)
        except self.stop_exception as stop:
            for _ in range(env.iteration - stop.best_iteration):
                env.model.rollback_one_iter()
            # data 0 is the training set, 1 the validation rows; the buffer is reused: copy it.
            self.held_out = np.array(env.model._Booster__inner_predict(data_idx=1), dtype=np.float64)
            raise


def build_xgboost(params: dict, context: BuildContext):
    import xgboost

    cls = xgboost.XGBRegressor if context.task == "regression" else xgboost.XGBClassifier
    return cls(
        **{**XGB_STARTS[0], **params},
        tree_method="hist",
        enable_categorical=True,
        n_jobs=context.n_threads,
        random_state=context.random_state,
        verbosity=0,
    )


def early_stop_xgboost(model, X_train, y_train, X_valid, y_valid, rounds: int) -> Stopped:
    model.set_params(early_stopping_rounds=rounds)
    model.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
    used = int(model.best_iteration) + 1
    # The refit has no validation rows: it must not look for them.
    model.set_params(early_stopping_rounds=None)
    return Stopped(used)


LIGHTGBM = Family(
    name="lightgbm",
    group="boosted",
    preprocessing="native",
    build=build_lightgbm,
    spaces={"classification": LGBM_SPACE, "regression": LGBM_SPACE},
    starts={"classification": LGBM_STARTS, "regression": LGBM_STARTS},
    requires=("lightgbm",),
    imports=("lightgbm",),
    early_stopping=early_stop_lightgbm,
    grow=grow_lightgbm,
)

XGBOOST = Family(
    name="xgboost",
    group="boosted",
    preprocessing="native",
    build=build_xgboost,
    spaces={"classification": XGB_SPACE, "regression": XGB_SPACE},
    starts={"classification": XGB_STARTS, "regression": XGB_STARTS},
    requires=("xgboost",),
    imports=("xgboost",),
    early_stopping=early_stop_xgboost,
    grow=grow_xgboost,
)
