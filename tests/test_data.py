"""Tests of kiss_automl.data: reading CSV files, splitting the target, inferring the task."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl.data import infer_task, read_csv, split_target
from kiss_automl.errors import ConfigError, DataError

MALFORMED = Path(__file__).parent / "malformed"


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ------------------------------------------------------------------ read_csv: good files


def test_read_utf8(tmp_path):
    path = _write(tmp_path, "d.csv", "name,price,flag\ncafé,1.5,True\nthé,2,False\n".encode())
    frame = read_csv(path)
    assert list(frame.columns) == ["name", "price", "flag"]
    assert frame["name"].tolist() == ["café", "thé"]
    assert frame["price"].dtype == np.float64
    assert pd.api.types.is_string_dtype(frame["name"])


def test_read_utf8_bom_and_strips_column_names(tmp_path):
    path = _write(tmp_path, "d.csv", "\ufeff name , price\ncafé,1\nthé,2\n".encode())
    assert list(read_csv(path).columns) == ["name", "price"]


def test_read_latin1_falls_back_with_a_note(tmp_path, caplog):
    path = _write(tmp_path, "d.csv", "name,price\ncafé,1\nthé,2\n".encode("latin-1"))
    with caplog.at_level(logging.INFO, logger="kiss_automl.data"):
        frame = read_csv(path)
    assert frame["name"].tolist() == ["café", "thé"]
    assert "not valid UTF-8" in caplog.text


def test_read_latin1_after_the_sniffed_head(tmp_path):
    # The bad byte is past the first 64 KB: pandas' decode error triggers the retry.
    text = "a,b\n" + "1,x\n" * 20_000 + "2,caf\xe9\n"
    frame = read_csv(_write(tmp_path, "d.csv", text.encode("latin-1")))
    assert frame["b"].iloc[-1] == "café"


def test_read_semicolon_with_decimal_commas(tmp_path):
    path = _write(tmp_path, "d.csv", b"a;b;c\n1;x;1,5\n2;y;-2\n")
    frame = read_csv(path)
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["c"].tolist() == [1.5, -2.0]


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_read_tab_and_pipe(tmp_path, sep):
    path = _write(tmp_path, "d.csv", f"a{sep}b{sep}c\n1{sep}x, y{sep}3\n4{sep}z{sep}6\n".encode())
    frame = read_csv(path)
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["b"].tolist() == ["x, y", "z"]


def test_read_gzip(tmp_path):
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("a,b\n1,2\n3,4\n")
    assert read_csv(path).to_dict("list") == {"a": [1, 3], "b": [2, 4]}


def test_read_utf16_with_bom(tmp_path):
    # Excel's "Unicode text" export.
    path = _write(tmp_path, "d.csv", "a\tb\n1\tcafé\n".encode("utf-16"))
    assert read_csv(path)["b"].tolist() == ["café"]


def test_missing_tokens_are_missing(tmp_path):
    tokens = ["", "NA", "N/A", "nan", "NaN", "null", "NULL", "?", "None"]
    body = "".join(f"{i},{t}\n" for i, t in enumerate(tokens))
    frame = read_csv(_write(tmp_path, "d.csv", f"a,b\n{body}99,1.5\n".encode()))
    assert frame["b"].isna().sum() == len(tokens)
    assert frame["b"].dtype == np.float64
    # "-" is a real label in some data sets (credit-approval), not a missing value.
    assert read_csv(_write(tmp_path, "e.csv", b"a,b\n1,-\n2,+\n"))["b"].tolist() == ["-", "+"]


def test_single_column_file(tmp_path):
    frame = read_csv(_write(tmp_path, "d.csv", b"y\n1\n2\n3\n"))
    assert frame.shape == (3, 1)


# ------------------------------------------------------------------ read_csv: refusals


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", ["empty"]),
        ("whitespace_only.csv", ["empty"]),
        ("header_only.csv", ["no data rows"]),
        ("header_then_blank_lines.csv", ["no data rows"]),
        ("ragged.csv", ["Line 4", "4 fields", "header has 3"]),
        ("ragged_first_row.csv", ["Line 2", "3 fields", "header has 2"]),
        ("duplicate_columns.csv", ["duplicate column", "'price'"]),
        ("duplicate_after_strip.csv", ["duplicate column", "'price'"]),
        ("binary.csv", ["PNG", "not a CSV"]),
        ("nul_bytes.csv", ["binary", "NUL"]),
        ("xlsx_renamed.csv", ["zip", "xlsx"]),
        ("unclosed_quote.csv", ["unclosed quote"]),
        ("not_gzip.csv.gz", ["not a valid gzip"]),
    ],
)
def test_malformed_corpus(name, words):
    with pytest.raises(DataError) as info:
        read_csv(MALFORMED / name)
    message = str(info.value)
    assert name in message
    assert "\n" not in message
    for word in words:
        assert word in message


def test_every_corpus_file_is_tested():
    tested = {p.name for p in MALFORMED.iterdir() if p.is_file()}  # fuzz/: whole fits, test_fuzz_cases.py
    params = test_malformed_corpus.pytestmark[0].args[1]
    assert tested == {name for name, _ in params}


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_csv(tmp_path)


# ------------------------------------------------------------------ split_target


def test_split_target():
    frame = pd.DataFrame({"a": [1, 2, 3], "y": ["u", "v", "u"]})
    X, y = split_target(frame, "y")
    assert list(X.columns) == ["a"]
    assert y.tolist() == ["u", "v", "u"]


def test_split_target_missing_column_lists_columns():
    frame = pd.DataFrame({f"c{i}": [1] for i in range(25)})
    with pytest.raises(DataError) as info:
        split_target(frame, "price", source="data.csv")
    message = str(info.value)
    assert "'price' is not in data.csv" in message
    assert "c0, c1" in message and "(5 more)" in message


def test_split_target_suggests_case_mismatch():
    frame = pd.DataFrame({"a": [1, 2], "Price": [1, 2]})
    with pytest.raises(DataError, match="did you mean 'Price'"):
        split_target(frame, "price")


def test_split_target_all_missing():
    frame = pd.DataFrame({"a": [1, 2], "y": [np.nan, np.nan]})
    with pytest.raises(DataError, match="all 2 are missing"):
        split_target(frame, "y")


def test_split_target_drops_rows_with_missing_target(caplog):
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "y": [1.0, np.nan, 0.0, np.nan]})
    with caplog.at_level(logging.WARNING, logger="kiss_automl.data"):
        X, y = split_target(frame, "y")
    assert X["a"].tolist() == [1, 3]
    assert y.tolist() == [1.0, 0.0]
    assert list(y.index) == [0, 1]
    assert "Dropped 2 of 4 rows" in caplog.text


def test_split_target_too_few_rows_or_no_features():
    with pytest.raises(DataError, match="expected at least 2"):
        split_target(pd.DataFrame({"a": [1, 2], "y": [1, None]}), "y")
    with pytest.raises(DataError, match="no feature columns"):
        split_target(pd.DataFrame({"y": [1, 2]}), "y")


# ------------------------------------------------------------------ infer_task

WINE_QUALITY = np.repeat(np.arange(3, 10), 20)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (WINE_QUALITY, "regression"),
        (np.arange(1, 30), "regression"),  # abalone rings
        (np.arange(12) % 12, "regression"),  # too many codes
        (np.array([0.5, 1.5, 2.0]), "regression"),
        (np.array([0, 1, 0, 1]), "binary"),
        (np.array([-1, 1, 1]), "binary"),
        (np.array([0, 1, 2, 0]), "multiclass"),
        (np.array([1, 2, 3, 4, 5]), "multiclass"),
        (np.array([1.0, 2.0, np.nan, 3.0]), "multiclass"),  # integers read as float
        (pd.Series([1, 2, None, 3], dtype="Int64"), "multiclass"),
        (np.array(["a", "b", "a"]), "binary"),
        (pd.Series(["a", "b", "c", None], dtype="str"), "multiclass"),
        (np.array([True, False]), "binary"),
        (pd.Series(["x", "y"], dtype="category"), "binary"),
        (np.array([1, 2, 3], dtype=object), "multiclass"),
    ],
)
def test_infer_task_auto(y, expected):
    assert infer_task(y) == expected


def test_infer_task_explicit():
    assert infer_task([0, 1, 2, 0], "multiclass") == "multiclass"
    assert infer_task(WINE_QUALITY, "multiclass") == "multiclass"
    assert infer_task([0, 1, 0], "regression") == "regression"
    assert infer_task(["a", "b"], "binary") == "binary"


@pytest.mark.parametrize(
    ("y", "task", "words"),
    [
        (pd.Series(["a", "a"], name="y"), "auto", ["'y'", "single class ('a')", "at least two"]),
        ([3, 3, 3], "auto", ["single class (3)"]),
        ([1, 2, 3], "binary", ["3 classes", "exactly 2"]),
        ([0, 1, 0], "multiclass", ["2 classes", "3 or more"]),
        ([0.5, 1.5, 0.5], "binary", ["fractional numbers such as 0.5", "class labels"]),
        (["a", "b"], "regression", ["non-numeric", "'a'"]),
        ([5.0, 5.0], "regression", ["constant"]),
        ([np.nan, np.nan], "auto", ["no values"]),
    ],
)
def test_infer_task_errors(y, task, words):
    with pytest.raises(DataError) as info:
        infer_task(y, task)
    for word in words:
        assert word in str(info.value)


def test_infer_task_unknown_name():
    with pytest.raises(ConfigError, match="Unknown task 'clasification'"):
        infer_task([0, 1], "clasification")


def test_delimiter_inside_text_fields_does_not_fool_the_sniffer(tmp_path):
    frame = read_csv(_write(tmp_path, "d.csv", b"a,b\n1,x;y\n2,z;w\n3,u;v\n"))
    assert list(frame.columns) == ["a", "b"] and frame["b"].iloc[0] == "x;y"


def test_truncated_gzip(tmp_path):
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n" + "1,2\n" * 50_000)
    path.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(DataError, match="d.csv.gz"):
        read_csv(path)


def test_split_target_reads_labels_as_the_file_means_them():
    frame = pd.DataFrame({"a": range(8), "y": [1, 2, np.nan, 3, 1, 2, 3, 1]})
    assert split_target(frame, "y")[1].dtype == np.int64  # not 1.0, 2.0 for a blank target
    frame = pd.DataFrame({"a": range(6), "y": ["yes", " yes", "no ", "no", "yes", "no"]})
    assert sorted(set(split_target(frame, "y")[1])) == ["no", "yes"]
    frame = pd.DataFrame({"a": range(4), "y": ["5,103", "$1,200", "300", "4,000"]})
    y = split_target(frame, "y")[1]
    assert y.tolist() == [5103.0, 1200.0, 300.0, 4000.0] and infer_task(y) == "regression"
