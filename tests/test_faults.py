"""Faults: interrupts of a real process, resume, trial timeouts, failures, safe persistence."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kiss_automl import config, engine, persist
from kiss_automl.cli import main
from kiss_automl.errors import ModelFormatError
from kiss_automl.families import REGISTRY, Family

from .conftest import DATASETS, TINY, FakeMeter

EXE = shutil.which("kiss-automl") or str(Path(sys.executable).parent / "kiss-automl")


def _journal_lines(out: Path) -> int:
    partial = out.parent / f".{out.name}.journal.jsonl"
    return len(partial.read_text().splitlines()) - 1 if partial.exists() else 0


def _interrupt_fit(tmp_path: Path, sig: int, *extra: str) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path / "run"
    command = [EXE, "fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "thorough",
               "--quiet", *extra]
    # A shell that runs pytest in the background hands its children SIGINT ignored (as nohup
    # does), and Python keeps it ignored: the child gets the default back, as from a terminal.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while _journal_lines(out) < 4 and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    sent = time.time()
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert time.time() - sent < 30, "the search must stop within seconds"
    return out, subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_keeps_a_complete_output_folder(tmp_path, sig):
    out, done = _interrupt_fit(tmp_path, sig)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["stop_reason"] == "interrupted"
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) >= 4 and board["selected"].sum() == 1
    assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(tmp_path / "p.csv")]) == 0


def test_an_interrupt_during_isolated_candidates_leaves_no_worker_behind(tmp_path):
    import psutil

    out, done = _interrupt_fit(tmp_path, signal.SIGINT, "--memory-limit", "16")  # a limit forces workers
    assert done.returncode == 130, done.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["stop_reason"] == "interrupted" and run["evaluation"]["isolation"] == "process"
    # A forked worker has its parent's command line: none may outlive the parent.
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == done.args]


def test_an_interrupt_a_finalizer_swallowed_still_stops_the_search_at_the_next_candidate(credit):
    """CI saw a Ctrl-C raised inside LightGBM's Booster.__del__, printed as "ignored" and lost:
    the fit ran on. The command's handler also sets `process.interrupt_pending`; here it is set
    as if its KeyboardInterrupt had been swallowed, after the second candidate."""
    from kiss_automl import process

    X, y = credit
    codes = pd.Series(y).astype("category").cat.codes.to_numpy()
    seen = []

    def swallowed(name, **info):
        if name == "candidate":
            seen.append(info["candidate"])
            if len(seen) == 2:
                process.interrupt_pending = True

    try:
        outcome = engine.run(X, codes, "binary", config.load({**TINY, "max_trials": 50, "tol": 0.0}), seed=0,
                             meter=FakeMeter(), on_event=swallowed)
        assert outcome.result.stop_reason == "interrupted"
        assert len(outcome.result.candidates) == 2 and outcome.result.selected is not None
        assert process.interrupt_pending is False  # acted on once, then cleared
    finally:
        process.interrupt_pending = False


def test_the_fit_commands_handler_marks_an_interrupt_and_leaves_an_ignored_sigint_ignored():
    from kiss_automl import commands, process

    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup
        with commands._signals_as_interrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            with pytest.raises(KeyboardInterrupt):
                signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
            assert process.interrupt_pending
        process.interrupt_pending = False
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal
        with commands._signals_as_interrupt():
            with pytest.raises(KeyboardInterrupt):
                signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
            assert process.interrupt_pending
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        process.interrupt_pending = False
        signal.signal(signal.SIGINT, previous)


def test_resume_skips_the_finished_candidates(tmp_path):
    out, _ = _interrupt_fit(tmp_path, signal.SIGINT)
    trained = lambda: (pd.read_csv(out / "leaderboard.csv")["family"] != "ensemble").sum()  # noqa: E731
    before = trained()
    code = main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "thorough",
                 "--max-trials", str(before + 2), "--resume", "--quiet"])
    assert code == 0
    run = json.loads((out / "run.json").read_text())
    assert run["n_replayed"] == before
    assert trained() == before + 2


def test_resuming_a_finished_ensemble_search_gives_the_same_leaderboard(tmp_path):
    """Replayed candidates bring their out-of-fold predictions: the blend is rebuilt, not lost."""
    out = tmp_path / "run"
    fit = ["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "thorough",
           "--max-trials", "12", "--quiet"]
    columns = ["family", "params", "score", "selected"]
    assert main(fit) == 0
    first = pd.read_csv(out / "leaderboard.csv")[columns]
    assert main(fit + ["--resume"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["n_replayed"] == (first["family"] != "ensemble").sum()
    pd.testing.assert_frame_equal(pd.read_csv(out / "leaderboard.csv")[columns], first)


def test_the_journal_keeps_out_of_fold_predictions_when_asked(tmp_path):
    import numpy as np

    from kiss_automl.evaluation import Evaluation
    from kiss_automl.journal import Journal
    from kiss_automl.search import Candidate

    folds = [np.random.default_rng(0).random((7, 3), dtype=np.float32), np.zeros((5, 3), np.float32)]
    candidate = Candidate(0, "lightgbm", 0, "start", {"n_estimators": 8}, 12,
                          Evaluation(scores=[0.5, 0.6], oof=folds), search_params={"n_estimators": 8})
    for keep in (True, False):
        path = tmp_path / f"journal-{keep}.jsonl"
        Journal(path, {"k": 1}, keep_predictions=keep).append(candidate)
        replayed = Journal(tmp_path / "again.jsonl", {"k": 1}, resume_from=path).take("lightgbm", 0,
                                                                                   {"n_estimators": 8})
        assert replayed.scores == [0.5, 0.6]
        assert len(replayed.oof) == (2 if keep else 0)
        for saved, loaded in zip(folds, replayed.oof):
            np.testing.assert_array_equal(saved, loaded)


def test_resume_refuses_a_journal_of_another_search(tmp_path, capsys):
    out = tmp_path / "run"
    options = ["--target", "class", "--out", str(out), "--config", "fast", "--max-trials", "3", "--quiet"]
    assert main(["fit", str(DATASETS / "car.csv"), *options]) == 0
    assert main(["fit", str(DATASETS / "car.csv"), *options, "--seed", "7", "--resume"]) == 2
    assert "belongs to another search" in capsys.readouterr().err


class _Sleeper:
    """A model that takes far longer than the trial timeout."""

    def fit(self, X, y):
        time.sleep(30)
        return self


def test_a_candidate_past_the_trial_timeout_becomes_a_timeout_row(credit, monkeypatch):
    monkeypatch.setitem(REGISTRY, "linear", Family(name="linear", group="linear", preprocessing="onehot",
                                                   build=lambda params, context: _Sleeper()))
    X, y = credit
    codes = pd.factorize(y)[0]
    started = time.perf_counter()
    outcome = engine.run(X, codes, "binary", config.load({**TINY, "trial_timeout": 0.5}), 0, FakeMeter())
    assert time.perf_counter() - started < 20
    board = outcome.leaderboard
    row = board[board["family"] == "linear"].iloc[0]
    assert row["status"] == "timeout" and "trial timeout" in row["error"]
    assert row["fit_energy_j"] > 0  # the energy it burnt is still counted
    assert outcome.result.selected.family != "linear"


def test_a_model_folder_from_another_format_version_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "fast",
                 "--max-trials", "3", "--quiet"]) == 0
    meta = json.loads((out / "model.json").read_text())
    (out / "model.json").write_text(json.dumps({**meta, "format_version": 99}))
    assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(tmp_path / "p.csv")]) == 2
    assert "model format 99" in capsys.readouterr().err


def test_untrusted_types_are_refused_at_load(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "fast",
                 "--max-trials", "3", "--quiet"]) == 0
    monkeypatch.setattr(persist, "TRUSTED_PREFIXES", ("numpy.",))
    with pytest.raises(ModelFormatError, match="not trusted"):
        persist.load(out)


def test_a_crash_while_saving_leaves_no_folder(tmp_path, monkeypatch):
    import skops.io

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(skops.io, "dump", crash)
    out = tmp_path / "run"
    with pytest.raises(OSError):
        persist.save(out, object(), {}, pd.DataFrame(), {})
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_refuses_to_replace_a_folder_that_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("...")
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--quiet"]) == 2
    assert "not a kiss-automl output folder" in capsys.readouterr().err
    assert (out / "thesis.tex").exists()


def test_a_candidate_out_of_memory_becomes_a_failed_row(credit, monkeypatch):
    class Hungry:
        def fit(self, X, y):
            raise MemoryError("Unable to allocate 64.0 GiB for an array")

    monkeypatch.setitem(REGISTRY, "linear", Family(name="linear", group="linear", preprocessing="onehot",
                                                   build=lambda params, context: Hungry()))
    X, y = credit
    outcome = engine.run(X, pd.factorize(y)[0], "binary", config.load(TINY), 0, FakeMeter())
    row = outcome.leaderboard.query("family == 'linear'").iloc[0]
    assert row["status"] == "failed" and "MemoryError" in row["error"]
    assert outcome.result.selected.family != "linear"


def test_skops_is_loaded_without_torch_and_trusts_the_same_types():
    """persist hides torch while skops.io lists sklearn's estimators (a ~5 J import saved per
    fit and per predict); the list it trusts must not change."""
    pytest.importorskip("torch")
    listing = ("import sys, json; from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names; "
               "print(json.dumps([sorted(names), 'torch' in sys.modules]))")
    plain = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True, check=True)
    hidden = subprocess.run([sys.executable, "-c", "from kiss_automl import persist; persist._import_skops_io(); "
                             + listing], capture_output=True, text=True, check=True)
    plain_names, plain_torch = json.loads(plain.stdout)
    hidden_names, hidden_torch = json.loads(hidden.stdout)
    assert plain_torch and not hidden_torch  # the plain import does pull torch in: the test can fail
    assert hidden_names == plain_names and len(hidden_names) > 100


def test_the_command_loads_skops_without_scanning_sklearn_and_trusts_nothing_more(car_run, tmp_path):
    """The `kiss-automl` process skips skops' import-time walk of every sklearn package
    (0.2-0.5 CPU-s a command) and its lookup of scipy's ufuncs (0.2 CPU-s); the types a model
    folder may hold are decided the same way."""
    script = ("import json, sys; from kiss_automl import persist, process; process.command_line = True; "
              "model, meta = persist.load(sys.argv[1]); "
              "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names, SCIPY_UFUNC_TYPE_NAMES; "
              "import scipy.special; "
              "persist.TRUSTED_PREFIXES = ('numpy.',); refused = '';\n"
              "try: persist.load(sys.argv[1])\nexcept persist.ModelFormatError as e: refused = str(e)\n"
              "print(json.dumps([len(names), 'sklearn.semi_supervised' in sys.modules, type(model).__name__, refused, "
              "len(SCIPY_UFUNC_TYPE_NAMES), 'erf' in dir(scipy.special)]))")
    lean = subprocess.run([sys.executable, "-c", script, str(car_run)], capture_output=True, text=True, check=True)
    names, walked, model_type, refused, scipy_ufuncs, listed_again = json.loads(lean.stdout)
    assert names == 0 and not walked  # only the walk imports sklearn.semi_supervised
    assert scipy_ufuncs == 0 and listed_again  # skops listed none; scipy.special lists them again after
    assert model_type == "Pipeline" and "not trusted" in refused
    assert subprocess.run([EXE, "predict", str(car_run), str(DATASETS / "car.csv"), "--output",
                           str(tmp_path / "p.csv")], capture_output=True).returncode == 0


def test_a_trial_timeout_past_the_timer_range_is_no_limit():
    from kiss_automl.evaluation import time_limit

    with time_limit(1e12):  # setitimer itself overflows near 9e9 s
        assert sum(range(1000)) == 499500


# ---- model folders holding the wrong thing: every object loaded is checked before use

@pytest.fixture(scope="module")
def car_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "car"
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "fast",
                 "--max-trials", "3", "--quiet"]) == 0
    return out


def _other_fit_model(path: Path) -> None:
    """The model.skops of another fit (other columns, a regression): trusted types, wrong model."""
    other = path.parent.parent / "abalone"
    if not other.exists():
        assert main(["fit", str(DATASETS / "abalone.csv"), "--target", "Class_Rings", "--out", str(other),
                     "--config", "fast", "--max-trials", "2", "--quiet"]) == 0
    shutil.copyfile(other / "model.skops", path)


def _dump(obj):
    def write(path: Path) -> None:
        import skops.io

        skops.io.dump(obj, path)
    return write


@pytest.mark.parametrize("case, write, words", [
    ("a dict", _dump({"named_steps": {"typer": 1}}), "not a kiss-automl model"),
    ("an array", _dump(__import__("numpy").arange(3)), "not a kiss-automl model"),
    ("a bare estimator", _dump(__import__("sklearn.linear_model").linear_model.LogisticRegression()),
     "not a kiss-automl model"),
    ("another fit's model", _other_fit_model, "other columns"),
])
def test_a_model_file_of_a_trusted_but_wrong_type_exits_2(car_run, tmp_path, capsys, case, write, words):
    folder = tmp_path / "copy"
    shutil.copytree(car_run, folder)
    write(folder / "model.skops")
    code = main(["predict", str(folder), str(DATASETS / "car.csv"), "--output", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0], err
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("field, value", [("columns", None), ("columns", "buying"), ("task", "clustering"),
                                          ("classes", ["acc"]), ("target", 3)])
def test_a_model_json_without_what_predict_reads_exits_2(car_run, tmp_path, capsys, field, value):
    folder = tmp_path / "copy"
    shutil.copytree(car_run, folder)
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**meta, field: value}))
    assert main(["predict", str(folder), str(DATASETS / "car.csv"), "--output", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged" in err[0] and f"'{field}'" in err[0], err


# ---- damaged journal lines: skipped with a note, their candidates trained again

def _candidate(trial: int, score: float):
    from kiss_automl.evaluation import Evaluation
    from kiss_automl.search import Candidate

    params = {"C": float(trial)}
    return Candidate(trial, "linear", 0, "tuned", params, 10, Evaluation(scores=[score, score]), search_params=params)


def _journal_of(path: Path, key: dict, n: int) -> list:
    from kiss_automl.journal import Journal

    journal = Journal(path, key)
    candidates = [_candidate(i, 0.5 + i / 100) for i in range(n)]
    for candidate in candidates:
        journal.append(candidate)
    return candidates


def test_damaged_and_foreign_journal_lines_are_skipped_and_their_candidates_rerun(tmp_path, caplog):
    from kiss_automl.journal import Journal

    path, key = tmp_path / "j.jsonl", {"k": 1}
    candidates = _journal_of(path, key, 5)
    _journal_of(tmp_path / "other.jsonl", {"k": 2}, 1)  # another search's line
    lines = path.read_text().splitlines()
    foreign = (tmp_path / "other.jsonl").read_text().splitlines()[1]
    edited = lines[5].replace('"scores": [0.54, 0.54]', '"scores": [0.99, 0.99]')
    assert edited != lines[5]
    # header, 0, 1, another search's line, 2 torn by a crash, 3, 4 edited by hand
    path.write_text("\n".join([lines[0], lines[1], lines[2], foreign, lines[3][:40], lines[4], edited]) + "\n")
    with caplog.at_level("WARNING", logger="kiss_automl.journal"):
        resumed = Journal(tmp_path / "again.jsonl", key, resume_from=path)
    assert "Skipped 3 damaged line(s)" in caplog.text and "line 4, 5, 7" in caplog.text
    taken = []
    for candidate in candidates:
        evaluation = resumed.take(candidate.family, candidate.rung, candidate.search_params)
        taken.append(evaluation.scores[0] if evaluation else None)
        if evaluation is None:
            resumed.append(candidate)  # it ran again
        else:
            candidate.replayed = True
            resumed.append(candidate)
    assert taken == [0.5, 0.51, None, 0.53, None]  # the edited score is never replayed
    again = Journal(tmp_path / "third.jsonl", key, resume_from=tmp_path / "again.jsonl")
    assert [e.evaluation.scores[0] for e in again.replay] == [0.5, 0.51, 0.52, 0.53, 0.54]  # in search order


def test_a_resume_stopped_part_way_keeps_the_candidates_it_had_not_replayed(tmp_path):
    from kiss_automl.journal import Journal

    path, key = tmp_path / "j.jsonl", {"k": 1}
    candidates = _journal_of(path, key, 5)
    resumed = Journal(path, key, resume_from=path)  # the partial journal is resumed in place
    for candidate in candidates[:2]:
        assert resumed.take(candidate.family, candidate.rung, candidate.search_params) is not None
        candidate.replayed = True
        resumed.append(candidate)
    # Stopped here (Ctrl-C, kill -9, a full disk): all five are still there for the next --resume.
    assert len(Journal(tmp_path / "next.jsonl", key, resume_from=path).replay) == 5


def test_a_journal_the_search_diverged_from_keeps_only_what_it_took(tmp_path, caplog):
    from kiss_automl.journal import Journal

    path, key = tmp_path / "j.jsonl", {"k": 1}
    candidates = _journal_of(path, key, 4)
    resumed = Journal(path, key, resume_from=path)
    assert resumed.take("linear", 0, candidates[0].search_params) is not None
    with caplog.at_level("WARNING", logger="kiss_automl.journal"):
        assert resumed.take("lightgbm", 0, {"n_estimators": 8}) is None
    assert "diverged" in caplog.text
    assert len(path.read_text().splitlines()) == 1 + 1


def test_resume_past_damaged_journal_lines_gives_the_same_search(tmp_path, caplog):
    out = tmp_path / "run"
    fit = ["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "fast",
           "--max-trials", "5", "--quiet"]
    assert main(fit) == 0
    columns = ["family", "params", "score"]
    first = pd.read_csv(out / "leaderboard.csv")[columns]
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines()
    record = json.loads(lines[4])
    record["evaluation"]["scores"] = [1.0] * len(record["evaluation"]["scores"])  # a hand-made perfect score
    lines[2] = lines[2][: len(lines[2]) // 2]  # torn
    lines[4] = json.dumps(record)
    journal.write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING", logger="kiss_automl.journal"):
        assert main(fit + ["--resume"]) == 0
    assert json.loads((out / "run.json").read_text())["n_replayed"] == 3
    pd.testing.assert_frame_equal(pd.read_csv(out / "leaderboard.csv")[columns], first)


@pytest.mark.parametrize("header", ["", "{not json", '{"journal_format": 1, "key": {}}', "\x00\xff"])
def test_resume_from_a_journal_without_a_readable_header_exits_2(tmp_path, capsys, header):
    out = tmp_path / "run"
    fit = ["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "fast",
           "--max-trials", "3", "--quiet"]
    assert main(fit) == 0
    lines = (out / "journal.jsonl").read_text().splitlines()
    (out / "journal.jsonl").write_text("\n".join([header, *lines[1:]]) + "\n")
    capsys.readouterr()
    assert main(fit + ["--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "journal" in err[0] and "without --resume" in err[0], err


def test_the_command_line_imports_no_pandas_before_a_verb_needs_it():
    """`estimate` reads a CSV with the standard library: the entry point must not import
    pandas (0.36 CPU-s) on its way to the verb, as importing persist did once."""
    probe = ("import sys; sys.argv = ['kiss-automl', '--help']\nfrom kiss_automl import cli\n"
             "try: cli.run()\nexcept SystemExit: pass\nprint('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
