"""What the report computes from a folder: checked against the search that wrote it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl import config, engine, stopping
from kiss_automl.reporting import analysis, read_folder
from kiss_automl.reporting.folder import FitRecord

from ..conftest import TINY, FakeMeter


def _record(outcome, **run) -> FitRecord:
    """A folder's record of an engine outcome, as run.json and leaderboard.csv would hold it."""
    summary = json.loads(json.dumps(outcome.summary, default=float))
    board = outcome.leaderboard.sort_values("trial").reset_index(drop=True)
    board["params"] = board["params"].astype(str)
    board["error"] = board["error"].fillna("")
    return FitRecord(Path("."), {**summary, "config": {"decision_energy": "estimated"}, **run}, board)


@pytest.fixture(scope="module")
def searched(credit):
    """A search that stops at a plateau, with every curve the plateau rule was shown."""
    X, y = credit
    shown = []
    original = stopping.plateau_reached

    def spy(curve, tol, patience):
        shown.append(list(curve))
        return original(curve, tol, patience)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stopping, "plateau_reached", spy)
        codes = np.unique(y.astype(str), return_inverse=True)[1]
        cfg = config.load({**TINY, "tol": 0.01, "max_trials": 40, "always_probe": ["linear"]})
        outcome = engine.run(X, codes, "binary", cfg, seed=0, meter=FakeMeter())
    return outcome, shown


def test_the_search_curve_is_the_one_the_plateau_rule_read(searched):
    outcome, shown = searched
    assert outcome.result.stop_reason == "plateau"
    curve = analysis.plateau_points(analysis.search_curve(_record(outcome)), greater_is_better=True)
    assert [p.joules for p in curve] == pytest.approx([p.joules for p in shown[-1]])
    assert [p.best for p in curve] == [p.best for p in shown[-1]]


def test_the_stop_detail_holds_the_doubling_the_rule_compared(searched):
    outcome, shown = searched
    detail = outcome.summary["stop_detail"]
    (last,) = detail["doublings"]
    assert last["to_j"] == pytest.approx(shown[-1][-1].joules)
    assert last["from_j"] == pytest.approx(last["to_j"] / 2)
    assert last["gain"] < detail["tol"]
    assert last["gain"] == pytest.approx(stopping.doubling_gains(shown[-1], 1)[0])


def test_energy_by_family_adds_up_to_the_candidates(searched):
    outcome, _ = searched
    families = analysis.energy_by_family(_record(outcome))
    assert families["total_j"].sum() == pytest.approx(outcome.summary["energy"]["candidates_j"])
    assert families["candidates"].sum() == len(outcome.leaderboard)
    # The fake meter reads 1 J a block: a fit and a predict per fold, two folds.
    assert (families["fit_j"] == 2.0 * families["candidates"]).all()


def test_phases_add_up_to_the_whole_process(fit_dir):
    record = read_folder(fit_dir)
    phases = analysis.energy_by_phase(record)
    assert {p.name for p in phases} >= {"start-up and imports", "reading the CSV", "column typing",
                                        "candidates: fit", "candidates: predict", "search loop", "refit"}
    assert all(p.joules >= 0 for p in phases)
    energy = record.run["energy"]
    assert sum(p.joules for p in phases) == pytest.approx(energy["process_j"], rel=0.05)
    assert analysis.total_energy(record)[0] == energy["process_j"]


def _board(scores, energies, stds=None, rungs=None):
    n = len(scores)
    return pd.DataFrame({"trial": range(n), "rank": range(1, n + 1), "family": ["linear"] * n,
                         "rung": rungs or [0] * n, "params": ["{}"] * n, "score": scores,
                         "score_std": stds or [0.02] * n, "fit_energy_j": energies,
                         "predict_energy_j_per_1k": energies, "status": ["ok"] * n, "error": [""] * n,
                         "selected": [i == 0 for i in range(n)]})


def test_simplest_within_one_standard_error_takes_the_cheapest_near_the_best():
    board = _board([0.90, 0.895, 0.88, 0.70], [5.0, 1.0, 0.1, 0.01]).sort_values("rank")
    run = {"metric": "accuracy", "evaluation": {"splits": 4}}
    record = FitRecord(Path("."), run, board)
    # SE = 0.02 / sqrt(4) = 0.01: 0.895 is within it, 0.88 is not.
    assert analysis.best_row(record)["trial"] == 0
    assert analysis.simplest_within_se(record)["trial"] == 1


def test_pareto_front_for_a_metric_where_lower_is_better():
    board = _board([3.0, 2.0, 2.5, 1.0], [1.0, 2.0, 3.0, 4.0])
    record = FitRecord(Path("."), {"metric": "rmse", "evaluation": {"splits": 5}}, board)
    signed = analysis.signed_scores(record)
    assert analysis.pareto_front(board["fit_energy_j"], signed) == [0, 1, 3]


def test_a_blend_is_plotted_at_its_members_fit_energy():
    board = _board([0.8, 0.85, 0.86], [1.0, 2.0, 0.0])
    board.loc[2, ["family", "params"]] = ["ensemble", json.dumps({"members": [0, 1], "weights": [0.5, 0.5]})]
    record = FitRecord(Path("."), {"metric": "accuracy", "evaluation": {"splits": 5}}, board)
    assert analysis.plotted_fit_energy(record).tolist() == [1.0, 2.0, 3.0]
    assert not math.isnan(analysis.standard_error(record, board.iloc[0]))


def test_the_simplest_model_is_the_one_selection_simplest_picks(credit):
    from kiss_automl import KissClassifier
    from kiss_automl.reporting.estimator_folder import estimator_record

    X, y = credit
    clf = KissClassifier(config={**TINY, "selection": "simplest", "max_trials": 6}, random_state=0).fit(X, y)
    record = estimator_record(clf)
    assert analysis.simplest_within_se(record)["trial"] == clf.search_summary_["selected"]["trial"]
    # A fit in Python measured typing, the libraries, the search and the refit: all count.
    energy = clf.search_summary_["energy"]
    total = energy["typing_j"] + energy["imports_j"] + energy["search_j"] + energy["refit_j"]
    assert analysis.total_energy(record)[0] == pytest.approx(total)


def test_a_resumed_fit_counts_the_candidates_it_replayed(tmp_path):
    from kiss_automl.cli import main

    from ..conftest import DATASETS

    out = tmp_path / "fit"
    args = ["fit", str(DATASETS / "credit-approval.csv"), "--target", "class", "--out", str(out),
            "--config", "fast", "--quiet"]
    assert main([*args, "--max-trials", "3"]) == 0
    assert main([*args, "--max-trials", "5", "--resume"]) == 0
    record = read_folder(out)
    assert record.run["n_replayed"] == 3 and analysis.replayed_trials(record) == {0, 1, 2}
    energy = record.run["energy"]
    joules, scope = analysis.total_energy(record)
    assert joules == pytest.approx(energy["process_j"] + energy["replayed_j"]) and "replayed" in scope
    phases = analysis.energy_by_phase(record)
    assert phases[-1].name == "replayed candidates" and phases[-1].joules == energy["replayed_j"]
    assert sum(p.joules for p in phases) == pytest.approx(joules, rel=0.05)
