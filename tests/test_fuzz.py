"""A fuzzed corpus of CSV files: every `fit` ends in exit 0 with a complete output folder (and
`predict` on the same file works), or in exit 2 with one line on stderr; never a traceback, a
hang or exit 1. The estimators, given the same tables, fit or raise a one-line ValueError.

Profiles (tests/README.md): KISS_FUZZ=ci (default; fixed seed, 200 fits, 100 estimator fits) and
KISS_FUZZ=local (random seeds, KISS_FUZZ_EXAMPLES fits, 2,000 by default). KISS_FUZZ_REPORT=FILE
writes the outcome counts as JSON. A failing example is printed by Hypothesis and its CSV is kept
under KISS_FUZZ_KEEP (default: the system's temp folder, kiss-fuzz-failures/).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import faulthandler
import gzip
import io
import json
import logging
import os
import random
import re
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kiss_automl import KissClassifier, KissRegressor  # noqa: E402
from kiss_automl.data import read_csv  # noqa: E402
from kiss_automl.errors import DataError  # noqa: E402

from .fit_outcome import check_model, check_quiet, check_refusal, fit  # noqa: E402

PROFILE = os.environ.get("KISS_FUZZ", "ci")
_QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
                 HealthCheck.large_base_example, HealthCheck.filter_too_much]
if PROFILE == "local":
    _CLI = settings(max_examples=int(os.environ.get("KISS_FUZZ_EXAMPLES", "2000")), deadline=None,
                    suppress_health_check=_QUIET_CHECKS)
    _API = settings(_CLI, max_examples=max(1, _CLI.max_examples // 4))
else:  # CI: the same examples every run, no example database
    _CLI = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=_QUIET_CHECKS, print_blob=True)
    _API = settings(_CLI, max_examples=100)
# A case takes well under a second; past this it is a hang: the stacks are dumped and the run
# ends (generous, so a busy CI machine is no reason to fail).
CASE_LIMIT_S = float(os.environ.get("KISS_FUZZ_CASE_LIMIT_S", "180"))
TALLY: Counter = Counter()
# Models warn on such data (50 classes in 60 rows, 1e308): not what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

# ---------------------------------------------------------------------------- the corpus

NAMES = ["a", "b", "x1", "price", "y", "target", "", " a ", "A", "名前", "café", "Unnamed: 0", "x,y", 'q"t',
         "line\nbreak", "id", "d__year", "#", "-x", "a;b", "\t", "NA", "1", "a" * 300]
WORDS = ["red", "green", "blue", " yes", "no ", "é", "ß", "中文", "x,y", 'say "hi"', "a;b", "p|q", "tab\there",
         "multi\nline", "", "NA", "?", "-", "0", "1", "True", "🙂", "[bold]", "%s", "{}", "\\", "'"]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d %b %Y", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y",
                "%b %d, %Y", "%Y-%m-%d %H:%M"]
MISSING = ["", "NA", "N/A", "nan", "null", "?", "None", "NaN", "-"]
FEATURE_KINDS = ["int", "float", "thousands", "currency", "percent", "decimal_comma", "date", "mixed_dates",
                 "bool", "category", "text", "missing", "constant", "row_id", "huge", "mixed", "specials", "float"]
# Hypothesis favours a list's first and last items: both are plain ones.
TARGET_KINDS = ["two_classes", "regression", "many_classes", "int_codes", "rare_classes", "formatted_numbers",
                "bool", "text_labels", "one_class", "regression", "two_classes"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "mixed", "utf-8"]


def _number(rnd: random.Random) -> float:
    return rnd.choice([rnd.uniform(-1e3, 1e3), rnd.uniform(0, 1), rnd.uniform(1e3, 1e7), float(rnd.randint(0, 9))])


def _cell(kind: str, rnd: random.Random, row: int, state: dict) -> str:
    x = _number(rnd)
    if kind == "int":
        return str(int(x))
    if kind == "float":
        return f"{x:.{rnd.randint(0, 6)}f}"
    if kind == "thousands":
        return f"{x:,.2f}"
    if kind == "currency":
        return f"{rnd.choice('$€£')}{x:,.0f}"
    if kind == "percent":
        return f"{x:.1f}%"
    if kind == "decimal_comma":
        return f"{x:.2f}".replace(".", ",")
    if kind in ("date", "mixed_dates"):
        day = datetime.datetime(1990, 1, 1) + datetime.timedelta(minutes=rnd.randint(0, 40 * 525_600))
        return day.strftime(state["date_format"] if kind == "date" else rnd.choice(DATE_FORMATS))
    if kind == "bool":
        return rnd.choice(["true", "false", "True", "FALSE", "yes", "no", "1", "0", "t", "f"])
    if kind == "category":
        return rnd.choice(state["pool"])
    if kind == "text":
        return "".join(rnd.choice(state["alphabet"]) for _ in range(rnd.randint(0, 30)))
    if kind == "missing":
        return rnd.choice(MISSING)
    if kind == "constant":
        return "k"
    if kind == "row_id":
        return str(row)
    if kind == "huge":
        return "x" * state["huge"] if row == state["huge_row"] else str(int(x))
    if kind == "specials":
        return rnd.choice(["inf", "-inf", "1e308", "1e-320", "-0", "0x1A", "1_000", "+5", ".5", "5.", "∞", "١٢٣"])
    return _cell(rnd.choice([k for k in FEATURE_KINDS if k not in ("mixed", "huge")]), rnd, row, state)


def _label(kind: str, rnd: random.Random, state: dict) -> str:
    if kind == "one_class":
        return "a"
    if kind == "two_classes":
        return rnd.choice(state["pair"])
    if kind == "many_classes":
        return f"c{rnd.randint(0, state['k'] - 1)}"
    if kind == "rare_classes":
        return "common" if rnd.random() < 0.9 else f"rare{rnd.randint(0, 5)}"
    if kind == "regression":
        return f"{_number(rnd):.3f}"
    if kind == "int_codes":
        return str(rnd.randint(state["low"], state["low"] + state["k"] - 1))
    if kind == "formatted_numbers":
        return f"{_number(rnd):,.2f}"
    if kind == "bool":
        return rnd.choice(["True", "False"])
    return rnd.choice(WORDS)


MUTATIONS = ["ragged_row", "cut_short", "stray_quote", "nul_bytes", "no_header", "blank_lines", "gzip",
             "other_target", "bytes_flipped"]


@st.composite
def csv_files(draw) -> dict:
    """A CSV (bytes), its file name, the target's name as a user would type it, and the options.

    Hypothesis draws the shape (columns' kinds, target, encoding, dialect, damage); a seeded
    generator fills the cells, so that large files stay cheap to draw and to replay.
    """
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    n_features = draw(st.integers(1, 5)) if draw(st.integers(0, 19)) < 19 else 0
    kinds = draw(st.lists(st.sampled_from(FEATURE_KINDS), min_size=n_features, max_size=n_features))
    target_kind = draw(st.sampled_from(TARGET_KINDS))
    # Plain distinct names mostly; one in four drawn from the awkward ones (spaces, empty, repeated...).
    names = [rnd.choice(NAMES) if rnd.random() < 0.25 else f"col{i}" for i in range(n_features + 1)]
    target_at = rnd.randint(0, n_features)
    n_rows = rnd.choice([0, 1, 3, 5, 8, 12, 20, 20, 40, 40, 40, 80, 80, 80, 150, 150, 300, 600])
    missing_share = rnd.choice([0.0, 0.0, 0.0, 0.05, 0.3, 1.0])
    target_missing = rnd.choice([0.0] * 8 + [0.1, 1.0])
    # Damage, one case in two: most files should reach a search.
    damage = set(draw(st.lists(st.sampled_from(MUTATIONS), max_size=3, unique=True))) if rnd.random() < 0.5 else set()
    state = {"date_format": rnd.choice(DATE_FORMATS), "pool": rnd.sample(WORDS, rnd.randint(1, 8)),
             "alphabet": rnd.sample(list(",;|\t\"' \n\rabcxyzé中🙂0123456789.-"), 12),
             "huge": rnd.choice([10_000, 70_000, 300_000]), "huge_row": rnd.randint(0, max(n_rows - 1, 0)),
             "pair": rnd.choice([("yes", "no"), ("0", "1"), (" yes", "no "), ("A", "a"), ("1.0", "2.0")]),
             "k": rnd.randint(3, 40), "low": rnd.choice([0, 1, 3])}
    rows = []
    for i in range(n_rows):
        row = [("" if rnd.random() < missing_share else _cell(kind, rnd, i, state)) for kind in kinds]
        row.insert(target_at, "" if rnd.random() < target_missing else _label(target_kind, rnd, state))
        rows.append(row)
    if rows and "ragged_row" in damage:  # a row one field longer or shorter
        victim = rows[rnd.randrange(len(rows))]
        victim.append("extra") if rnd.random() < 0.5 else victim.pop()
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", ","]))
    quoting = rnd.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE])
    newline = rnd.choice(["\n", "\n", "\r\n", "\r"])
    table = ([] if "no_header" in damage else [names]) + rows
    try:
        text = _write(table, delimiter, quoting, newline)
    except csv.Error:  # unquoted, a row of one empty field cannot be written
        text = _write(table, delimiter, csv.QUOTE_MINIMAL, newline)
    if "blank_lines" in damage:
        text = text.replace(newline, newline * 2, rnd.randint(1, 5))
    if text and "cut_short" in damage:  # as a crash or a partial copy leaves it
        text = text[: rnd.randrange(len(text))]
    if text and "stray_quote" in damage:
        at = rnd.randrange(len(text))
        text = text[:at] + '"' + text[at:]
    content = _encode(text, draw(st.sampled_from(ENCODINGS)), rnd)
    if content and "nul_bytes" in damage:
        at = rnd.randrange(len(content))
        content = content[:at] + b"\x00" * rnd.randint(1, 3) + content[at:]
    if content and "bytes_flipped" in damage:
        flipped = bytearray(content)
        for _ in range(rnd.randint(1, 5)):
            flipped[rnd.randrange(len(flipped))] = rnd.randrange(256)
        content = bytes(flipped)
    gz = "gzip" in damage
    return {"content": gzip.compress(content) if gz else content, "name": "data.csv.gz" if gz else "data.csv",
            "target": rnd.choice(NAMES) if "other_target" in damage else names[target_at],
            "task": rnd.choice(["auto"] * 12 + ["binary", "multiclass", "regression"]), "quiet": rnd.random() < 0.8}


def _write(table: list[list[str]], delimiter: str, quoting: int, newline: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, escapechar="\\", lineterminator=newline).writerows(table)
    return buffer.getvalue()


def _encode(text: str, encoding: str, rnd: random.Random) -> bytes:
    if encoding == "mixed":  # lines from two editors: some UTF-8, some Latin-1
        return b"".join(line.encode(rnd.choice(["utf-8", "latin-1"]), errors="replace")
                        for line in text.splitlines(keepends=True))
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", errors="replace")
    return text.encode(encoding, errors="replace")


# ---------------------------------------------------------------------------- running a case


@pytest.fixture(autouse=True)
def _logging_as_it_was():
    """main() points the package's log handler at this test's captured stderr: undo it after."""
    logger = logging.getLogger("kiss_automl")
    before = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = before


@pytest.fixture(scope="module", autouse=True)
def outcome_report():
    yield
    report = os.environ.get("KISS_FUZZ_REPORT")
    summary = {"profile": PROFILE, **dict(sorted(TALLY.items()))}
    print("\nfuzz outcomes:", json.dumps(summary))
    if report:
        Path(report).write_text(json.dumps(summary, indent=2) + "\n")


class _CaseLimit:
    """Past CASE_LIMIT_S a case is a hang: every thread's stack is dumped and the run ends."""

    def __enter__(self):
        faulthandler.dump_traceback_later(CASE_LIMIT_S, exit=True)

    def __exit__(self, *exc):
        faulthandler.cancel_dump_traceback_later()


def _keep(case: dict) -> Path:
    """The failing CSV, kept where it can be turned into a fixed case of tests/malformed/."""
    folder = Path(os.environ.get("KISS_FUZZ_KEEP", Path(tempfile.gettempdir()) / "kiss-fuzz-failures"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{abs(hash(case['content'])):x}-{case['name']}"
    path.write_bytes(case["content"])
    note(f"kept as {path}; target {case['target']!r}, task {case['task']}, quiet {case['quiet']}")
    return path


def _gist(err: str) -> str:
    """A refusal's kind: its message without names and numbers."""
    message = (err.strip().splitlines() or [""])[-1].replace("kiss-automl: error: ", "")
    message = re.sub(r"'[^']*'|\S*data\.csv(\.gz)?|[\d.]+", "…", message)
    return message.split(";")[0].split(" (")[0][:60]


@given(case=csv_files())
@_CLI
def test_fit_on_a_fuzzed_csv_ends_in_a_model_or_one_line(case, capfd):
    with tempfile.TemporaryDirectory() as work, _CaseLimit():
        source, out = Path(work) / case["name"], Path(work) / "out"
        source.write_bytes(case["content"])
        try:
            code, err = fit(source, case["target"], case["task"], case["quiet"], out, capfd)
            TALLY[f"fit: exit {code}"] += 1
            assert code in (0, 2), err
            if code == 2:
                TALLY[f"fit: exit 2: {_gist(err)}"] += 1
                check_refusal(err, case["quiet"])
                assert not out.exists()
            else:
                if case["quiet"]:
                    check_quiet(err)
                check_model(source, out, capfd)
        except BaseException:
            _keep(case)
            TALLY["failed"] += 1
            raise


@given(case=csv_files())
@_API
def test_the_estimators_on_a_fuzzed_table_fit_or_raise_one_line(case):
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / case["name"]
        source.write_bytes(case["content"])
        try:
            frame = read_csv(source)
        except DataError:
            TALLY["api: unreadable CSV"] += 1
            return
    target = case["target"].strip()
    if target not in frame.columns:
        target = frame.columns[-1]
    X, y = frame.drop(columns=[target]), frame[target]
    estimators = [KissClassifier] + ([KissRegressor] if pd.api.types.is_numeric_dtype(y) else [])
    with _CaseLimit():
        for cls in estimators:
            try:
                cls(max_trials=3, config="fast", random_state=0).fit(X, y)
                TALLY[f"api {cls.__name__}: fitted"] += 1
            except ValueError as exc:
                TALLY[f"api {cls.__name__}: ValueError"] += 1
                message = str(exc).strip()
                assert message and "\n" not in message, repr(message)
            except BaseException:
                _keep(case)
                TALLY[f"api {cls.__name__}: other exception"] += 1
                raise
