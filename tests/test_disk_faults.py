"""A full disk, a read-only or vanished output folder, a CSV cut or deleted while read: one
line and exit 2, an earlier output left whole, nothing half-written beside it, and the search
kept for --resume."""

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from kiss_automl import data, persist
from kiss_automl.cli import main
from kiss_automl.journal import Journal

from .conftest import DATASETS

FAST = ["--config", "fast", "--max-trials", "3", "--quiet"]


def _fit(out: Path, *extra: str) -> int:
    return main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *FAST, *extra])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kiss-automl: error:"), err
    return err[0]


def _disk_full(dest) -> None:
    """What a full disk does to a writer: part of the file, then ENOSPC."""
    Path(dest).write_bytes(b"PK\x03\x04 half")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))


def _fill_disk_at(monkeypatch, name: str) -> None:
    """The disk fills up while the output folder's file `name` is written."""
    import skops.io

    dump, write_json, to_csv, copyfile = skops.io.dump, persist.write_json, pd.DataFrame.to_csv, shutil.copyfile
    full = lambda dest: Path(str(dest)).name == name  # noqa: E731
    monkeypatch.setattr(skops.io, "dump", lambda obj, file, **kw: _disk_full(file) if full(file)
                        else dump(obj, file, **kw))
    monkeypatch.setattr(persist, "write_json", lambda path, payload: _disk_full(path) if full(path)
                        else write_json(path, payload))
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path=None, **kw: _disk_full(path) if full(path)
                        else to_csv(self, path, **kw))
    monkeypatch.setattr(shutil, "copyfile", lambda src, dst, **kw: _disk_full(dst) if full(dst)
                        else copyfile(src, dst, **kw))


@pytest.mark.parametrize("name", ["model.skops", "model.json", "leaderboard.csv", "run.json", "journal.jsonl"])
def test_a_full_disk_while_saving_keeps_the_earlier_output_and_the_search(tmp_path, monkeypatch, capsys, name):
    out = tmp_path / "run"
    assert _fit(out) == 0
    earlier = _snapshot(out)
    with monkeypatch.context() as patch:
        _fill_disk_at(patch, name)
        assert _fit(out, "--seed", "7") == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line and "--resume" in line
    assert _snapshot(out) == earlier  # untouched
    # Beside it, only the journal the message names: no half folder, no lock.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.journal.jsonl", "run"]
    assert str(tmp_path / ".run.journal.jsonl") in line
    # Room made: the same fit resumed saves without training anything again.
    assert _fit(out, "--seed", "7", "--resume") == 0
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 7 and run["n_replayed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_full_disk_while_journaling_stops_the_fit_and_keeps_what_was_journaled(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    append, calls = Journal.append, []

    def append_until_full(self, candidate):
        calls.append(candidate)
        if len(calls) == 3:
            with self.path.open("a") as f:
                f.write('{"family": "lin')  # a torn line, as the disk filled
            _disk_full_on(self.path)
        append(self, candidate)

    def _disk_full_on(path):
        original = Path.open

        def full(p, mode="r", *args, **kwargs):
            if p == path and "a" in mode:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(p))
            return original(p, mode, *args, **kwargs)
        monkeypatch.setattr(Path, "open", full)

    monkeypatch.setattr(Journal, "append", append_until_full)
    assert _fit(out) == 2
    line = _one_error_line(capsys)
    assert "Cannot write the search journal" in line and "No space left" in line
    assert "2 candidate(s) before are kept" in line and "--resume" in line
    assert not out.exists()
    monkeypatch.undo()
    assert _fit(out, "--resume") == 0
    assert json.loads((out / "run.json").read_text())["n_replayed"] == 2  # the torn third one reran


def test_an_output_parent_that_vanishes_mid_fit_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    parent = tmp_path / "gone"
    append = Journal.append

    def vanish_then_append(self, candidate):
        if candidate.trial == 1:
            shutil.rmtree(parent)
        append(self, candidate)

    monkeypatch.setattr(Journal, "append", vanish_then_append)
    assert _fit(parent / "run") == 2
    line = _one_error_line(capsys)
    assert "Cannot write the search journal" in line and str(parent) in line


def _read_only(monkeypatch, folder: Path) -> None:
    """`folder` refuses new files as a read-only mount does (root ignores chmod, so it is simulated)."""
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if Path(path).parent == folder and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", refuse)


def test_a_read_only_output_parent_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ro" / "run"
    assert _fit(out) == 0
    assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(tmp_path / "ro" / "p.csv")]) == 0
    capsys.readouterr()
    earlier = _snapshot(tmp_path / "ro")
    _read_only(monkeypatch, tmp_path / "ro")
    assert _fit(out, "--seed", "3") == 2
    line = _one_error_line(capsys)
    assert "Read-only file system" in line and str(tmp_path / "ro") in line and ".lock" not in line
    assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(tmp_path / "ro" / "p.csv")]) == 2
    line = _one_error_line(capsys)
    assert "Read-only file system" in line and line.endswith(str(tmp_path / "ro" / "p.csv"))
    assert _snapshot(tmp_path / "ro") == earlier


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_parent_by_permissions(tmp_path, capsys):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        assert _fit(tmp_path / "ro" / "run") == 2
        assert "Permission denied" in _one_error_line(capsys)
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_a_full_disk_while_writing_predictions_keeps_the_earlier_file(tmp_path, monkeypatch, capsys):
    out, pred = tmp_path / "run", tmp_path / "pred.csv"
    assert _fit(out) == 0
    pred.write_text("class\nearlier\n")
    to_csv = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path=None, **kw: _disk_full(path)
                        if Path(str(path)).parent == tmp_path else to_csv(self, path, **kw))
    assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(pred)]) == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line and line.endswith(str(pred))
    assert pred.read_text() == "class\nearlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv", "run"]  # no half file beside


@pytest.mark.parametrize("change, words", [
    (lambda p, head: os.truncate(p, len(head) // 2 + 3), "changed while it was being read"),  # cut mid-row
    (lambda p, head: p.open("a").write("1,2,3,4,5,6,acc\n"), "changed while it was being read"),  # still written
    (lambda p, head: p.unlink(), "deleted while it was being read"),
])
def test_a_csv_cut_or_deleted_while_it_is_read_exits_2(tmp_path, monkeypatch, capsys, change, words):
    source = tmp_path / "car.csv"
    shutil.copyfile(DATASETS / "car.csv", source)
    read_head = data._read_head

    def then_change(path, compression):
        head = read_head(path, compression)
        change(path, head)
        return head

    monkeypatch.setattr(data, "_read_head", then_change)
    assert main(["fit", str(source), "--target", "class", "--out", str(tmp_path / "run"), *FAST]) == 2
    assert words in _one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a small tmpfs")
def test_a_real_full_disk_and_a_real_read_only_folder(tmp_path, capsys):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "8m"):
        pytest.skip("mount is not permitted here")
    try:
        out = disk / "run"
        small = ["--config", "fast", "--max-trials", "2", "--quiet"]  # baseline and linear: a small model
        fit = ["fit", str(DATASETS / "car.csv"), "--target", "class", "--out", str(out), *small]
        assert main(fit) == 0
        earlier = _snapshot(out)
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - 16 * 1024))  # room for the journal only
        assert main([*fit, "--seed", "5"]) == 2
        assert "No space left on device" in _one_error_line(capsys)
        assert _snapshot(out) == earlier
        assert sorted(p.name for p in disk.iterdir()) == [".run.journal.jsonl", "filler", "run"]
        (disk / "filler").unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        assert main([*fit, "--seed", "5", "--resume"]) == 2
        assert "Read-only file system" in _one_error_line(capsys)
        assert main(["predict", str(out), str(DATASETS / "car.csv"), "--output", str(disk / "p.csv")]) == 2
        assert "Read-only file system" in _one_error_line(capsys)
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert main([*fit, "--seed", "5", "--resume"]) == 0
        assert json.loads((out / "run.json").read_text())["n_replayed"] == 2
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_pipe_for_a_csv_exits_2_at_once_instead_of_hanging(tmp_path, capsys):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)  # nothing writes to it: opening it to read would block for ever
    assert main(["fit", str(fifo), "--target", "class", "--out", str(tmp_path / "run"), *FAST]) == 2
    assert "not a regular file" in _one_error_line(capsys)
