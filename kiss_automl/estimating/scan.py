"""What `estimate` needs to know of a CSV, read cheaply: rows, the task, classes, columns and
their one-hot width.

A small fit costs ~10 J here, of which the process's start-up is half; pandas alone costs
0.36 CPU-s (1.4 J) to import and scikit-learn 1.2 CPU-s. So the happy path uses the standard
library only: the file is decompressed and scanned once (every record parsed when it is
small, lines counted and a spread sample parsed when it is large), and the columns are typed
on a sample by `type_columns`, a stdlib copy of `ColumnTyper`'s rules (tests hold the two to
the same kinds and widths on the bundled datasets).

Anything unusual (a file that is missing, binary, not UTF-8, ragged, without the target,
with one class...) is handed to `exact`, which reads the file the way `fit` does
(`data.read_csv`, `split_target`, `infer_task`, `ColumnTyper`): it raises fit's own error,
word for word, or, when the file is fine after all, returns what `fit` would see.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..csv_dialect import sniff_delimiter

# pandas' default missing-value strings plus data.MISSING_TOKENS (tests check both lists).
MISSING = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?"})
MAX_CODED_CLASSES = 10  # data.MAX_CODED_CLASSES
MAX_ONEHOT_CATEGORIES = 32  # preprocess.MAX_ONEHOT_CATEGORIES
ID_MIN_ROWS = 50  # columns.ID_MIN_ROWS
ID_LIKE_SHARE = 0.95  # ColumnTyper(id_like_threshold)
NUMBER_MIN_SHARE = DATE_MIN_SHARE = 0.95  # columns.NUMBER_MIN_SHARE, DATE_MIN_SHARE
_ID_NAME = re.compile(r"(?i:^(id|idx|index|key|uuid|guid|row_?(id|num|number)?|unnamed: ?\d+)$"
                      r"|[_\s.-]id$)|[a-z0-9]I[dD]$")  # columns._ID_NAME
_FORMATTED_NUMBER = re.compile(r"^\s*[-+]?[$€£¥]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?\s*%?\s*$")  # data.py
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,?\d+\s*$")  # data._DECIMAL_COMMA
_BOOLEANS = frozenset({"True", "False", "TRUE", "FALSE", "true", "false"})  # pandas reads these as bool
_DATE = re.compile(r"^\s*(\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
                   r"([ T](\d{1,2}):(\d{2})(:(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$")
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"PAR1",
                 b"SQLite format 3", b"\x28\xb5\x2f\xfd")

CHUNK_BYTES = 1 << 20
# Files up to this many (decompressed) bytes are parsed record by record: exact rows and
# classes, ragged rows caught. Larger ones: lines counted, a sample parsed. Parsing runs at
# ~25 MB/CPU-s here; a fit on 8 MB of CSV costs hundreds of joules.
FULL_PARSE_BYTES = 8 << 20
SAMPLE_ROWS = 4000  # rows typed (spread over the file)


class Unusual(Exception):
    """The quick scan met something `fit` may refuse or read otherwise: read it as fit does."""


@dataclass
class Columns:
    """Typed feature columns: as trees see them and as one-hot width (cost_model.Shape)."""

    columns: int
    width: int
    kinds: dict[str, str] = field(default_factory=dict)  # kept input column -> kind
    dropped: dict[str, str] = field(default_factory=dict)
    text: int = 0  # input columns that are text in the file (not plain numbers): dearer to read and type
    free_text: dict[str, float] = field(default_factory=dict)  # free-text column -> mean characters


@dataclass
class Scan:
    rows: int  # rows with a target: what the search sees
    task: str
    n_classes: int  # 0 for regression
    columns: Columns
    input_columns: int
    bytes: int  # decompressed size of the file
    exact_rows: bool  # every record parsed (else rows counted as lines)
    method: str  # "stdlib" or "pandas" (the exact path)
    notes: list[str] = field(default_factory=list)

    @property
    def cells(self) -> int:
        return self.rows * self.input_columns

    @property
    def text_cells(self) -> int:
        return self.rows * self.columns.text


def scan(path: str | os.PathLike, target: str, task: str = "auto") -> Scan:
    """Rows, task, classes and typed columns of a CSV; fit's own error for a file fit refuses."""
    try:
        return _quick(Path(path), target, task)
    except Unusual:
        return exact(path, target, task)


# ------------------------------------------------------------------------- the quick scan

def _quick(path: Path, target: str, task: str) -> Scan:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise Unusual
    opener = _opener(path.suffix.lower())
    with open(path, "rb") as fh:
        if fh.read(2) == b"\x1f\x8b":
            opener = _opener(".gz")
    try:
        with (opener or open)(path, "rb") as fh:
            head = fh.read(64 * 1024)
            if not head.strip() or b"\x00" in head or head.startswith(_BINARY_MAGIC):
                raise Unusual
            text = _decode(head)
            delimiter = sniff_delimiter(text)
            header = [h.strip() for h in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]
            if not header or len(set(header)) < len(header) or "" in header or target not in header:
                raise Unusual  # duplicates, unnamed columns, a target to look for as fit does
            body = bytearray(head)
            while len(body) <= FULL_PARSE_BYTES:
                chunk = fh.read(CHUNK_BYTES)
                if not chunk:
                    break
                body += chunk
            if len(body) <= FULL_PARSE_BYTES:
                records, n_bytes, exact_rows = _parse_all(bytes(body), delimiter, len(header)), len(body), True
            else:
                records, n_rows, n_bytes = _sample_lines(bytes(body), fh, delimiter, len(header))
                exact_rows = False
    except Exception:  # noqa: BLE001 - unreadable, damaged (OSError, EOFError, LZMAError), not UTF-8...
        raise Unusual from None
    if exact_rows:
        n_rows = len(records)
    if n_rows < 1 or not records:
        raise Unusual
    t = header.index(target)
    labels = [r[t] for r in records if t < len(r) and r[t] not in MISSING]
    if len(labels) < 2:
        raise Unusual
    kept_share = len(labels) / len(records)
    rows = n_rows if kept_share == 1 else int(round(n_rows * kept_share))
    task, n_classes = _task(labels, task)
    kept = [r for r in records if t < len(r) and r[t] not in MISSING]
    if len(kept) > SAMPLE_ROWS:  # rows spread over the file
        kept = [kept[int(i * len(kept) / SAMPLE_ROWS)] for i in range(SAMPLE_ROWS)]
    columns = type_columns({name: [r[i] if i < len(r) else "" for r in kept]
                            for i, name in enumerate(header) if i != t}, decimal_comma=delimiter == ";")
    if columns.columns == 0:
        raise Unusual  # fit's "no usable feature column", in its words
    notes = [] if exact_rows else [f"rows counted as lines; columns typed on {len(kept)} sampled rows"]
    if kept_share < 1:
        notes.append(f"{len(records) - len(labels)} of {len(records)} {'sampled ' if not exact_rows else ''}"
                     "rows have no target and are dropped, as fit drops them")
    return Scan(rows, task, n_classes, columns, len(header) - 1, n_bytes, exact_rows, "stdlib", notes)


def _opener(suffix: str):
    """The decompressor the suffix names, imported only then (gzip, bz2 and lzma cost ~2-5 ms)."""
    if suffix == ".gz":
        import gzip

        return gzip.open
    if suffix == ".bz2":
        import bz2

        return bz2.open
    if suffix == ".xz":
        import lzma

        return lzma.open
    return None


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Unusual
    return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=False)


def _records(lines, delimiter: str, width: int) -> list[list[str]]:
    records = [r for r in csv.reader(lines, delimiter=delimiter) if r and r != [""]]  # pandas skips blank lines
    if records and max(map(len, records)) > width:
        raise Unusual  # fit says which line is ragged
    return records


def _parse_all(body: bytes, delimiter: str, width: int) -> list[list[str]]:
    text = body.decode("utf-8-sig")
    records = _records(io.StringIO(text, newline=""), delimiter, width)
    return records[1:]  # the header


def _sample_lines(body: bytes, fh, delimiter: str, width: int) -> tuple[list[list[str]], int, int]:
    """One pass over a large file: its lines counted, a few whole lines kept from every 1 MB."""
    per_chunk = 48
    lines: list[bytes] = []
    newlines = blank = n_bytes = 0
    last = b"\n"
    pieces = (body[i:i + CHUNK_BYTES] for i in range(0, len(body), CHUNK_BYTES))
    chunk = next(pieces)
    while chunk:
        n_bytes += len(chunk)
        newlines += chunk.count(b"\n")
        blank += chunk.count(b"\n\n") + chunk.count(b"\n\r\n") + (last == b"\n" and chunk[:1] == b"\n")
        lines.extend(chunk.split(b"\n", per_chunk + 2)[1:-1])  # whole lines only (not the header)
        last = chunk[-1:]
        chunk = next(pieces, None) or fh.read(CHUNK_BYTES)
    rows = newlines - blank - 1 + (last != b"\n")
    text = "\n".join(line.decode("utf-8") for line in lines)  # UnicodeDecodeError: read it as fit does
    return _records(io.StringIO(text, newline=""), delimiter, width), rows, n_bytes


def _number(text: str) -> float | None:
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _task(labels: list[str], task: str) -> tuple[str, int]:
    """data.infer_task's rule on the target's values; anything it would refuse goes to `exact`."""
    values = set(labels)
    numbers = [_number(v) for v in values]
    numeric = all(x is not None for x in numbers)
    if not numeric and any(_FORMATTED_NUMBER.match(v) for v in values):
        raise Unusual  # numbers with separators: fit's _clean_target decides
    distinct = set(numbers) if numeric else {v.strip() for v in values}
    if len(distinct) < 2:
        raise Unusual
    if numeric:
        if not all(math.isfinite(x) for x in distinct):
            raise Unusual
        integer = all(x == round(x) for x in distinct)
        if task == "auto":
            lo, hi = min(distinct), max(distinct)
            if not integer:
                task = "regression"
            elif len(distinct) == 2:
                task = "binary"
            elif len(distinct) <= MAX_CODED_CLASSES and lo in (0, 1) and hi - lo == len(distinct) - 1:
                task = "multiclass"
            else:
                task = "regression"
        elif task != "regression" and not integer:
            raise Unusual
    elif task == "regression":
        raise Unusual
    elif task == "auto":
        task = "binary" if len(distinct) == 2 else "multiclass"
    if (task == "binary" and len(distinct) != 2) or (task == "multiclass" and len(distinct) < 3) \
            or task not in ("binary", "multiclass", "regression"):
        raise Unusual
    return task, 0 if task == "regression" else len(distinct)


def type_columns(values: dict[str, list[str]], decimal_comma: bool = False) -> Columns:
    """ColumnTyper's kinds and drops on sampled text values, and cost_model.feature_counts."""
    kinds, dropped, levels, free_text = {}, {}, {}, {}
    n_numeric = text = 0
    for name, column in values.items():
        present = [v for v in column if v not in MISSING]
        if not present:
            dropped[name] = "all values are missing"
            continue
        text += any(_number(v) is None for v in set(present))
        kind, distinct, parts = _kind(name, column, present, decimal_comma)
        if kind is None:
            dropped[name] = distinct
            continue
        kinds[name] = kind
        if kind == "text":
            free_text[name] = sum(map(len, present)) / len(present)
        elif kind == "categorical":
            levels[name] = distinct
        else:
            n_numeric += parts
    width = n_numeric + sum(min(n, MAX_ONEHOT_CATEGORIES) for n in levels.values())
    return Columns(n_numeric + len(levels) + len(free_text), max(1, width + len(free_text)), kinds, dropped, text,
                   free_text)


def _kind(name: str, column: list[str], present: list[str], decimal_comma: bool):
    """(kind, distinct levels or drop reason, output columns); kind None when dropped."""
    values = set(present)
    if values <= _BOOLEANS:
        return (None, "constant", 0) if len(values) <= 1 else ("boolean", 0, 1)
    parsed = {v: _number(v.replace(",", ".") if decimal_comma and _DECIMAL_COMMA.match(v) else v) for v in values}
    unread = [v for v, x in parsed.items() if x is None]
    plain = not unread
    if not plain:
        formatted = {v for v in unread if _FORMATTED_NUMBER.match(v)}
        plain_share = sum(parsed[v] is not None or v in formatted for v in present) / len(present)
    if plain or plain_share >= NUMBER_MIN_SHARE:
        finite = {x for x in parsed.values() if x is not None and math.isfinite(x)}
        if plain and len(finite) <= 1:
            return None, "constant", 0
        if plain and len(present) == len(column) >= ID_MIN_ROWS and all(x == round(x) for x in finite) \
                and len(finite) == len(values) and _integer_id(name, [parsed[v] for v in present]):
            return None, "ID-like", 0
        return "numeric", 0, 1
    dates = {v: _DATE.match(v) for v in values}
    if sum(dates[v] is not None for v in present) >= DATE_MIN_SHARE * len(present):
        timed = any(d and any(int(g or 0) for g in (d.group(4), d.group(5), d.group(7))) for d in dates.values())
        return "datetime", 0, 5 if timed else 4
    if len(values) <= 1:
        return None, "constant", 0
    if _free_text(present, values):
        return "text", 0, 1
    if len(present) >= ID_MIN_ROWS and len(values) >= ID_LIKE_SHARE * len(present):
        return None, "ID-like", 0
    return "categorical", len(values), 1


def _free_text(present: list[str], values: set[str]) -> bool:
    """kiss_automl.text.detect's rule (several words per value, many distinct values), on the
    sample, without pandas; text_columns other than auto are not read here."""
    from ..text.detect import MIN_DISTINCT, MIN_DISTINCT_SHARE, MIN_MEAN_WORDS

    words = sum(len(v.split()) for v in present[:2000]) / min(len(present), 2000)
    return words >= MIN_MEAN_WORDS and len(values) >= max(MIN_DISTINCT, MIN_DISTINCT_SHARE * len(present))


def _integer_id(name: str, numbers: list[float]) -> bool:
    if _ID_NAME.search(name):
        return len(set(numbers)) == len(numbers)
    return all(b - a == 1 for a, b in zip(numbers, numbers[1:]))


# ------------------------------------------------------------------------- the exact path

def exact(path: str | os.PathLike, target: str, task: str = "auto") -> Scan:
    """Read the file as `fit` does (pandas, scikit-learn): fit's errors, or what fit would see."""
    from ..columns import ColumnTyper
    from ..data import infer_task, read_csv, split_target

    frame = read_csv(path)
    X, y = split_target(frame, target, source=str(path))
    task = infer_task(y, task)
    typer = ColumnTyper().fit(X)
    numeric, categorical = typer.numeric_columns_, typer.categorical_columns_
    width = len(numeric) + sum(min(len(typer.categories_[c]), MAX_ONEHOT_CATEGORIES) for c in categorical)
    text = sum(1 for c in X.columns if not (X[c].dtype.kind in "if" or X[c].isna().all()))
    columns = Columns(len(numeric) + len(categorical), max(1, width), dict(typer.kinds_), dict(typer.dropped_), text)
    n_classes = 0 if task == "regression" else int(y.astype(str).nunique() if y.dtype == object else y.nunique())
    n_bytes = int(frame.memory_usage(deep=False).sum())  # what was parsed, near enough
    return Scan(len(X), task, n_classes, columns, X.shape[1], n_bytes, True, "pandas")
