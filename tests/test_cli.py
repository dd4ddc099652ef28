"""The command line: fit → leaderboard → predict on real CSVs, and bad input → exit 2."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl.cli import main

from .conftest import DATASETS

MALFORMED = Path(__file__).parent / "malformed"
BAD_CONFIGS = Path(__file__).parent / "bad_configs"
FAST = ["--config", "fast", "--max-trials", "5", "--quiet"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "credit"
    assert main(["fit", str(DATASETS / "credit-approval.csv"), "--target", "class", "--out", str(out), *FAST]) == 0
    return out


def test_fit_writes_model_leaderboard_and_run_record(fitted):
    assert {p.name for p in fitted.iterdir()} == {"model.skops", "model.json", "leaderboard.csv", "run.json",
                                                  "journal.jsonl"}
    board = pd.read_csv(fitted / "leaderboard.csv")
    assert len(board) == 5 and board["selected"].sum() == 1
    run = json.loads((fitted / "run.json").read_text())
    assert run["task"] == "binary" and run["metric"] == "accuracy" and run["stop_reason"] in ("max_trials", "plateau")
    energy = run["energy"]
    assert energy["candidates_j"] > 0 and energy["fit_command_j"] >= energy["candidates_j"]
    assert energy["method"].startswith(("cpu-time-model", "rapl"))
    assert run["carbon_intensity"]["source"] and run["co2_g"]["candidates"] > 0
    assert run["seed"] == 0 and run["versions"]["scikit-learn"]


@pytest.mark.parametrize("fmt, marker", [("table", "rank"), ("csv", "rank,family,rung"), ("json", '"family"'),
                                         ("markdown", "| rank | trial | family |")])
def test_leaderboard_formats(fitted, capsys, fmt, marker):
    assert main(["leaderboard", str(fitted), "--format", fmt]) == 0
    assert marker in capsys.readouterr().out


def test_predict_writes_the_target_column_and_probabilities(fitted, tmp_path):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(fitted), str(DATASETS / "credit-approval.csv"), "--output", str(out)]) == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["class", "proba_+", "proba_-"]
    assert len(pred) == 690 and set(pred["class"]) <= {"+", "-"}
    truth = pd.read_csv(DATASETS / "credit-approval.csv")["class"]
    assert (pred["class"] == truth).mean() > 0.8


def test_predict_ignores_extra_columns_and_refuses_missing_ones(fitted, tmp_path, capsys):
    frame = pd.read_csv(DATASETS / "credit-approval.csv")
    frame.assign(extra=1).to_csv(tmp_path / "extra.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(fitted), str(tmp_path / "extra.csv"), "--output", str(tmp_path / "p.csv")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "Ignoring" in line]
    assert warnings == ["WARNING: Ignoring 1 column(s) the model was not trained on: extra"]  # not the target
    frame.drop(columns=["A1"]).to_csv(tmp_path / "missing.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(fitted), str(tmp_path / "missing.csv"), "--output", str(tmp_path / "q.csv")]) == 2
    err = capsys.readouterr().err
    assert "A1" in err and "Traceback" not in err
    assert not (tmp_path / "q.csv").exists()


def test_regression_fit_and_predict(tmp_path):
    out = tmp_path / "abalone"
    assert main(["fit", str(DATASETS / "abalone.csv"), "--target", "Class_Rings", "--out", str(out), *FAST]) == 0
    assert json.loads((out / "run.json").read_text())["task"] == "regression"
    assert main(["predict", str(out), str(DATASETS / "abalone.csv"), "--output", str(tmp_path / "p.csv")]) == 0
    assert pd.read_csv(tmp_path / "p.csv").columns.tolist() == ["Class_Rings"]


def test_a_blend_is_named_by_its_members_and_predicts_after_loading(tmp_path, capsys):
    out = tmp_path / "abalone"
    # Default settings: 3-fold CV on 4,177 rows, so the candidates may be blended (ensemble: auto).
    assert main(["fit", str(DATASETS / "abalone.csv"), "--target", "Class_Rings", "--out", str(out),
                 "--max-trials", "6", "--quiet"]) == 0
    run = json.loads((out / "run.json").read_text())
    selected = run["selected"]
    assert selected["family"] == "ensemble" and len(selected["member_families"]) >= 2
    # The blend's row shows its members' inference energy; it was not spent twice.
    board = pd.read_csv(out / "leaderboard.csv")
    trained = board[board["family"] != "ensemble"]
    assert run["energy"]["candidates_j"] == pytest.approx(trained["cumulative_energy_j"].max())
    assert f"Selected ensemble of {', '.join(selected['member_families'])} (r2 " in capsys.readouterr().out
    assert main(["leaderboard", str(out), "--format", "markdown"]) == 0
    blend_row = next(line for line in capsys.readouterr().out.splitlines() if "| ensemble |" in line)
    assert '"weights": [' in blend_row and "..." not in blend_row  # whole, unlike the terminal table
    assert main(["predict", str(out), str(DATASETS / "abalone.csv"), "--output", str(tmp_path / "p.csv")]) == 0
    assert np.isfinite(pd.read_csv(tmp_path / "p.csv")["Class_Rings"]).all()


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_FITS = {
    "missing file": (lambda t: t / "nope.csv", ["--target", "y"], "nope.csv"),
    "empty file": (lambda t: MALFORMED / "empty.csv", ["--target", "y"], "empty"),
    "header only": (lambda t: MALFORMED / "header_only.csv", ["--target", "y"], "no data rows"),
    "ragged rows": (lambda t: MALFORMED / "ragged.csv", ["--target", "a"], "fields"),
    "duplicate columns": (lambda t: MALFORMED / "duplicate_columns.csv", ["--target", "a"], "uplicate"),
    "binary bytes": (lambda t: MALFORMED / "binary.csv", ["--target", "a"], "not a CSV"),
    "target absent": (lambda t: DATASETS / "car.csv", ["--target", "price"], "columns are"),
    "target all missing": (lambda t: _csv(t, "m.csv", "a,y\n1,\n2,\n3,\n"), ["--target", "y"], "missing"),
    "one class": (lambda t: _csv(t, "o.csv", "a,y\n1,k\n2,k\n3,k\n4,k\n"), ["--target", "y"], "class"),
    "fewer rows than folds": (lambda t: _csv(t, "f.csv", "a,y\n1,p\n2,q\n3,p\n"), ["--target", "y"], "too few"),
    "negative budget": (lambda t: DATASETS / "car.csv", ["--target", "class", "--time-budget", "-3"], "time_budget"),
    "unknown metric": (lambda t: DATASETS / "car.csv", ["--target", "class", "--metric", "r2"], "Unknown metric"),
    "bad energy unit": (lambda t: DATASETS / "car.csv", ["--target", "class", "--energy-budget", "5 parsecs"],
                        "energy"),
    "bad co2 unit": (lambda t: DATASETS / "car.csv", ["--target", "class", "--co2-budget", "lots"], "lots"),
    "unknown config": (lambda t: DATASETS / "car.csv", ["--target", "class", "--config", "nope"], "preset"),
    "zero energy budget": (lambda t: DATASETS / "car.csv", ["--target", "class", "--energy-budget", "0"], "positive"),
    "budget not a number": (lambda t: DATASETS / "car.csv", ["--target", "class", "--time-budget", "nan"],
                            "must be a number"),
    "config value null": (lambda t: DATASETS / "car.csv",
                          ["--target", "class", "--config", str(BAD_CONFIGS / "null_tol.yaml")], "'tol'"),
    "config whole number infinite": (lambda t: DATASETS / "car.csv",
                                     ["--target", "class", "--config", str(BAD_CONFIGS / "infinite_folds.yaml")],
                                     "whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_input_exits_2_with_one_line_and_no_output_folder(case, tmp_path, capsys):
    make_path, options, words = BAD_FITS[case]
    out = tmp_path / "out"
    code = main(["fit", str(make_path(tmp_path)), *options, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err and err[-1].startswith("kiss-automl: error:") and words.lower() in err[-1].lower()
    assert not any("Traceback" in line for line in err)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("options, words", [
    (["--seed", "-1"], "seed must be from 0"),
    (["--seed", "abc"], "invalid integer value"),
    (["--time-budget", "abc"], "invalid float value"),
    ([], "required: --target"),
])
def test_bad_options_print_one_line_and_exit_2(options, words, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["fit", str(DATASETS / "car.csv"), *options, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2
    assert len(err) == 1 and err[0].startswith("kiss-automl: error:") and words in err[0]
    assert not (tmp_path / "out").exists()


def test_paths_that_cannot_be_written_exit_2_with_one_line(fitted, tmp_path, capsys):
    blocker = _csv(tmp_path, "a-file", "x")
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(blocker / "sub"), *FAST]) == 2
    assert main(["predict", str(fitted), str(DATASETS / "credit-approval.csv"), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("kiss-automl: error:") for line in err)
    assert "a-file" in err[0] and str(tmp_path) in err[1]


def test_a_damaged_model_folder_exits_2_with_one_line(fitted, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    shutil.copytree(fitted, damaged)
    (damaged / "model.json").write_text("{not json")
    (damaged / "leaderboard.csv").write_text("a,b\n1,2\n")
    assert main(["predict", str(damaged), str(DATASETS / "credit-approval.csv"), "--output",
                 str(tmp_path / "p.csv")]) == 2
    assert main(["leaderboard", str(damaged)]) == 2
    (damaged / "leaderboard.csv").write_text("")
    assert main(["leaderboard", str(damaged)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("is damaged" in line for line in err)
    assert not (tmp_path / "p.csv").exists()


def test_an_interrupt_before_any_candidate_finishes_exits_130_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    from kiss_automl import runner  # where candidates are evaluated in this process

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "evaluate", interrupted)
    out = tmp_path / "out"
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *FAST]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["kiss-automl: interrupted"]
    assert list(tmp_path.iterdir()) == []


def test_a_rank_stays_whole_when_a_row_failed(fitted, tmp_path, capsys):
    board = pd.read_csv(fitted / "leaderboard.csv").astype({"rank": float, "status": object, "error": object})
    board.loc[len(board) - 1, ["rank", "status", "error"]] = [np.nan, "failed", "ValueError: boom"]
    copy = tmp_path / "copy"
    shutil.copytree(fitted, copy)
    board.to_csv(copy / "leaderboard.csv", index=False)
    assert main(["leaderboard", str(copy), "--format", "json"]) == 0
    ranks = [row["rank"] for row in json.loads(capsys.readouterr().out)]
    assert type(ranks[0]) is int and ranks[0] == 1 and ranks[-1] is None  # not 1.0


def test_predict_with_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["predict", str(tmp_path), str(DATASETS / "car.csv"), "--output", str(tmp_path / "p.csv")]) == 2
    assert "not a kiss-automl model folder" in capsys.readouterr().err


def test_console_script_and_module_entry_points(tmp_path):
    exe = shutil.which("kiss-automl") or str(Path(sys.executable).parent / "kiss-automl")
    for command in ([exe, "--help"], [sys.executable, "-m", "kiss_automl", "--help"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "fit" in done.stdout and "predict" in done.stdout


def test_messy_but_usable_input_is_fitted_with_one_note_per_fix(tmp_path, capsys):
    frame = pd.read_csv(DATASETS / "credit-approval.csv")
    frame["all_missing"], frame["constant"], frame["row_id"] = np.nan, 7, range(len(frame))
    frame.loc[:20, "A2"] = np.inf
    source = tmp_path / "messy.csv"
    source.write_bytes(frame.to_csv(index=False).replace("b,", "\xe9,", 1).encode("latin-1"))
    assert main(["fit", str(source), "--target", "class", "--out", str(tmp_path / "run"), "--max-trials", "3",
                 "--config", "fast"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    for words in ("Latin-1", "'all_missing'", "'constant'", "'row_id'", "'A2': 21 infinite"):
        assert sum(words in note for note in notes) == 1, (words, notes)
    unseen = frame.drop(columns="class").head(5).assign(A1="never-seen", extra=1)
    unseen.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "new.csv"), "--output", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err
    assert "unseen at fit" in err and "Ignoring 1 column(s)" in err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 5
