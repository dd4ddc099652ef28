"""Files larger than memory: a uniform sample read in chunks (--sample-rows), and a fit that
would not fit refused before the file is read, with a sample size that does."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl import data, memory_check
from kiss_automl.cli import main
from kiss_automl.errors import DataError

from .conftest import DATASETS

_MIB = 1 << 20


def _table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"row": np.arange(rows), "x": rng.random(rows).round(6),
                         "colour": rng.choice(["red", "green", "blue"], rows), "y": rng.integers(0, 2, rows)})


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """~6.5 MiB of CSV, past the 4 MiB head that sizes a file, and its gzip copy beside it."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    _table(200_000).to_csv(path, index=False)
    with open(path, "rb") as plain, gzip.open(path.with_suffix(".csv.gz"), "wb") as packed:
        packed.write(plain.read())
    return path


# ---- --sample-rows -------------------------------------------------------------------------
def test_a_sample_is_uniform_over_the_file_in_file_order_and_drawn_by_the_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SAMPLE_CHUNK_ROWS", 700)  # many chunks: the sample spans their borders
    path = tmp_path / "t.csv"
    _table(10_000).to_csv(path, index=False)
    sample = data.read_csv(path, sample_rows=1000, seed=0)
    rows = sample["row"].to_numpy()
    assert len(sample) == 1000 and len(set(rows)) == 1000 and (np.diff(rows) > 0).all()
    # Uniform: as many rows from each tenth of the file, within binomial noise (sd ~9.5).
    per_tenth = np.bincount(rows // 1000, minlength=10)
    assert per_tenth.min() > 60 and per_tenth.max() < 140, per_tenth
    whole = data.read_csv(path).set_index("row")
    pd.testing.assert_frame_equal(sample.set_index("row"), whole.loc[rows])  # the rows as read whole
    assert (data.read_csv(path, sample_rows=1000, seed=0)["row"].to_numpy() == rows).all()
    assert (data.read_csv(path, sample_rows=1000, seed=1)["row"].to_numpy() != rows).any()


def test_a_sample_as_large_as_the_file_is_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SAMPLE_CHUNK_ROWS", 300)
    path = tmp_path / "t.csv"
    _table(1000).to_csv(path, index=False)
    pd.testing.assert_frame_equal(data.read_csv(path, sample_rows=5000), data.read_csv(path))


@pytest.mark.parametrize("content, words", [
    (b"a,b\n1,2\n" + b"3,4\n" * 500 + b"5,6,7\n" + b"8,9\n" * 10, "Line 503 of t.csv has 3 fields"),
    (b"a,b\n1,2,3\n4,5\n", "Line 2 of t.csv has 3 fields but the header has 2"),
    (b"a,b\n", "has a header but no data rows"),
])
def test_a_sampled_file_is_checked_as_a_whole_one(tmp_path, monkeypatch, content, words):
    monkeypatch.setattr(data, "SAMPLE_CHUNK_ROWS", 100)
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words):
        data.read_csv(path, sample_rows=10)


# ---- the memory check ----------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_rows_are_estimated_from_the_head_of_a_plain_or_compressed_file(big, suffix):
    path = big.with_suffix(suffix)
    opener = data._OPENERS.get(data._compression(path))
    table = memory_check.table_size(path, opener, data._head_parser(",", "utf-8"))
    assert abs(table.rows - 200_000) / 200_000 < 0.05, table
    whole = data.read_csv(big)
    assert table.bytes_per_row == pytest.approx(whole.memory_usage(deep=True).sum() / len(whole), rel=0.05)


def test_a_fit_that_would_not_fit_is_refused_with_a_sample_that_does(big, monkeypatch):
    monkeypatch.setattr(memory_check, "CHECK_FROM_BYTES", 0)
    table = memory_check.table_size(big, None, data._head_parser(",", "utf-8"))
    available = memory_check.peak_bytes(table.rows // 3, table.bytes_per_row)  # a third of the file fits
    with pytest.raises(DataError, match=r"about [\d,]+ rows would take about .* GiB of memory") as refused:
        data.read_csv(big, available_memory=available)
    suggested = int(str(refused.value).split("--sample-rows ")[1].split()[0])
    assert table.rows // 4 < suggested <= table.rows // 3
    assert len(data.read_csv(big, sample_rows=suggested, available_memory=available)) == suggested
    with pytest.raises(DataError, match=r"a sample of [\d,]+ rows"):
        data.read_csv(big, sample_rows=table.rows // 2, available_memory=available)


def test_small_files_are_not_looked_at(tmp_path):
    path = tmp_path / "t.csv"
    _table(100).to_csv(path, index=False)
    assert memory_check.check(path, None, data._head_parser(",", "utf-8"), None, available=0) is None


def test_the_estimate_and_the_suggestion_agree():
    for bytes_per_row in (24.0, 240.0, 4000.0):
        for available in (0.5 * 2**30, 8 * 2**30, 200 * 2**30):
            rows = memory_check.rows_that_fit(available, bytes_per_row)
            assert memory_check.peak_bytes(rows, bytes_per_row) <= available
            assert memory_check.peak_bytes(int(rows * 1.1) + 100, bytes_per_row) > available  # 2 digits: within 10%
    assert memory_check.rows_that_fit(memory_check.BASE_BYTES / 2, 100.0) == 0


@pytest.mark.parametrize("files, expected_mib", [
    ({"memory.max": "1073741824\n", "memory.current": "268435456\n"}, 768),  # cgroup v2: a container's limit
    ({"memory.max": "max\n", "memory.current": "268435456\n"}, None),  # v2 without a limit
    ({"memory/memory.limit_in_bytes": "536870912\n", "memory/memory.usage_in_bytes": "0\n"}, 512),  # v1
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "1\n"}, None),
    ({}, None),
])
def test_available_memory_is_the_lower_of_the_system_and_the_cgroup(tmp_path, files, expected_mib):
    import psutil

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    available = memory_check.available_bytes(cgroup_root=tmp_path)
    system = psutil.virtual_memory().available
    if expected_mib is None:
        assert abs(available - system) < 256 * _MIB  # the system's, read a moment apart
    else:
        assert available == min(expected_mib * _MIB, available) and available <= expected_mib * _MIB


# ---- the command line ------------------------------------------------------------------------
def test_fit_refuses_a_file_too_large_in_one_line_and_writes_nothing(big, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(memory_check, "CHECK_FROM_BYTES", 0)
    monkeypatch.setattr(memory_check, "available_bytes", lambda: memory_check.BASE_BYTES + 10 * _MIB)
    out = tmp_path / "run"
    assert main(["fit", str(big), "--target", "y", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sample-rows" in err and "Traceback" not in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []
    # Told that it fits after all, fit reads it whole.
    assert main(["fit", str(big), "--target", "y", "--out", str(out), "--quiet", "--no-memory-check",
                 "--config", "fast", "--max-trials", "2"]) == 0
    assert json.loads((out / "run.json").read_text())["data"]["rows"] == 200_000


def test_fit_on_a_sample_says_so_in_its_record_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fit", str(DATASETS / "car.csv"), "--target", "class", "--sample-rows", "600", "--out", str(out),
                 "--config", "fast", "--max-trials", "3"]) == 0
    assert "a uniform sample of 600 of its 1,728 rows" in capsys.readouterr().err
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["rows"] == 600 and run["data"]["rows_in_file"] == 1728
    assert main(["report", str(out), "--output", str(tmp_path / "report.md")]) == 0
    assert "a uniform sample of the file's 1,728 rows" in (tmp_path / "report.md").read_text()


def test_sample_rows_must_be_positive(capsys):
    assert main_exit(["fit", str(DATASETS / "car.csv"), "--target", "class", "--sample-rows", "0"]) == 2
    assert "positive number of rows" in capsys.readouterr().err


def main_exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return stopped.value.code


@pytest.mark.parametrize("damage", ["deleted", "not gzip", "cut"])
def test_a_head_that_cannot_be_read_is_left_to_the_full_read(big, tmp_path, monkeypatch, damage):
    monkeypatch.setattr(memory_check, "CHECK_FROM_BYTES", 0)
    path = tmp_path / "t.csv.gz"
    if damage == "not gzip":
        path.write_bytes(b"a,b\n1,2\n" * 1000)
    elif damage == "cut":
        path.write_bytes(big.with_suffix(".csv.gz").read_bytes()[:5000])
    assert memory_check.check(path, gzip.open, data._head_parser(",", "utf-8"), None, available=0) is None


def test_estimate_tells_what_the_memory_check_of_fit_will_find(big, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(memory_check, "CHECK_FROM_BYTES", 0)
    table = data.table_size(big)
    monkeypatch.setattr(memory_check, "available_bytes",
                        lambda: memory_check.peak_bytes(table.rows // 2, table.bytes_per_row))
    assert main(["estimate", str(big), "--target", "y", "--format", "json"]) == 0
    note = [n for n in json.loads(capsys.readouterr().out)["notes"] if n.startswith("memory:")]
    assert len(note) == 1 and "fit will refuse it" in note[0]
    assert main(["fit", str(big), "--target", "y", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    refusal = capsys.readouterr().err
    suggested = refusal.split("--sample-rows ")[1].split()[0]
    assert note[0].endswith(f"--sample-rows {suggested} fits")  # the same advice from both
    assert main(["estimate", str(big), "--target", "y", "--sample-rows", suggested, "--format", "json"]) == 0
    note = [n for n in json.loads(capsys.readouterr().out)["notes"] if n.startswith("memory:")]
    assert "refuse" not in note[0]
