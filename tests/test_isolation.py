"""Candidates in forked workers: a worker that dies, hangs or grows too big costs one row only."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from kiss_automl import config, engine, isolation
from kiss_automl.energy import CpuTimeMeter
from kiss_automl.families import REGISTRY, Family

from .conftest import TINY, FakeMeter

pytestmark = pytest.mark.skipif(not isolation.available(), reason="process isolation needs Linux fork")
ISOLATED = {**TINY, "isolation": "process"}


def _resident_gib() -> float:
    return isolation._resident_bytes(os.getpid()) / 1024**3


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# ---- call_in_worker -------------------------------------------------------------------------
def test_a_worker_returns_its_value_and_runs_in_another_process():
    assert isolation.call_in_worker(lambda: (os.getpid(), np.arange(3))) [0] != os.getpid()
    assert isolation.call_in_worker(lambda: np.arange(3)).tolist() == [0, 1, 2]


def test_an_exception_in_the_worker_comes_back_as_its_message():
    def boom():
        raise ValueError("bad input for this model\nsecond line")

    with pytest.raises(isolation.WorkerFailed, match=r"^ValueError: bad input for this model$") as caught:
        isolation.call_in_worker(boom)
    assert caught.value.status == "failed"


def test_a_killed_worker_is_reported_not_fatal():
    with pytest.raises(isolation.WorkerFailed, match="killed by SIGKILL"):
        isolation.call_in_worker(lambda: os.kill(os.getpid(), signal.SIGKILL))


def test_a_worker_past_its_deadline_is_killed_as_a_timeout():
    started = time.perf_counter()
    with pytest.raises(isolation.WorkerFailed, match="trial timeout") as caught:
        isolation.call_in_worker(lambda: time.sleep(30), timeout=0.3)
    assert caught.value.status == "timeout"
    assert time.perf_counter() - started < 5


def test_a_worker_over_the_memory_limit_is_killed():
    limit = _resident_gib() + 0.3
    with pytest.raises(isolation.WorkerFailed, match="out of memory") as caught:
        isolation.call_in_worker(lambda: (np.ones(int(1.5 * 1024**3 / 8)), time.sleep(10)), memory_limit_gib=limit)
    assert caught.value.status == "failed"


def test_an_interrupt_in_the_parent_leaves_no_worker_behind(tmp_path):
    pid_file = tmp_path / "pid"

    def work():
        pid_file.write_text(str(os.getpid()))
        time.sleep(30)

    def interrupt(signum, frame):
        if not (pid_file.exists() and pid_file.read_text()):  # the worker has not started yet: wait on
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            isolation.call_in_worker(work)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _gone(int(pid_file.read_text()))


_CTRL_C_DURING_THE_FORK = """
import os, signal, sys, time
from kiss_automl import isolation

sent = []
def ctrl_c_once():  # runs inside os.fork(), in the parent, as Ctrl-C at the worst moment would
    if not sent:
        sent.append(1)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here, inside the fork's own hook
os.register_at_fork(after_in_parent=ctrl_c_once)
started = time.monotonic()
try:
    isolation.call_in_worker(lambda: time.sleep(20))
except KeyboardInterrupt:
    print("interrupted after", round(time.monotonic() - started, 1))
    sys.exit(0)
print("the interrupt was lost")
sys.exit(1)
"""


def test_an_interrupt_during_the_fork_itself_is_not_lost():
    # A signal handler that raises inside os.fork()'s hooks is "ignored" by Python: the
    # search would then run on after a Ctrl-C. Its own process: an at-fork hook stays for good.
    done = subprocess.run([sys.executable, "-c", _CTRL_C_DURING_THE_FORK], capture_output=True, text=True,
                          timeout=60, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Exception ignored" not in done.stderr


@pytest.mark.parametrize("mode, cells, limit, expected", [
    ("none", 10**9, 4.0, False),
    ("process", 10, None, True),
    ("auto", isolation.AUTO_MIN_CELLS - 1, None, False),
    ("auto", isolation.AUTO_MIN_CELLS, None, True),
    ("auto", 10, 4.0, True),  # only a worker can enforce a memory limit
])
def test_when_candidates_run_in_workers(mode, cells, limit, expected):
    assert isolation.wanted(mode, cells, limit) is expected


# ---- the search -----------------------------------------------------------------------------
def _broken_linear(monkeypatch, model) -> None:
    monkeypatch.setitem(REGISTRY, "linear", Family(name="linear", group="linear", preprocessing="onehot",
                                                   build=lambda params, context: model))


class _Hungry:
    """Touches 1.5 GiB: a model too big for the memory limit."""

    def fit(self, X, y):
        self.weights = np.ones(int(1.5 * 1024**3 / 8))
        time.sleep(5)
        return self


class _Crasher:
    """Dies the way a segfaulting or OOM-killed library does: no exception, no cleanup."""

    def fit(self, X, y):
        os.kill(os.getpid(), signal.SIGKILL)


class _Stuck:
    """Hangs where no alarm reaches it (as inside C code that never returns to Python)."""

    def fit(self, X, y):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)


def test_a_candidate_over_the_memory_limit_becomes_a_failed_row_and_its_energy_counts(credit, monkeypatch):
    _broken_linear(monkeypatch, _Hungry())
    X, y = credit
    settings = config.load({**ISOLATED, "memory_limit": round(_resident_gib() + 0.5, 2)})
    outcome = engine.run(X, pd.factorize(y)[0], "binary", settings, 0, CpuTimeMeter(watts_per_core=10.0))
    board = outcome.leaderboard
    row = board[board["family"] == "linear"].iloc[0]
    assert row["status"] == "failed" and "out of memory" in row["error"]
    assert row["fit_energy_j"] > 0  # the killed worker's CPU time is charged
    assert (board["status"] == "ok").sum() >= 2
    assert outcome.result.selected.family == "lightgbm"
    assert outcome.model.predict(X.head()).shape == (5,)


def test_a_worker_killed_mid_fit_becomes_a_failed_row(credit, monkeypatch):
    _broken_linear(monkeypatch, _Crasher())
    X, y = credit
    outcome = engine.run(X, pd.factorize(y)[0], "binary", config.load(ISOLATED), 0, FakeMeter())
    row = outcome.leaderboard.query("family == 'linear'").iloc[0]
    assert row["status"] == "failed" and "killed by SIGKILL" in row["error"]
    assert outcome.result.selected.family == "lightgbm"


def test_a_worker_stuck_past_the_trial_timeout_is_killed(credit, monkeypatch):
    _broken_linear(monkeypatch, _Stuck())
    X, y = credit
    started = time.perf_counter()
    outcome = engine.run(X, pd.factorize(y)[0], "binary", config.load({**ISOLATED, "trial_timeout": 0.5}), 0,
                         FakeMeter())
    assert time.perf_counter() - started < 30
    row = outcome.leaderboard.query("family == 'linear'").iloc[0]
    assert row["status"] == "timeout" and "killed" in row["error"]


def test_isolated_and_in_process_searches_agree(credit):
    X, y = credit
    codes = pd.factorize(y)[0]
    boards = [engine.run(X, codes, "binary", config.load({**TINY, "isolation": mode}), 0, FakeMeter()).leaderboard
              for mode in ("none", "process")]
    columns = ["family", "params", "score", "status"]
    pd.testing.assert_frame_equal(boards[0][columns], boards[1][columns])


def test_workers_do_not_hang_after_the_parent_ran_openmp_threads(credit):
    """libgomp's thread team does not survive a fork: a worker that opens a parallel region of
    its parent's size waits forever. The search's one-thread limit must reach the workers."""
    import xgboost

    X, y = credit
    codes = pd.factorize(y)[0]
    numeric = X.select_dtypes("number")
    xgboost.XGBClassifier(n_estimators=5, n_jobs=2).fit(numeric, codes)  # the user's own earlier work
    settings = config.load({**ISOLATED, "families": ["baseline", "xgboost"], "trial_timeout": 20})
    outcome = engine.run(X, codes, "binary", settings, 0, FakeMeter())
    assert (outcome.leaderboard.query("family == 'xgboost'")["status"] == "ok").all()
