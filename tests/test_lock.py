"""Two fits on one output folder: the second is refused at once, the first goes on untouched;
a lock left by a fit that died is taken over with a note."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from kiss_automl.cli import main

from .conftest import DATASETS

EXE = shutil.which("kiss-automl") or str(Path(sys.executable).parent / "kiss-automl")
FAST = ["--config", "fast", "--max-trials", "3", "--quiet"]


def _wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert process.poll() is None and condition(), process.communicate()


def test_a_second_fit_on_the_same_folder_is_refused_and_the_first_finishes_whole(tmp_path, capsys):
    out = tmp_path / "m_same"
    partial = tmp_path / ".m_same.journal.jsonl"
    first = subprocess.Popen([EXE, "fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out),
                              "--config", "thorough", "--max-trials", "8", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The first has journaled a candidate and has seven to go: it is mid-search.
    _wait_for(lambda: partial.exists() and len(partial.read_text().splitlines()) >= 2, first)
    started = time.perf_counter()
    code = main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *FAST])
    refused_in = time.perf_counter() - started
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(out) in err[0] and f"pid {first.pid}" in err[0] and "another fit" in err[0]
    assert refused_in < 5  # before reading the CSV or training anything
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    lines = (out / "journal.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole: nothing interleaved
    assert len(records) == 1 + 8 and all(r["seal"] for r in records[1:])
    board = pd.read_csv(out / "leaderboard.csv")
    assert (board["family"] != "ensemble").sum() == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m_same"]  # no lock, no journal left beside


def _hold_lock(out: Path) -> subprocess.Popen:
    """Another process that takes the folder's lock, as a fit does, and sleeps."""
    script = ("import sys, time; from kiss_automl.persist import OutputLock; OutputLock(sys.argv[1]).__enter__(); "
              "print('locked', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_lock_left_by_a_killed_fit_is_taken_over_with_a_note(tmp_path, capsys):
    out = tmp_path / "run"
    holder = _hold_lock(out)
    try:
        assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *FAST]) == 2
        assert f"pid {holder.pid}" in capsys.readouterr().err
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding it: the lock file stays, its flock goes
        holder.wait()
    assert (tmp_path / ".run.lock").exists()
    options = [o for o in FAST if o != "--quiet"]
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *options]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "Took over the lock" in line]
    assert len(notes) == 1 and f"pid {holder.pid}" in notes[0]
    assert (out / "run.json").exists() and not (tmp_path / ".run.lock").exists()


def test_resume_after_kill_9_takes_the_lock_over_and_replays(tmp_path, capsys):
    out = tmp_path / "run"
    partial = tmp_path / ".run.journal.jsonl"
    command = ["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), "--config", "thorough"]
    process = subprocess.Popen([EXE, *command, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: partial.exists() and len(partial.read_text().splitlines()) >= 4, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    journaled = len(partial.read_text().splitlines()) - 1
    assert main([*command, "--max-trials", str(journaled + 1), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "Took over the lock" in err and f"pid {process.pid}" in err
    run = json.loads((out / "run.json").read_text())
    assert run["n_replayed"] >= journaled - 1  # the last line may have been cut by the kill: it reran


def test_the_lock_is_released_when_a_fit_fails(tmp_path):
    out = tmp_path / "new" / "run"
    assert main(["fit", str(tmp_path / "missing.csv"), "--target", "class", "--out", str(out), *FAST]) == 2
    assert list(tmp_path.iterdir()) == []  # neither the lock nor the folders made for it
