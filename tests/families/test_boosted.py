"""LightGBM's early stopping keeps the validation rows' predictions at its best round."""

import numpy as np
import pandas as pd
import pytest

from kiss_automl.evaluation import PREDICT_SAMPLE_ROWS
from kiss_automl.families.boosted import early_stop_lightgbm, early_stop_xgboost


def _table(task: str, n: int = 5000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    X["code"] = pd.Categorical(rng.choice(list("pqrstu"), size=n))  # native categorical splits too
    signal = X.a + np.sin(3 * X.b) + (X.code == "q") + rng.normal(scale=0.5, size=n)
    if task == "binary":
        y = (signal > 0.2).astype(int).to_numpy()
    elif task == "multiclass":
        y = np.digitize(signal, [-0.5, 0.8]).astype(int)
    else:
        y = signal.to_numpy()
    cut = int(0.7 * n)
    return X.iloc[:cut], y[:cut], X.iloc[cut:], y[cut:]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_lightgbm_hands_back_what_predict_would_give_on_the_validation_rows(task):
    import lightgbm

    X_train, y_train, X_valid, y_valid = _table(task)
    cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    model = cls(n_estimators=500, learning_rate=0.1, num_leaves=15, subsample=0.8, subsample_freq=1,
                n_jobs=1, verbose=-1, random_state=0)
    stopped = early_stop_lightgbm(model, X_train, y_train, X_valid, y_valid, rounds=10)
    predicted = model.predict(X_valid) if task == "regression" else model.predict_proba(X_valid)
    assert stopped.held_out.shape == predicted.shape
    np.testing.assert_allclose(stopped.held_out, predicted, rtol=0, atol=1e-12)
    # Early stopping ended it well before its cap, and the rounds past the best were rolled
    # back: the model keeps exactly the trees that predict uses.
    assert stopped.rounds < 500
    per_round = 3 if task == "multiclass" else 1
    assert model.booster_.num_trees() == stopped.rounds * per_round


def test_xgboost_keeps_no_predictions_and_they_are_predicted_as_before():
    import xgboost

    X_train, y_train, X_valid, y_valid = _table("binary")
    model = xgboost.XGBClassifier(n_estimators=200, tree_method="hist", enable_categorical=True, n_jobs=1)
    assert early_stop_xgboost(model, X_train, y_train, X_valid, y_valid, rounds=10).held_out is None


def test_a_holdout_search_predicts_only_a_sample_to_measure_a_lightgbm_candidates_inference():
    from kiss_automl import config, engine

    from ..conftest import TINY, FakeMeter

    X, y, X_more, y_more = _table("binary", n=8000)
    X, y = pd.concat([X, X_more], ignore_index=True), np.concatenate([y, y_more])
    cfg = config.load({**TINY, "families": ["baseline", "lightgbm"], "cv": "holdout", "max_trials": 3})
    outcome = engine.run(X, y, "binary", cfg, seed=0, meter=FakeMeter())
    validation_rows = len(outcome.result.plan.splits[0][1])
    assert validation_rows > PREDICT_SAMPLE_ROWS
    rows = {c.family: c.evaluation.predicted_rows for c in outcome.result.candidates}
    assert rows == {"baseline": validation_rows, "lightgbm": PREDICT_SAMPLE_ROWS}
    # Its score is still over all the validation rows (the chunked error bar reads them all).
    lightgbm = next(c for c in outcome.result.candidates if c.family == "lightgbm")
    assert len(lightgbm.evaluation.oof[0]) == validation_rows
