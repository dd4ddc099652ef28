"""The search on a real Dask cluster on loopback (the `dask` extra): a full fit, energy per
candidate and per host, a worker killed mid-candidate, a hung candidate, a scheduler killed
then resumed, reproducibility with a trial budget, GridSearchCV. CI installs the extra and
sets KISS_AUTOML_REQUIRE_DASK=1, so these fail there instead of being skipped."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kiss_automl import KissClassifier
from kiss_automl.cli import main
from kiss_automl.errors import KissError
from kiss_automl.families import REGISTRY, Family

from .conftest import DATASETS

HAVE_DASK = importlib.util.find_spec("distributed") is not None
CREDIT = str(DATASETS / "credit-approval.csv")
# Reaches tuning (TPE with pending trials) and runs to its trial budget: tol 0 never plateaus.
TINY_YAML = "families: [baseline, linear, lightgbm]\ntol: 0.0\nalways_probe: []\nnoise_aware: false\n" \
            "small_data_folds: 2\n"
COMPARED = ["family", "params", "score", "status", "trial", "rung"]


def _config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / f"tiny{abs(hash(extra))}.yaml"
    path.write_text(TINY_YAML + extra)
    return str(path)


def _fit(out: Path, config: str, *extra: str) -> int:
    return main(["fit", CREDIT, "--target", "class", "--out", str(out), "--max-trials", "8", "--config", config,
                 "--quiet", *extra])


@pytest.fixture(scope="module")
def local2(tmp_path_factory):
    """One fit on `--scheduler local:2`, shared by the tests that read it."""
    if not HAVE_DASK:
        return None
    tmp = tmp_path_factory.mktemp("local2")
    out = tmp / "run"
    assert _fit(out, _config(tmp), "--scheduler", "local:2") == 0
    return out


def test_a_fit_on_a_local_cluster_measures_every_candidate_on_its_worker(dask_required, local2, tmp_path):
    board = pd.read_csv(local2 / "leaderboard.csv")
    run = json.loads((local2 / "run.json").read_text())
    assert len(board) == 8 and (board["status"] == "ok").all() and board["selected"].sum() == 1
    assert set(board["family"]) == {"baseline", "linear", "lightgbm"}
    assert (board["fit_energy_j"] > 0).all() and board["host"].notna().all()
    assert board["energy_method"].str.contains(r"^(?:cpu-time-model|rapl)").all()
    cluster = run["cluster"]
    assert cluster["local"] and cluster["slots"] == 2 and cluster["in_flight"] == 2
    hosts = cluster["hosts"]
    assert sum(h["candidates"] for h in hosts.values()) == 8
    assert sum(h["joules"] for h in hosts.values()) == pytest.approx(run["energy"]["candidates_j"])
    assert all(h["method"] for h in hosts.values())
    # Not cheaper than it was: the workers' processes hold their candidates and more, and the
    # fit's own figure (the workers are its reaped children) holds them all.
    assert cluster["driver_j"] > 0
    assert cluster["workers_processes_j"] >= cluster["candidates_on_workers_j"]
    assert cluster["workers_idle_j"] >= 0
    assert cluster["total_j"] >= cluster["driver_j"] + run["energy"]["candidates_j"]
    assert run["energy"]["fit_command_j"] >= cluster["workers_processes_j"]
    assert run["evaluation"]["isolation"] == "dask-worker"
    assert main(["predict", str(local2), CREDIT, "--output", str(tmp_path / "p.csv")]) == 0


def test_a_trial_budget_repeats_the_leaderboard_across_worker_counts(dask_required, local2, tmp_path):
    """The proposals depend on the window of candidates in flight, not on the workers or on
    which task ends first: local:1 and this process, with the same window, repeat local:2."""
    board = pd.read_csv(local2 / "leaderboard.csv")
    assert (board["phase"] == "tuned").sum() > 2  # optuna's proposals, made with others pending
    first = board[COMPARED]
    window2 = _config(tmp_path, "in_flight: 2\n")
    assert _fit(tmp_path / "one", window2, "--scheduler", "local:1") == 0
    assert _fit(tmp_path / "here", window2) == 0
    for other in ("one", "here"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / other / "leaderboard.csv")[COMPARED], first)
    assert "cluster" not in json.loads((tmp_path / "here" / "run.json").read_text())


class _Killer:
    """A model whose fit kills the process it runs in: a worker dying mid-candidate."""

    def fit(self, X, y):
        os.kill(os.getpid(), signal.SIGKILL)


class _Hang:
    """A model stuck far past the trial timeout, where no per-fold check can stop it."""

    def fit(self, X, y):
        time.sleep(120)


def _killer(params, context):
    return _Killer()


def _hang(params, context):
    return _Hang()


@pytest.mark.parametrize("processing, waiting", [
    ({"tcp://w1": ["other"], "tcp://w2": []}, True),  # queued: its worker is restarting, say
    ({"tcp://w1": ["other"], "tcp://w2": ["mine"]}, False),  # running: past its deadline it is timed out
    (ConnectionError("scheduler gone"), False),  # unsure: the timeout stands
])
def test_the_deadline_waits_for_a_task_that_has_not_reached_a_worker(processing, waiting):
    pytest.importorskip("distributed")
    from types import SimpleNamespace

    from kiss_automl.cluster.runner import DaskRunner

    def answer():
        if isinstance(processing, Exception):
            raise processing
        return processing

    runner = object.__new__(DaskRunner)  # only the scheduler's view of the task is asked
    runner.client = SimpleNamespace(processing=answer)
    assert runner._waiting_for_a_worker(SimpleNamespace(future=SimpleNamespace(key="mine"))) is waiting


@pytest.mark.parametrize("answers, said", [
    ({"tcp://w1": "OK"}, "(its Dask worker was restarted)"),
    ({"tcp://w1": "removed"}, "(its Dask worker, which has no nanny, was stopped)"),
    ({"tcp://w1": "timed out"}, "(its Dask worker's restart: timed out)"),
    (TimeoutError("no answer"), "(its Dask worker could not be restarted: TimeoutError: no answer)"),
])
def test_a_hung_candidates_row_says_what_became_of_its_worker(answers, said):
    pytest.importorskip("distributed")
    from types import SimpleNamespace

    from kiss_automl.cluster.runner import DaskRunner

    def restart_workers(workers, timeout, raise_for_error):
        assert workers == ["tcp://w1"] and raise_for_error is False  # the answer is read, not raised
        if isinstance(answers, Exception):
            raise answers
        return answers

    runner = object.__new__(DaskRunner)
    runner.client = SimpleNamespace(cancel=lambda futures, force: None, restart_workers=restart_workers)
    assert runner._restart(SimpleNamespace(future=None), ["tcp://w1"]).strip() == said
    assert runner._restart(SimpleNamespace(future=None), []) == ""  # not on a worker: nothing to restart


def test_a_dead_worker_and_a_hung_candidate_become_rows_and_the_search_goes_on(dask_required, credit, monkeypatch):
    monkeypatch.setitem(REGISTRY, "linear", Family(name="linear", group="linear", preprocessing="onehot",
                                                   build=_killer))
    monkeypatch.setitem(REGISTRY, "random_forest", Family(name="random_forest", group="forest",
                                                          preprocessing="ordinal", build=_hang))
    X, y = credit
    clf = KissClassifier(max_trials=6, random_state=0, scheduler="local:2", config={
        "families": ["baseline", "linear", "random_forest", "lightgbm"], "always_probe": [], "tol": 0.0,
        "noise_aware": False, "small_data_folds": 2, "trial_timeout": 2.0}).fit(X, y)
    board = clf.leaderboard_.set_index("family")
    assert board.loc["linear", "status"] == "failed"
    assert "died" in board.loc["linear", "error"]
    assert board.loc["random_forest", "status"] == "timeout"
    assert "restarted" in board.loc["random_forest", "error"]
    for family in ("linear", "random_forest"):  # charged at their wall time: nothing came back
        assert board.loc[family, "fit_energy_j"] > 0
        assert board.loc[family, "energy_method"].startswith("wall-time bound")
    assert len(clf.leaderboard_) == 6 and clf.best_family_ in ("baseline", "lightgbm")
    assert (clf.leaderboard_["status"] == "ok").sum() >= 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def loopback_cluster():
    """`dask scheduler` and `dask worker` processes on 127.0.0.1: yields (address, scheduler)."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], **quiet)
    workers = subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                                "--host", "127.0.0.1"], **quiet)
    try:
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, scheduler
    finally:
        for process in (workers, scheduler):
            if process.poll() is None:
                process.kill()
            process.wait()


def test_a_lost_scheduler_stops_with_what_finished_and_resume_continues(dask_required, loopback_cluster, tmp_path,
                                                                        monkeypatch, capsys):
    from kiss_automl import journal

    address, scheduler = loopback_cluster
    append = journal.Journal.append
    appended = []

    def append_then_kill(self, candidate):
        append(self, candidate)
        appended.append(candidate)
        if len(appended) == 3:
            os.kill(scheduler.pid, signal.SIGKILL)

    monkeypatch.setattr(journal.Journal, "append", append_then_kill)
    out, config = tmp_path / "run", _config(tmp_path)
    assert _fit(out, config, "--scheduler", address) == 75
    err = capsys.readouterr().err
    assert "cluster was lost" in err and "Traceback" not in err
    run = json.loads((out / "run.json").read_text())
    assert run["stop_reason"] == "cluster_lost" and run["n_candidates"] == 3
    assert run["cluster"]["in_flight"] == 2 and not run["cluster"]["local"]
    # The workers are not in this process's meter: what they spent is added to its figures.
    assert run["energy"]["workers_added_j"] >= run["energy"]["candidates_j"] > 0

    monkeypatch.setattr(journal.Journal, "append", append)
    assert _fit(out, config, "--resume") == 0  # here, without a cluster: the journal's window
    run = json.loads((out / "run.json").read_text())
    assert run["stop_reason"] == "max_trials" and run["n_replayed"] == 3 and run["n_candidates"] == 8


@pytest.mark.parametrize("terminal", [False, True], ids=["SIGTERM to the fit", "Ctrl-C to its process group"])
def test_an_interrupt_cancels_the_tasks_and_writes_the_output(dask_required, tmp_path, terminal):
    """SIGTERM to the fit alone, or SIGINT to its whole process group as a terminal's Ctrl-C
    sends it, which reaches the local workers too: they leave it to the driver, without a
    traceback each."""
    out = tmp_path / "run"
    journal = tmp_path / ".run.journal.jsonl"
    exe = str(Path(sys.executable).parent / "kiss-automl")
    process = subprocess.Popen([exe, "fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out),
                                "--config", "thorough", "--scheduler", "local:2", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               # a background shell starts its children ignoring SIGINT; a terminal does not
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None and \
            (not journal.exists() or len(journal.read_text().splitlines()) < 4):
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    sent = time.time()
    if terminal:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert time.time() - sent < 30 and process.returncode == 130, stderr
    assert "Traceback" not in stderr
    run = json.loads((out / "run.json").read_text())
    assert run["stop_reason"] == "interrupted" and run["n_candidates"] >= 3 and run["cluster"]["local"]


def test_the_estimator_runs_inside_grid_search_on_a_local_cluster(dask_required, credit):
    from sklearn.model_selection import GridSearchCV

    X, y = credit
    estimator = KissClassifier(random_state=0, scheduler="local:2",
                               config={"families": ["baseline", "linear"], "small_data_folds": 2})
    grid = GridSearchCV(estimator, {"max_trials": [3]}, cv=2).fit(X, y)  # 2 folds, then the refit
    assert grid.cv_results_["mean_test_score"][0] > 0.5
    assert grid.best_estimator_.leaderboard_["host"].notna().all()
    assert grid.best_estimator_.predict(X.head(5)).shape == (5,)


def test_without_the_extra_a_scheduler_is_one_line_naming_it(tmp_path, credit, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    out = tmp_path / "run"
    assert main(["fit", CREDIT, "--target", "class", "--out", str(out), "--scheduler", "local:2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'kiss-automl[dask]'" in err and "Traceback" not in err
    assert not out.exists()
    X, y = credit
    with pytest.raises(KissError, match=r"kiss-automl\[dask\]"):
        KissClassifier(scheduler="tcp://127.0.0.1:1").fit(X, y)


@pytest.mark.parametrize("value", ["local:0", "local:two", "", "not an address"])
def test_a_bad_scheduler_is_one_line(tmp_path, capsys, value):
    assert main(["fit", CREDIT, "--target", "class", "--out", str(tmp_path / "r"), "--scheduler", value]) == 2
    assert "'scheduler' must be" in capsys.readouterr().err
