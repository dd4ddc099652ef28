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
    assert "Refit on the whole file on the cluster: 690 rows" in printed
    model = persist.load(out)[0]
    assert _booster_rows(model) == 690  # not the sample's 300
    # The saved model predicts without a cluster, on the file's own columns.
    frame = pd.read_csv(CREDIT)
    proba = model.predict_proba(frame.drop(columns=["class"]))
    assert proba.shape == (690, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert main(["predict", str(out), str(CREDIT), "--output", str(tmp_path / "p.csv")]) == 0
    # The report's task line says what the model saw, beside what the search saw.
    assert main(["report", str(out), "--output", str(tmp_path / "report.md")]) == 0
    task = " ".join((tmp_path / "report.md").read_text().split())  # the page wraps its lines
    assert "a uniform sample of the file's 690 rows); the chosen model refit on 690 rows of the whole file" in task


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
