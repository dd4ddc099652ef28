"""A large LightGBM model predicts one block of rounds at a time: LightGBM's own predictions,
for every task, with early stopping's best round, through a saved model, and LightGBM's own
predict wherever an option beyond the plain predict is asked for."""

import lightgbm
import numpy as np
import pytest

from kiss_automl.families import lightgbm_models
from kiss_automl.families.lightgbm_models import LGBMClassifier, LGBMRegressor

from .test_boosted import _table

PARAMS = {"n_estimators": 40, "num_leaves": 15, "learning_rate": 0.1, "n_jobs": 1, "verbose": -1, "random_state": 0}


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 3 rounds for 3 classes of 15-leaf trees (10 rounds for one), so 40 rounds take 14 blocks (4)."""
    monkeypatch.setattr(lightgbm_models, "LEAVES_PER_BLOCK", 150)


def _blocks_taken(monkeypatch) -> list:
    calls = []
    original = lightgbm.LGBMModel.predict

    def counted(self, X, **kwargs):
        calls.append((kwargs.get("start_iteration"), kwargs.get("num_iteration")))
        return original(self, X, **kwargs)

    monkeypatch.setattr(lightgbm.LGBMModel, "predict", counted)
    return calls


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_classifier_predicts_by_blocks_what_lightgbm_predicts(task, monkeypatch):
    X_train, y_train, X_test, _ = _table(task)
    model = LGBMClassifier(**PARAMS).fit(X_train, y_train)
    expected = lightgbm.LGBMClassifier.predict_proba(model, X_test, num_iteration=40)  # an option: LightGBM's own
    calls = _blocks_taken(monkeypatch)
    proba = model.predict_proba(X_test)
    rounds_per_block = 150 // (model.booster_.num_model_per_iteration() * 15)
    assert calls == [(start, min(rounds_per_block, 40 - start)) for start in range(0, 40, rounds_per_block)]
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-12)
    assert (model.predict(X_test) == model.classes_[expected.argmax(axis=1)]).all()


def test_a_regressor_predicts_by_blocks_what_lightgbm_predicts(monkeypatch):
    X_train, y_train, X_test, _ = _table("regression")
    model = LGBMRegressor(**PARAMS).fit(X_train, y_train)
    expected = lightgbm.LGBMRegressor.predict(model, X_test, num_iteration=40)
    calls = _blocks_taken(monkeypatch)
    np.testing.assert_allclose(model.predict(X_test), expected, rtol=0, atol=1e-12)
    assert calls == [(start, 10) for start in range(0, 40, 10)]


def test_early_stoppings_best_round_bounds_the_blocks():
    """A booster that holds rounds past its best predicts with the best round's, as LightGBM does."""
    X_train, y_train, X_test, _ = _table("multiclass")
    model = LGBMClassifier(**PARAMS).fit(X_train, y_train)
    model.booster_.best_iteration = 22
    np.testing.assert_allclose(model.predict_proba(X_test),
                               lightgbm.LGBMClassifier.predict_proba(model, X_test, num_iteration=22),
                               rtol=0, atol=1e-12)
    assert not np.allclose(model.predict_proba(X_test),
                           lightgbm.LGBMClassifier.predict_proba(model, X_test, num_iteration=40))


def test_few_rows_a_small_model_and_options_take_lightgbms_own_predict(monkeypatch):
    X_train, y_train, X_test, _ = _table("binary")
    model = LGBMClassifier(**PARAMS).fit(X_train, y_train)
    calls = _blocks_taken(monkeypatch)
    model.predict_proba(X_test.iloc[: lightgbm_models.MIN_ROWS - 1])
    model.predict_proba(X_test, raw_score=True)
    leaves = model.predict_proba(X_test, pred_leaf=True)
    assert leaves.shape == (len(X_test), 40)
    monkeypatch.setattr(lightgbm_models, "LEAVES_PER_BLOCK", 10_000)
    model.predict_proba(X_test)
    assert calls == [(0, None)] * 4  # one call each, every round at once


def test_the_search_builds_them_and_a_saved_model_keeps_them(tmp_path):
    from kiss_automl import persist
    from kiss_automl.cli import main

    X_train, y_train, X_test, _ = _table("multiclass", n=1500)
    X_train.assign(y=y_train).to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "lgbm.yaml").write_text("families: [lightgbm]\nensemble: false\n")
    out = tmp_path / "run"
    assert main(["fit", str(tmp_path / "train.csv"), "--target", "y", "--out", str(out), "--max-trials", "6",
                 "--config", str(tmp_path / "lgbm.yaml"), "--quiet"]) == 0
    pipeline, _ = persist.load(out)
    fitted = pipeline.named_steps["model"].named_steps["model"]
    assert type(fitted) is LGBMClassifier
    typed = pipeline.named_steps["typer"].transform(X_test)
    prepared = pipeline.named_steps["model"].named_steps["prep"].transform(typed)
    every_round = fitted.booster_.current_iteration()  # an option: LightGBM's own predict
    np.testing.assert_allclose(pipeline.predict_proba(X_test),
                               lightgbm.LGBMClassifier.predict_proba(fitted, prepared, num_iteration=every_round),
                               rtol=0, atol=1e-12)
