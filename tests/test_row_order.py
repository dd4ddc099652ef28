"""Row order must not steer the search: a file sorted by its target, by date or by id is
searched as its shuffled copy is (issue 16)."""

import math

import numpy as np
import pandas as pd
import pytest

from kiss_automl import KissRegressor, config
from kiss_automl.evaluation import _chunk_std, make_plan, row_order, subsample
from kiss_automl.metrics import get_metric


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(5)})
    X["shop"] = rng.choice(list("ABCDEFG"), size=n)
    target = (np.sin(2 * X.x0) + X.x1 ** 2 - X.x2 * X.x3 + (X.shop == "C") * 1.5
              + rng.normal(scale=0.5, size=n))
    return X.assign(price=target)


def _rows(frame: pd.DataFrame, index: np.ndarray) -> set:
    return set(map(tuple, frame.iloc[np.sort(index)].round(9).astype(str).to_numpy()))


@pytest.mark.parametrize("n, mode", [(400, "cv"), (12_000, "holdout")])
def test_the_same_rows_in_another_order_get_the_same_splits_and_rungs(n, mode):
    table = _table(n)
    shuffled = table.sample(frac=1.0, random_state=1).reset_index(drop=True)
    cfg = config.load({"min_rung_rows": 1000})
    plans = []
    for frame in (table.sort_values("price", ignore_index=True), shuffled):
        y = frame.price.to_numpy()
        plans.append((frame, make_plan(y, "regression", cfg, 0, row_order(frame.drop(columns="price"), y))))
    (a, plan_a), (b, plan_b) = plans
    assert plan_a.mode == plan_b.mode == mode
    for (train_a, valid_a), (train_b, valid_b) in zip(plan_a.splits, plan_b.splits):
        assert _rows(a, valid_a) == _rows(b, valid_b)
        assert _rows(a, train_a) == _rows(b, train_b)
        if mode == "holdout":  # the first rung's subsample too
            rung_a = subsample(train_a, a.price.to_numpy(), plan_a.rungs[0], False, 0, plan_a.rank)
            rung_b = subsample(train_b, b.price.to_numpy(), plan_b.rungs[0], False, 0, plan_b.rank)
            assert len(rung_a) == plan_a.rungs[0] < len(train_a)
            assert _rows(a, rung_a) == _rows(b, rung_b)


def test_the_chunk_spread_of_sorted_rows_is_that_of_shuffled_rows():
    rng = np.random.default_rng(0)
    y = np.sort(rng.normal(size=5000))
    pred = y + rng.normal(scale=0.3, size=len(y))
    r2 = get_metric("r2", "regression")
    sorted_std = _chunk_std(r2, y, pred, None)
    order = rng.permutation(len(y))
    shuffled_std = _chunk_std(r2, y[order], pred[order], None)
    # Contiguous chunks of target-sorted rows would each hold a narrow band of the target:
    # their R² spread is many times the shuffled one.
    assert 0.5 < sorted_std / shuffled_std < 2.0


def test_a_sorted_holdout_file_and_its_shuffled_copy_are_searched_alike():
    table = _table(12_000)
    fits = []
    for frame in (table.sort_values("price", ignore_index=True),
                  table.sample(frac=1.0, random_state=3).reset_index(drop=True)):
        model = KissRegressor(config={"families": ["baseline", "linear", "lightgbm"], "max_trials": 8,
                                      "ensemble": False}, random_state=0)
        fits.append(model.fit(frame.drop(columns="price"), frame.price))
    sorted_fit, shuffled_fit = fits
    assert sorted_fit.search_summary_["evaluation"]["mode"] == "holdout"
    best = [fit.leaderboard_.iloc[0] for fit in fits]
    assert 0.5 < best[0].score_std / best[1].score_std < 2.0
    assert sorted_fit.best_family_ == shuffled_fit.best_family_
    standard_error = max(b.score_std for b in best) / math.sqrt(5)
    assert abs(sorted_fit.best_score_ - shuffled_fit.best_score_) <= standard_error
    # More than that: the models see each split's rows in the hash's order, so even bagged
    # boosters draw the same rows, and the two searches are the same search.
    columns = ["trial", "family", "params", "score", "score_std"]
    boards = [fit.leaderboard_.sort_values("trial")[columns].reset_index(drop=True) for fit in fits]
    pd.testing.assert_frame_equal(boards[0], boards[1])
