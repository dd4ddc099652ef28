"""The cost model: deterministic, monotone in the work, and what the search's decisions read."""

import random

import pandas as pd
import pytest

from kiss_automl import config, cost_model, engine
from kiss_automl.energy.reading import Reading
from kiss_automl.families import REGISTRY

from .conftest import TINY

SHAPE = cost_model.Shape(train_rows=4000, predict_rows=1000, columns=20, width=60, classes=2)


def _fit(family, params=None, **shape):
    return cost_model.fit_joules(family, params or {}, cost_model.Shape(**{**SHAPE.__dict__, **shape}))


def test_every_family_has_a_cost():
    assert set(REGISTRY) <= set(cost_model.COSTS)


@pytest.mark.parametrize("family", sorted(cost_model.COSTS))
def test_more_rows_cost_more(family):
    assert 0 < _fit(family, train_rows=1000) < _fit(family, train_rows=100_000)


@pytest.mark.parametrize("family, small, large", [
    ("random_forest", {"n_estimators": 16}, {"n_estimators": 256}),
    ("lightgbm", {"n_estimators": 32, "num_leaves": 8}, {"n_estimators": 512, "num_leaves": 8}),
    ("xgboost", {"n_estimators": 100, "max_depth": 3}, {"n_estimators": 100, "max_depth": 8}),
    ("mlp", {"hidden_size": 16}, {"hidden_size": 256, "n_layers": 4}),
])
def test_bigger_models_cost_more(family, small, large):
    assert _fit(family, small) < _fit(family, large)


def test_boosting_pays_per_class_and_for_early_stopping():
    assert _fit("lightgbm", classes=10) > 5 * _fit("lightgbm", classes=2)
    assert _fit("xgboost", patience_rounds=20) > _fit("xgboost")


def test_the_cost_order_of_the_low_cost_starts():
    """On a mid-sized table the rungs cost what the search assumes: baseline << linear, forests,
    boosting << the MLP."""
    costs = {name: _fit(name, dict(REGISTRY[name].start_configs("binary")[0])) for name in REGISTRY}
    assert costs["baseline"] < min(costs["linear"], costs["lightgbm"], costs["random_forest"])
    assert costs["mlp"] > max(costs["linear"], costs["lightgbm"], costs["random_forest"], costs["xgboost"])


class NoisyMeter:
    """Readings that move by up to 3x from block to block, as no real meter should, but may."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def start(self):
        return None

    def stop(self, token) -> Reading:
        return Reading(joules=self.random.uniform(0.3, 1.0), cpu_seconds=0.0, wall_seconds=0.0, memory_joules=0.0,
                       method="fake", scope="process", constants={})


def test_decisions_on_estimated_joules_repeat_whatever_the_meter_reads(credit):
    X, y = credit
    codes = pd.factorize(y)[0]
    settings = config.load({**TINY, "families": ["baseline", "linear", "random_forest", "lightgbm"],
                            "max_trials": 14, "tol": 0.002, "always_probe": ["baseline", "linear"],
                            "selection": "simplest"})
    columns = ["family", "params", "score", "selected", "estimated_energy_j"]
    boards = [engine.run(X, codes, "binary", settings, 0, NoisyMeter(seed)).leaderboard[columns] for seed in (1, 2, 3)]
    assert boards[0].equals(boards[1]) and boards[0].equals(boards[2])
    assert (boards[0]["estimated_energy_j"] > 0).all()
