"""A `local:N` cluster's workers forked from a server started for it (cluster/forkserver.py),
on a real LocalCluster on loopback: where the workers come from, what they have imported,
that every CPU-second they burned reaches this process's reaped children once closed, and a
server started ahead of its cluster (`warm`, the `fit` command's); a Ctrl-C as the cluster
starts is held, then the cluster closed."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time

import pytest

from kiss_automl.cli import main
from kiss_automl.cluster import connect as connect_module
from kiss_automl.cluster import forkserver
from kiss_automl.cluster.connect import connect
from kiss_automl.energy.cputime import _children_cpu_seconds as _children_cpu_s  # what the fit's meter reads


def _busy(seconds: float) -> float:
    """Burn CPU on the worker; its process's CPU-seconds so far."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return time.process_time()


def _worker_facts() -> dict:
    return {"parent": os.getppid(), "sklearn": "sklearn.ensemble" in sys.modules, "lightgbm": "lightgbm" in sys.modules,
            "omp": os.environ.get("OMP_NUM_THREADS")}


def _housekeeping(dask_worker) -> dict:
    return {"callbacks": sorted(dask_worker.periodic_callbacks), "tick_s": dask_worker._tick_interval}


def test_workers_come_from_the_server_and_are_counted_once_it_is_stopped(dask_required):
    children_before = _children_cpu_s()
    connection = connect("local:2")
    try:
        assert connection.forkserver
        server_pid = forkserver._server()._forkserver_pid
        facts = list(connection.client.run(_worker_facts).values())
        assert len(facts) == 2
        # Forked from the server, which imported what a candidate needs; never from this process.
        assert all(f["parent"] == server_pid != os.getpid() for f in facts)
        assert all(f["sklearn"] and f["lightgbm"] and f["omp"] == "1" for f in facts)
        # No profiler sampling every 10 ms, nor a 20 ms tick, in a fit's own cluster (connect.py).
        for chores in connection.client.run(_housekeeping).values():
            assert "profile" not in chores["callbacks"] and chores["tick_s"] >= 0.5
        workers_cpu_s = sum(connection.client.run(_busy, 0.5).values())
    finally:
        connection.close()
    assert forkserver._server()._forkserver_pid is None  # stopped and reaped with the cluster
    # The workers are the server's children: reaped by it, and it by this process, so the fit's
    # meter (this process's reaped children) holds every CPU-second they burned.
    assert _children_cpu_s() - children_before >= workers_cpu_s


def test_a_server_someone_else_runs_is_left_alone_and_the_workers_are_spawned(dask_required):
    context = multiprocessing.get_context("forkserver")
    theirs = context.Process(target=time.sleep, args=(0,))
    theirs.start()
    theirs.join()
    server_pid = forkserver._server()._forkserver_pid
    assert server_pid is not None
    connection = connect("local:1")
    try:
        assert not connection.forkserver
        assert [f["parent"] for f in connection.client.run(_worker_facts).values()] == [os.getpid()]
    finally:
        connection.close()
        assert forkserver._server()._forkserver_pid == server_pid  # still theirs, still running
        forkserver.stop()


def test_a_server_warmed_ahead_is_the_one_the_cluster_forks_from(dask_required):
    assert forkserver.warm()
    server_pid = forkserver._server()._forkserver_pid
    assert server_pid is not None
    connection = connect("local:2")
    try:
        assert connection.forkserver
        assert all(f["parent"] == server_pid for f in connection.client.run(_worker_facts).values())
    finally:
        connection.close()
    assert forkserver._server()._forkserver_pid is None
    assert forkserver.claim()  # the next cluster may start one again
    forkserver.stop()


def test_a_warmed_server_no_cluster_took_is_terminated_mid_import_and_reaped(dask_required, tmp_path, monkeypatch):
    (tmp_path / "kiss_slow_preload.py").write_text("import time\ntime.sleep(60)\n")
    # The server is a fresh interpreter (Python 3.11's forkserver does not pass sys.path on).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.setattr(forkserver, "PRELOAD", "kiss_slow_preload")
    assert forkserver.warm()
    server_pid = forkserver._server()._forkserver_pid
    assert server_pid is not None
    started = time.perf_counter()
    forkserver.release()  # as when the fit's CSV is refused
    # Terminated, not waited for: it would have ended only after its 60 s import, or been
    # killed after the stop's 15 s timeout.
    assert time.perf_counter() - started < forkserver.STOP_TIMEOUT_S / 3
    assert forkserver._server()._forkserver_pid is None
    with pytest.raises(ProcessLookupError):  # reaped, not a zombie
        os.kill(server_pid, 0)


def test_a_refused_csv_on_a_local_cluster_leaves_no_server_running(dask_required, tmp_path, capsys, monkeypatch):
    warmed = []
    real_warm = forkserver.warm
    monkeypatch.setattr(forkserver, "warm", lambda: warmed.append(real_warm()) or warmed[-1])
    csv = tmp_path / "empty.csv"
    csv.write_text("a,b\n")
    out = tmp_path / "run"
    assert main(["fit", str(csv), "--target", "b", "--scheduler", "local:2", "--out", str(out)]) == 2
    assert "no data rows" in capsys.readouterr().err
    assert warmed == [True]  # the command started the server before it read the CSV
    assert forkserver._server()._forkserver_pid is None and not out.exists()
    assert forkserver.claim()
    forkserver.stop()


def test_a_ctrl_c_while_the_cluster_starts_is_held_until_the_start_is_over():
    before = signal.getsignal(signal.SIGINT)
    try:
        with connect_module._interrupts_held() as caught:
            os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt in here, mid-start
            time.sleep(0.05)
            assert caught == [signal.SIGINT]
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C was not held")
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_is_not_held():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with connect_module._interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)  # a start that hangs can still be stopped
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before


@contextlib.contextmanager
def _interrupted_as_it_starts():
    yield [signal.SIGINT]  # as if a Ctrl-C had come while the cluster started


def test_a_cluster_interrupted_as_it_started_is_closed_and_the_interrupt_raised(dask_required, monkeypatch):
    import distributed

    started = []
    real = distributed.LocalCluster

    def local_cluster(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    monkeypatch.setattr(connect_module, "_interrupts_held", _interrupted_as_it_starts)
    with pytest.raises(KeyboardInterrupt):
        connect("local:1")
    assert started and started[0].status.name == "closed"
    assert forkserver._server()._forkserver_pid is None


def test_the_estimator_starts_the_server_ahead_and_stops_it_on_bad_data(dask_required, monkeypatch):
    import pandas as pd

    from kiss_automl import KissClassifier
    from kiss_automl.errors import DataError

    warmed = []
    real_warm = forkserver.warm
    monkeypatch.setattr(forkserver, "warm", lambda: warmed.append(real_warm()) or warmed[-1])
    with pytest.raises(DataError, match="1 sample"):
        KissClassifier(scheduler="local:2").fit(pd.DataFrame({"a": [1.0]}), ["yes"])
    assert warmed == [True]  # before the data was checked
    assert forkserver._server()._forkserver_pid is None
    assert forkserver.claim()
    forkserver.stop()


def test_the_server_is_a_fork_of_the_command_alone_run_from_its_main_thread(monkeypatch):
    import threading

    from kiss_automl import process

    monkeypatch.setattr(process, "command_line", False)
    assert not forkserver._forkable()  # a user's program: its threads and pools are not ours to copy
    monkeypatch.setattr(process, "command_line", True)
    assert forkserver._forkable() == (threading.active_count() == 1 and forkserver._server_protocol_known())
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not forkserver._forkable()  # another thread could hold a lock the fork would copy
    finally:
        release.set()
        other.join()


def test_the_command_forks_its_server_after_its_imports_and_counts_every_process(dask_required, tmp_path):
    """In the `kiss-automl` command's own process the server is forked from it once it has
    imported what a worker needs, instead of started as a new interpreter that imports it all
    again; the server and its workers are still reaped into the fit's `process_cpu_s`, which
    is then nearly all the CPU time the process tree burned, read here from outside."""
    import json
    import subprocess
    from pathlib import Path

    from .conftest import DATASETS

    out = tmp_path / "run"
    exe = str(Path(sys.executable).parent / "kiss-automl")
    with open(tmp_path / "stderr.txt", "w") as stderr:
        child = subprocess.Popen([exe, "fit", str(DATASETS / "credit-approval.csv"), "--target", "class",
                                  "--out", str(out), "--scheduler", "local:2", "--max-trials", "8", "--quiet"],
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # its rusage holds every descendant it reaped
    assert os.waitstatus_to_exitcode(status) == 0, (tmp_path / "stderr.txt").read_text()
    run = json.loads((out / "run.json").read_text())
    assert run["cluster"]["workers_started"] == "forked from a server forked from the fit's process after its imports"
    assert run["cluster"]["workers_processes_j"] > run["cluster"]["candidates_on_workers_j"] > 0
    tree_cpu_s = usage.ru_utime + usage.ru_stime
    assert 0.9 * tree_cpu_s <= run["energy"]["process_cpu_s"] <= tree_cpu_s  # the rest: the process's exit


_FORKED_SERVER_FACTS = """
import json, os
from kiss_automl import process
process.command_line = True  # as `kiss-automl` sets it: a process of ours alone
from kiss_automl.cluster import forkserver
from kiss_automl.cluster.connect import connect

def facts():
    from threadpoolctl import threadpool_info
    return {"parent": os.getppid(), "threads": sorted({pool["num_threads"] for pool in threadpool_info()})}

assert forkserver.warm()
server = forkserver._server()._forkserver_pid
with open(f"/proc/{server}/stat") as stat:
    server_parent = int(stat.read().rsplit(")", 1)[1].split()[1])
connection = connect("local:2")
try:
    out = {"driver": os.getpid(), "server": server, "server_parent": server_parent,
           "workers": list(connection.client.run(facts).values()), "started": connection.workers_started}
finally:
    connection.close()
out["server_after"] = forkserver._server()._forkserver_pid
print(json.dumps(out))
"""


def test_in_a_fresh_command_process_the_workers_come_from_a_fork_of_it_with_one_thread_each(dask_required):
    """The server is this process's child (a fork, not a new interpreter's process started by
    multiprocessing, whose parent is this process too: hence the record and the pools), the
    workers the server's, and each worker's OpenBLAS and OpenMP pools one thread wide although
    they were loaded before the fork, under the command's environment."""
    import json
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", _FORKED_SERVER_FACTS], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["started"] == "forked from a server forked from the fit's process after its imports"
    assert facts["server_parent"] == facts["driver"]
    assert len(facts["workers"]) == 2 and all(w["parent"] == facts["server"] for w in facts["workers"])
    assert all(w["threads"] == [1] for w in facts["workers"])
    assert facts["server_after"] is None  # stopped and reaped with the cluster
