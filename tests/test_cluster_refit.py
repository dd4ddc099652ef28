"""`fit --refit-whole-file`: the search on a sample, the chosen booster trained on every row of
the CSV on a real Dask cluster on loopback (`local:2`: two worker processes), through
lightgbm.dask / xgboost.dask on a Dask DataFrame the workers read (the `dask` extra)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kiss_automl.cli import main
from kiss_automl.data import read_csv

from .conftest import DATASETS

CREDIT = DATASETS / "credit-approval.csv"


def _yaml(tmp_path, families, more: str = "") -> str:
    path = tmp_path / "families.yaml"
    path.write_text(f"families: [{', '.join(families)}]\nalways_probe: []\nsmall_data_folds: 2\n{more}")
    return str(path)


def _fit(csv, out, config, *extra, scheduler=("--scheduler", "local:2")) -> int:
    return main(["fit", str(csv), "--target", "class", "--out", str(out), "--config", config, "--quiet",
                 "--max-trials", "4", *scheduler, "--sample-rows", "300", "--refit-whole-file", *extra])


def _booster_rows(model) -> int:
    """Rows the saved model's booster was trained on, from its own record of the data."""
    booster = model.named_steps["model"].named_steps["model"]
    if hasattr(booster, "booster_"):  # LightGBM: the tree structure holds the root's count
        trees = booster.booster_.dump_model()["tree_info"]
        return int(trees[0]["tree_structure"].get("internal_count", 0))
    raise AssertionError(f"no row count for {type(booster).__name__}")


def test_a_lightgbm_choice_is_refit_on_every_row_of_the_file(dask_required, tmp_path, capsys):
    from kiss_automl import persist
    from kiss_automl.families.lightgbm_models import LGBMClassifier

    out = tmp_path / "run"
    assert _fit(CREDIT, out, _yaml(tmp_path, ["lightgbm"])) == 0
    printed = capsys.readouterr().out
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["rows"] == 300 and run["data"]["rows_in_file"] == 690
    refit = run["whole_file_refit"]
    assert refit["rows"] == 690 and refit["dropped_missing_target"] == 0 and refit["dropped_unknown_class"] == 0
    assert refit["workers_cpu_s"] > 0 and refit["workers_j"] > 0
    assert run["energy"]["refit_j"] >= refit["workers_j"]  # the driver's reading plus the workers'
    assert "Dask workers" in run["energy"]["method"] or "Dask workers" in json.dumps(run["energy"])
    assert "Trained on the whole file on the cluster: 690 rows" in printed
    assert "The whole file's rung (trained on it less held-out rows): lightgbm " in printed
    model = persist.load(out)[0]
    assert _booster_rows(model) == 690  # not the sample's 300
    assert type(model.named_steps["model"].named_steps["model"]) is LGBMClassifier  # a large one predicts by blocks
    # The saved model predicts without a cluster, on the file's own columns.
    frame = pd.read_csv(CREDIT)
    proba = model.predict_proba(frame.drop(columns=["class"]))
    assert proba.shape == (690, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert main(["predict", str(out), str(CREDIT), "--output", str(tmp_path / "p.csv")]) == 0
    # The report's task line says what the model saw, beside what the search saw.
    assert main(["report", str(out), "--output", str(tmp_path / "report.md")]) == 0
    task = " ".join((tmp_path / "report.md").read_text().split())  # the page wraps its lines
    assert "a uniform sample of the file's 690 rows); the chosen model trained on 690 rows of the whole file" in task
    assert "lightgbm was tried on it less" in task and "held-out rows to choose the rounds" in task


def test_an_xgboost_choice_is_refit_on_the_cluster_and_predicts_locally(dask_required, tmp_path):
    from kiss_automl import persist

    out = tmp_path / "run"  # the config's scheduler stands for --scheduler
    assert _fit(CREDIT, out, _yaml(tmp_path, ["xgboost"], "scheduler: local:2\n"), scheduler=()) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["selected"]["family"] == "xgboost" and run["whole_file_refit"]["rows"] == 690
    model = persist.load(out)[0]
    booster = model.named_steps["model"].named_steps["model"]
    assert type(booster).__name__ == "XGBClassifier"
    assert booster.get_booster().num_boosted_rounds() > 0
    frame = pd.read_csv(CREDIT)
    assert set(model.predict(frame.drop(columns=["class"]))) <= {0, 1}


def test_rows_without_a_target_or_with_a_class_the_sample_lacked_are_left_out_and_counted(dask_required, tmp_path):
    frame = pd.read_csv(CREDIT)
    frame["class"] = frame["class"].astype(object)
    frame.loc[[5, 6], "class"] = np.nan
    frame.loc[[680, 681, 682], "class"] = "rare"
    csv = tmp_path / "credit.csv"
    frame.to_csv(csv, index=False)
    # A seed whose 300-row sample lacks the rare class (the sample is drawn by --seed).
    seed = next(s for s in range(50) if "rare" not in set(read_csv(csv, sample_rows=300, seed=s)["class"]))
    out = tmp_path / "run"
    assert _fit(csv, out, _yaml(tmp_path, ["lightgbm"]), "--seed", str(seed)) == 0
    refit = json.loads((out / "run.json").read_text())["whole_file_refit"]
    assert refit["dropped_missing_target"] == 2 and refit["dropped_unknown_class"] == 3
    assert refit["rows"] == 690 - 5


def test_a_choice_without_a_dask_trainer_is_refit_on_the_sample_with_a_note(dask_required, tmp_path):
    out = tmp_path / "run"
    assert _fit(CREDIT, out, _yaml(tmp_path, ["baseline", "linear"])) == 0
    run = json.loads((out / "run.json").read_text())
    assert "whole_file_refit" not in run
    assert any("has no Dask trainer: it was refit on the sample (300 rows)" in note for note in run["notes"])


@pytest.mark.parametrize("missing", ["--scheduler", "--sample-rows"])
def test_the_flag_needs_a_cluster_and_a_sample(tmp_path, capsys, missing):
    args = ["fit", str(CREDIT), "--target", "class", "--out", str(tmp_path / "run"), "--refit-whole-file",
            "--scheduler", "local:2", "--sample-rows", "300"]
    i = args.index(missing)
    del args[i:i + 2]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--refit-whole-file" in err and "needs --scheduler and --sample-rows" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_each_partition_is_prepared_as_the_driver_prepares_the_sample(tmp_path):
    """The worker's partition function, run here on the file as the workers read it (all
    strings): the same feature matrix as the driver's typer and preprocessing on read_csv's frame."""
    from kiss_automl.cluster.refit import WholeFile, _prepare_partition
    from kiss_automl.columns import ColumnTyper
    from kiss_automl.preprocess import build_preprocessor

    frame = pd.DataFrame({"n": [1.5, 2.0, None, 4.25] * 5, "flag": [True, False, True, True] * 5,
                          "c": ["a", "b", None, "a"] * 5, "y": ["u", "v", "u", "v"] * 5})
    csv = tmp_path / "semi.csv"
    frame.to_csv(csv, index=False, sep=";", decimal=",")
    driver = read_csv(csv)
    X = driver.drop(columns=["y"])
    typer = ColumnTyper().fit(X)
    typed = typer.transform(X)
    prep = build_preprocessor("native", typer.numeric_columns_, typer.categorical_columns_).fit(typed)
    expected = prep.transform(typed)
    whole = WholeFile(str(csv), "y", ";", "utf-8", None, tuple(X.columns), ("n",), ("flag",), True, ("u", "v"))
    as_workers_read = pd.read_csv(csv, sep=";", dtype=object)
    got = _prepare_partition(as_workers_read, whole, typer, prep)
    features = got[[c for c in got.columns if c.startswith("f")]]
    pd.testing.assert_frame_equal(features, expected.reset_index(drop=True), check_dtype=False)
    assert got["__kiss_target__"].tolist() == [0, 1, 0, 1] * 5 and got["__kept__"].all()


def test_the_whole_files_rung_trains_the_finalists_on_the_file_less_its_held_out_rows(dask_required, tmp_path):
    from kiss_automl import persist
    from kiss_automl.cluster.refit import grown_rounds, more_rounds

    out = tmp_path / "run"
    assert _fit(CREDIT, out, _yaml(tmp_path, ["lightgbm", "xgboost"])) == 0
    run = json.loads((out / "run.json").read_text())
    refit = run["whole_file_refit"]
    board = pd.read_csv(out / "leaderboard.csv")
    assert refit["rung"] and refit["held_out_rows"] == refit["rung"][0]["held_out_rows"]
    for trial in refit["rung"]:
        assert trial["trained_rows"] + trial["held_out_rows"] == 690
        assert 90 < trial["held_out_rows"] < 190  # a uniform draw of 20% of 690 rows
        sample_rounds = json.loads(board.loc[board["trial"] == trial["trial"], "params"].iloc[0])["n_estimators"]
        rounds = grown_rounds(sample_rounds, 300, 690)
        for _ in range(trial["passes"] - 1):  # each pass after the first doubled the rounds
            rounds = more_rounds(rounds, rounds, sample_rounds, gain=1.0, tol=0.0)
        assert trial["rounds_trained"] == rounds > sample_rounds
        assert 1 <= trial["rounds_kept"] <= trial["rounds_trained"] and 0.0 <= trial["score"] <= 1.0
        assert trial["workers_j"] > 0
    assert refit["workers_j"] >= sum(t["workers_j"] for t in refit["rung"])  # the rung, then the refit
    # The finalist that scored best on the held-out rows is the selection, trained on every row
    # with the rounds that paid there (and 10% more for the rows the rung held back).
    best = max(refit["rung"], key=lambda t: t["score"])
    assert run["selected"]["family"] == best["family"]
    booster = persist.load(out)[0].named_steps["model"].named_steps["model"]
    rounds = booster.booster_.current_iteration() if hasattr(booster, "booster_") else \
        booster.get_booster().num_boosted_rounds()
    assert rounds == int(np.ceil(best["rounds_kept"] * 1.1))
    if best["family"] == "lightgbm":
        assert _booster_rows(persist.load(out)[0]) == 690


def test_the_finalists_are_the_choice_and_the_other_boosters_that_the_sample_cannot_tell_from_it():
    from types import SimpleNamespace

    from kiss_automl.engine import _finalists
    from kiss_automl.evaluation import Evaluation
    from kiss_automl.search import Candidate

    def candidate(trial, family, score, std=0.02, rung=1):  # scored on one holdout split
        return Candidate(trial, family, rung, "promoted", {}, 1000, Evaluation(scores=[score]), score=score,
                         score_std=std, signed=score)

    choice = candidate(0, "lightgbm", 0.80)
    result = SimpleNamespace(plan=SimpleNamespace(splits=[(None, None)]), candidates=[
        choice, candidate(1, "xgboost", 0.79), candidate(2, "xgboost", 0.78), candidate(3, "xgboost", 0.85, rung=0),
        candidate(4, "random_forest", 0.80)])
    # One holdout split: the standard error is the std over 5 chunks; 0.01 < 1.96 * sqrt(2) * 0.02 / sqrt(5).
    assert [c.trial for c in _finalists(choice, result)] == [0, 1]
    result.candidates[1].signed = 0.70  # now clearly behind: the choice goes up alone
    assert [c.trial for c in _finalists(choice, result)] == [0, 2]
    result.candidates[2].signed = 0.70
    assert [c.trial for c in _finalists(choice, result)] == [0]


@pytest.mark.parametrize("family_name, task", [("lightgbm", "binary"), ("xgboost", "multiclass"),
                                               ("lightgbm", "regression"), ("xgboost", "binary")])
def test_the_rounds_kept_are_the_prefix_with_the_lowest_held_out_loss(family_name, task):
    """The margins summed range by range give each prefix's loss as the model's own prediction
    with that many trees does; the prefix kept is the best of them, scored by the metric."""
    from sklearn.datasets import make_classification, make_regression
    from sklearn.metrics import log_loss, mean_squared_error

    from kiss_automl.cluster.refit import _best_prefix
    from kiss_automl.families import REGISTRY, BuildContext
    from kiss_automl.metrics import get_metric

    if task == "regression":
        X, y = make_regression(600, 8, noise=20.0, random_state=0)
    else:
        X, y = make_classification(600, 8, n_informative=4, n_classes=3 if task == "multiclass" else 2,
                                   flip_y=0.2, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    model = REGISTRY[family_name].build({"n_estimators": 150, "learning_rate": 0.3},
                                        BuildContext(task, 0)).fit(X[:400], y[:400])
    X_valid, y_valid = X[400:], y[400:]
    metric = get_metric(None, task)
    classes = None if task == "regression" else tuple(range(3 if task == "multiclass" else 2))
    kept, score, at_half = _best_prefix(model, family_name, X_valid, y_valid, metric, classes)

    def loss(k):
        if family_name == "lightgbm":
            out = model.predict(X_valid, num_iteration=k) if task == "regression" else \
                model.predict_proba(X_valid, num_iteration=k)
        else:
            out = model.predict(X_valid, iteration_range=(0, k)) if task == "regression" else \
                model.predict_proba(X_valid, iteration_range=(0, k))
        return (mean_squared_error(y_valid, out) if task == "regression" else log_loss(y_valid, out), out)

    grid = list(range(2, 150, 2)) + [150]
    losses = [loss(k)[0] for k in grid]
    assert kept == grid[int(np.argmin(losses))] and kept < 150  # a learning rate of 0.3 overfits by 150
    out = loss(kept)[1]
    expected = metric.score(y_valid, out if task == "regression" else out.argmax(axis=1), out)
    assert score == pytest.approx(expected, rel=1e-6)
    out = loss(74)[1]  # half of 150 rounds on the grid of every second round: 74 and 76 tie, the first is taken
    half = metric.score(y_valid, out if task == "regression" else out.argmax(axis=1), out)
    assert at_half == pytest.approx(half, rel=1e-6)


def test_the_rounds_grow_with_the_files_rows_and_double_only_while_the_last_one_paid():
    from kiss_automl.cluster.refit import MAX_ROUNDS_GROWTH, grown_rounds, held_out_share, more_rounds

    assert grown_rounds(100, 10_000, 40_000) == 200  # the square root of 4x the rows
    assert grown_rounds(100, 10_000, 10_000_000) == 100 * MAX_ROUNDS_GROWTH  # capped
    assert grown_rounds(100, 10_000, 5_000) == 100  # never fewer than the sample's
    paid = {"gain": 0.01, "tol": 0.002}
    assert more_rounds(200, 200, 100, **paid) == 400  # the last prefix was best, and paid: twice the rounds
    assert more_rounds(200, 200, 100, gain=0.001, tol=0.002) is None  # too little for twice the energy
    assert more_rounds(400, 400, 100, **paid) is None  # at 4x the sample's rounds: no more
    assert more_rounds(300, 300, 100, **paid) == 400  # doubling stops at the cap
    assert more_rounds(200, 150, 100, **paid) is None  # a shorter prefix was best: enough
    assert held_out_share(1_000_000, 0.2, 10_000) == 0.01 and held_out_share(20_000, 0.2, 10_000) == 0.2


@pytest.mark.parametrize("family_name", ["lightgbm", "xgboost"])
def test_a_model_cut_to_its_best_prefix_predicts_as_that_prefix_does(family_name):
    from sklearn.datasets import make_classification

    from kiss_automl.cluster.refit import _rounds_of, truncated
    from kiss_automl.families import REGISTRY, BuildContext

    X, y = make_classification(400, 6, n_informative=4, n_classes=3, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    model = REGISTRY[family_name].build({"n_estimators": 40}, BuildContext("multiclass", 0)).fit(X, y)
    expected = model.predict_proba(X, num_iteration=15) if family_name == "lightgbm" else \
        model.predict_proba(X, iteration_range=(0, 15))
    cut = truncated(model, family_name, 15)
    assert _rounds_of(cut, family_name) == 15
    np.testing.assert_allclose(cut.predict_proba(X), expected, rtol=1e-6)


def test_on_a_file_many_times_its_held_out_rows_the_rungs_model_is_kept(dask_required, tmp_path, monkeypatch):
    """Below REFIT_ABOVE_HELD_OUT the rung's model, cut to the rounds that paid, is the model:
    no second pass over the file."""
    from kiss_automl import engine, persist

    monkeypatch.setattr(engine, "REFIT_ABOVE_HELD_OUT", 0.5)  # 690 rows: 20% held out counts as few
    out = tmp_path / "run"
    assert _fit(CREDIT, out, _yaml(tmp_path, ["lightgbm"])) == 0
    refit = json.loads((out / "run.json").read_text())["whole_file_refit"]
    trial = refit["rung"][0]
    assert refit["rows"] == trial["trained_rows"] < 690
    assert refit["workers_j"] == pytest.approx(trial["workers_j"])  # the rung alone
    model = persist.load(out)[0]
    assert _booster_rows(model) == trial["trained_rows"]
    booster = model.named_steps["model"].named_steps["model"]
    assert booster.booster_.current_iteration() == trial["rounds_kept"]


def test_when_the_file_prefers_the_other_booster_it_becomes_the_selection_with_a_note(dask_required, tmp_path):
    """On 690 rows the held-out rows often reverse the sample's order of two close boosters;
    the first seed where they do shows what the user is told."""
    config = _yaml(tmp_path, ["lightgbm", "xgboost"])
    for seed in range(4):
        out = tmp_path / f"run{seed}"
        assert _fit(CREDIT, out, config, "--seed", str(seed)) == 0
        run = json.loads((out / "run.json").read_text())
        rung = run["whole_file_refit"]["rung"]
        if rung[0]["family"] != run["selected"]["family"]:
            break
    else:
        pytest.fail("in 4 seeds the whole file never preferred the other booster")
    sample_choice, winner = rung[0], max(rung, key=lambda t: t["score"])
    assert run["selected"]["family"] == winner["family"] and run["selected"]["trial"] == winner["trial"]
    assert any(f"scored better than the sample's choice, {sample_choice['family']} (trial {sample_choice['trial']})"
               in note for note in run["notes"])
    board = pd.read_csv(out / "leaderboard.csv")
    assert board.loc[board["selected"], "trial"].tolist() == [winner["trial"]]
