"""Reading tabular data and deciding what to learn.

This is the one place that reads user files. Every problem a user can fix
(missing file, bad CSV, unknown target column, a single class...) raises
:class:`~kiss_automl.errors.DataError` with one line that says what was given
and what was expected.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import difflib
import gzip
import io
import logging
import lzma
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from kiss_automl.csv_dialect import sniff_delimiter
from kiss_automl.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

#: Tokens read as missing values, on top of pandas' defaults ("", "NA", "NaN", "null", ...).
#: Not "-": it is a real label in many data sets (credit-approval).
MISSING_TOKENS = ["", "NA", "N/A", "n/a", "nan", "NaN", "null", "NULL", "?", "None"]

#: Task names; "auto" means infer from the target.
TASKS = ("auto", "binary", "multiclass", "regression")

#: Integer-valued targets with at most this many distinct values that form 0..k-1 or 1..k
#: are read as class codes; any other numeric target is a regression target.
MAX_CODED_CLASSES = 10

_SNIFF_BYTES = 64 * 1024
# Rows parsed at a time when sampling: a sample costs its own rows and one chunk of memory.
SAMPLE_CHUNK_ROWS = 100_000
_COMPRESSION_BY_SUFFIX = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
# Magic bytes of files people commonly rename to .csv by mistake.
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx file is one)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls (OLE) file",
    b"PAR1": "a Parquet file",
    b"SQLite format 3": "an SQLite database",
    b"\x28\xb5\x2f\xfd": "a zstd-compressed file",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252 (Latin-1)", "latin-1": "Latin-1"}
# A number written with a decimal comma, e.g. "-1,5" or "3".
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,?\d+\s*$")


# --------------------------------------------------------------------------- reading


def read_csv(path: str | os.PathLike, sample_rows: int | None = None, seed: int = 0,
             available_memory: float | None = None) -> pd.DataFrame:
    """Read a CSV file into a DataFrame, refusing anything that is not a usable table.

    Parameters
    ----------
    path : str or os.PathLike
        A delimited text file. ``.gz``, ``.bz2`` and ``.xz`` compressed files are read too.
    sample_rows : int, optional
        Keep a uniform random sample of this many rows (all of them when the file has
        fewer), in file order, reading the file in chunks: memory for the sample and one
        chunk, not for the file.
    seed : int
        Draws the sample.
    available_memory : float, optional
        Bytes a fit on the table may take: a large file whose fit would need more (by
        `memory_check`'s estimate from its head) is refused before it is read, with a
        `--sample-rows` that fits.

    Returns
    -------
    pandas.DataFrame
        One column per header field (names stripped of surrounding spaces), with
        pandas' dtype inference; strings stay strings and the tokens in
        :data:`MISSING_TOKENS` are missing values.

    Raises
    ------
    DataError
        If the file is missing, a directory, not a regular file (a pipe), empty,
        binary, has only a header, has ragged rows or duplicate column names,
        changed or vanished while it was read, or would not fit in `available_memory`.

    Notes
    -----
    The encoding is UTF-8 (a BOM is allowed), else UTF-16 when it starts with a
    UTF-16 BOM, else Windows-1252 (a superset of Latin-1 for text), else Latin-1
    (UTF-8 and Latin-1 lines mixed), with an info note. The delimiter is sniffed
    among ``, ; TAB |`` on the first 64 KB, falling back to a comma.
    """
    path = Path(path)
    name = path.name
    _check_is_file(path)
    before = _identity(path)
    compression, encoding, delimiter = dialect(path)
    if available_memory is not None:
        from . import memory_check

        memory_check.check(path, _OPENERS.get(compression), _head_parser(delimiter, encoding), sample_rows,
                           available_memory)
    frame = _parse(path, compression, encoding, delimiter, sample_rows, seed)
    _check_unchanged(path, before)
    frame.columns = [str(c).strip() for c in frame.columns]
    if delimiter == ";":
        frame = _parse_decimal_commas(frame, name)
    _check_duplicates(list(frame.columns), name)
    if len(frame) == 0:
        raise DataError(
            f"{name} has a header but no data rows; expected at least one row under "
            f"the header ({_preview(list(frame.columns))})"
        )
    logger.debug("Read %s: %d rows x %d columns, delimiter %r, encoding %s",
                 name, len(frame), frame.shape[1], delimiter, encoding)
    return frame


def dialect(path: str | os.PathLike) -> tuple[str | None, str, str]:
    """Compression, encoding and delimiter of the CSV at `path`, from its head, as `read_csv`
    reads it; DataError for an empty file or a header with duplicate names."""
    path = Path(path)
    compression = _compression(path)
    head = _read_head(path, compression)
    if not head.strip():
        raise DataError(f"{path.name} is empty; expected a CSV file with a header row and data rows")
    encoding = _head_encoding(head, path.name)
    text = _decode_head(head, encoding)
    delimiter = sniff_delimiter(text)
    _check_duplicates(_read_header(text, delimiter), path.name)
    return compression, encoding, delimiter


def table_size(path: str | os.PathLike):
    """`memory_check.TableSize` of the CSV (rows and pandas' bytes a row, estimated from its
    head) without reading it whole; None where the head gives no estimate."""
    from . import memory_check

    path = Path(path)
    _check_is_file(path)
    compression, encoding, delimiter = dialect(path)
    return memory_check.table_size(path, _OPENERS.get(compression), _head_parser(delimiter, encoding))


def _check_is_file(path: Path) -> None:
    if path.is_dir():
        raise DataError(f"{path} is a directory; expected a CSV file")
    if not path.exists():
        raise DataError(f"The file {path} does not exist; expected a path to a CSV file")
    if not path.is_file():  # a FIFO would block for ever, a pipe is read once and the checks read twice
        raise DataError(f"{path} is not a regular file (a pipe or a device?); expected a CSV file on disk")
    if not os.access(path, os.R_OK):
        raise DataError(f"The file {path} cannot be read (permission denied)")


def _identity(path: Path) -> tuple[int, int, int]:
    """Which file `path` is and how far it was written: inode, size, modification time."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _check_unchanged(path: Path, before: tuple[int, int, int]) -> None:
    """Refuse a file that was replaced, cut or written to while it was read: pandas would take
    a row cut mid-way as a short row (its last fields missing) without a word."""
    if not path.exists():
        raise DataError(f"{path.name} was deleted while it was being read; expected a file that stays in place")
    if _identity(path) != before:
        raise DataError(f"{path.name} changed while it was being read ({before[1]} bytes, now "
                        f"{path.stat().st_size}); read it again once nothing writes to it")


def _compression(path: Path) -> str | None:
    """Pick the decompressor from the name, and from gzip's magic bytes when misnamed."""
    by_name = _COMPRESSION_BY_SUFFIX.get(path.suffix.lower())
    if by_name:
        return by_name
    with open(path, "rb") as f:
        magic = f.read(2)
    return "gzip" if magic == b"\x1f\x8b" else None


def _read_head(path: Path, compression: str | None) -> bytes:
    """The first bytes of the (decompressed) content, refusing binary content."""
    try:
        if compression:
            with _OPENERS[compression](path, "rb") as f:
                head = f.read(_SNIFF_BYTES)
        else:
            with open(path, "rb") as f:
                head = f.read(_SNIFF_BYTES)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(
            f"{path.name} is not a valid {compression} file ({exc}); expected a "
            f"{compression}-compressed CSV"
        ) from None
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"{path.name} is {what}, not a CSV text file; save the table as CSV")
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise DataError(
            f"{path.name} looks binary (it contains NUL bytes); expected a CSV text file"
        )
    return head


def _head_encoding(head: bytes, name: str) -> str:
    if head.startswith(_UTF16_BOMS):
        try:
            _decode_head(head, "utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name} starts as UTF-16 text but is not valid UTF-16 ({exc.reason} at byte "
                            f"{exc.start}); expected a text file") from None
        return "utf-16"
    # Windows-1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), which UTF-8 lines
    # mixed with Latin-1 ones can hold: Latin-1, which reads every byte, is the last resort.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            _decode_head(head, encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp1252":
            logger.info("%s is not valid UTF-8; reading it as Windows-1252 (Latin-1)", name)
        return encoding
    logger.info("%s is neither UTF-8 nor Windows-1252; reading it as Latin-1", name)
    return "latin-1"


def _decode_head(head: bytes, encoding: str) -> str:
    # Incremental, non-final: the 64 KB cut may split a multi-byte character.
    return codecs.getincrementaldecoder(encoding)().decode(head, final=False)


def _read_header(text: str, delimiter: str) -> list[str]:
    try:
        row = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return []  # let pandas report the problem
    return [field.strip() for field in row]


def _check_duplicates(names: list[str], source: str) -> None:
    # Empty names become distinct "Unnamed: i" columns in pandas: not duplicates.
    counts = Counter(n for n in names if n)
    dupes = [n for n, c in counts.items() if c > 1]
    if dupes:
        listed = ", ".join(f"'{d}'" for d in dupes)
        raise DataError(
            f"{source} has duplicate column names ({listed}); expected every column name once"
        )


def _head_parser(delimiter: str, encoding: str):
    """Whole lines of the file as `_pandas_read` would read them, or None where they do not
    parse (the full read then reports why)."""
    def parse(data: bytes) -> pd.DataFrame | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                return pd.read_csv(io.BytesIO(data), sep=delimiter, encoding=encoding, encoding_errors="replace",
                                   na_values=MISSING_TOKENS, keep_default_na=True, low_memory=False)
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            return None

    return parse


def _parse(path: Path, compression: str | None, encoding: str, delimiter: str, sample_rows: int | None = None,
           seed: int = 0) -> pd.DataFrame:
    """Run pandas' parser, retrying with Windows-1252 then Latin-1 on a decode error."""
    encodings = [encoding] + [e for e in ("cp1252", "latin-1") if e != encoding]
    if encoding == "utf-16":
        encodings = [encoding]
    for i, enc in enumerate(encodings):
        try:
            return _pandas_read(path, compression, enc, delimiter, sample_rows, seed)
        except UnicodeDecodeError:
            if i + 1 == len(encodings):
                raise DataError(f"{path.name} could not be decoded as text ({enc})") from None
            logger.info("%s is not valid %s; reading it as %s", path.name,
                        _ENCODING_NAMES.get(enc, enc), _ENCODING_NAMES.get(encodings[i + 1]))
    raise AssertionError("unreachable")


def _pandas_read(path: Path, compression: str | None, encoding: str, delimiter: str,
                 sample_rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    name = path.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            options = dict(sep=delimiter, encoding=encoding, compression=compression,
                           na_values=MISSING_TOKENS, keep_default_na=True, low_memory=False)
            if sample_rows is None:
                frame = pd.read_csv(path, **options)
            else:
                with pd.read_csv(path, chunksize=SAMPLE_CHUNK_ROWS, **options) as chunks:
                    frame = _uniform_sample(chunks, sample_rows, seed, name)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty; expected a CSV file with a header row and data rows") \
            from None
    except pd.errors.ParserError as exc:
        raise DataError(_reword_parser_error(str(exc), name, delimiter)) from None
    except (OSError, EOFError, lzma.LZMAError) as exc:  # e.g. a truncated .gz
        if not path.exists():
            raise DataError(f"{name} was deleted while it was being read; expected a file that stays in place") \
                from None
        raise DataError(f"{name} could not be read to the end ({exc})") from None
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        # pandas silently turns extra leading fields of the first data row into an index.
        n_header = frame.shape[1]
        raise DataError(
            f"Line 2 of {name} has {n_header + frame.index.nlevels} fields but the header "
            f"has {n_header}; expected every row to have as many fields as the header"
        )
    return frame


def _uniform_sample(chunks, sample_rows: int, seed: int, name: str) -> pd.DataFrame:
    """`sample_rows` rows drawn uniformly from all the chunks, in file order: each row gets a
    random key and the smallest keys are kept (a bottom-k sample), so no row count is needed
    beforehand and memory holds the sample and one chunk."""
    rng = np.random.default_rng(seed)
    kept, keys, seen = None, np.empty(0), 0
    for chunk in chunks:
        if not chunk.index.equals(pd.RangeIndex(seen, seen + len(chunk))):
            return chunk  # extra leading fields of the first row became an index: the caller says so
        seen += len(chunk)
        pool = chunk if kept is None else pd.concat([kept, chunk])
        pool_keys = np.concatenate([keys, rng.random(len(chunk))])
        if len(pool) > sample_rows:
            best = np.sort(np.argpartition(pool_keys, sample_rows - 1)[:sample_rows])  # sorted: file order
            pool, pool_keys = pool.iloc[best], pool_keys[best]
        kept, keys = pool, pool_keys
    if kept is None:  # a header and no rows
        return pd.DataFrame()
    if seen > len(kept):
        logger.info("%s: a uniform sample of %s of its %s rows (--sample-rows, seed %d)", name, f"{len(kept):,}",
                    f"{seen:,}", seed)
    kept = kept.reset_index(drop=True)
    kept.attrs["rows_in_file"] = seen
    return kept


def _parse_decimal_commas(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Read "1,5" as 1.5 in text columns of a ';'-delimited file (the European convention)."""
    converted = []
    for col in frame.columns:
        s = frame[col]
        if not pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            continue
        valid = s.dropna()
        # A sample first: most text columns fail at once, without a full-column regex.
        if len(valid) == 0 or not valid.iloc[:1000].str.match(_DECIMAL_COMMA).all():
            continue
        if valid.str.match(_DECIMAL_COMMA).all():
            frame[col] = pd.to_numeric(s.str.replace(",", ".", regex=False).str.strip())
            converted.append(col)
    if converted:
        logger.info("%s: read decimal commas as numbers in %s", name, _preview(converted))
    return frame


def _reword_parser_error(message: str, name: str, delimiter: str) -> str:
    """Turn pandas' tokenizer error into one line a user can act on."""
    sep = "TAB" if delimiter == "\t" else repr(delimiter)
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if ragged:
        expected, line, saw = ragged.groups()
        return (f"Line {line} of {name} has {saw} fields but the header has {expected} "
                f"(delimiter {sep}); expected every row to have as many fields as the header")
    quote = re.search(r"EOF inside string starting at row (\d+)", message)
    if quote:
        return (f"{name} has an unclosed quote in data row {quote.group(1)}; expected "
                f"every opening '\"' to be closed")
    detail = message.replace("Error tokenizing data. C error: ", "").strip()
    return f"{name} is not a valid CSV file ({detail})"


def _preview(names: list, limit: int = 20) -> str:
    """A comma-separated list, truncated after ``limit`` names."""
    shown = ", ".join(str(n) for n in names[:limit])
    more = len(names) - limit
    return f"{shown}, ... ({more} more)" if more > 0 else shown


# Numbers as spreadsheets write them: 65,796.74 / $6,580 / 63.0% (thousands separators, a
# currency sign, a percent sign). A comma followed by other than three digits is not one.
_FORMATTED_NUMBER = r"^\s*[-+]?[$€£¥]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?\s*%?\s*$"


def parse_numbers(s: pd.Series) -> pd.Series:
    """Text as numbers: plain, or as spreadsheets format them (65,796.74, $6,580, 63.0% as 63.0)."""
    numbers = pd.to_numeric(s, errors="coerce")
    text = s.astype(str)
    formatted = numbers.isna() & text.str.match(_FORMATTED_NUMBER, na=False).astype(bool)
    if formatted.any():
        numbers = numbers.astype(np.float64)
        numbers[formatted] = pd.to_numeric(text[formatted].str.replace(r"[,$€£¥%\s]", "", regex=True),
                                           errors="coerce")
    return numbers


# --------------------------------------------------------------------------- target


def split_target(frame: pd.DataFrame, target: str,
                 source: str = "the data") -> tuple[pd.DataFrame, pd.Series]:
    """Split a table into features and target, dropping rows whose target is missing.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table, target included.
    target : str
        Name of the target column (surrounding spaces are ignored).
    source : str, default "the data"
        How to name the table in messages, e.g. the file name.

    Returns
    -------
    X : pandas.DataFrame
        Every other column, with a fresh 0..n-1 index.
    y : pandas.Series
        The target, aligned with ``X``.

    Raises
    ------
    DataError
        If the column is absent, the target is all missing, fewer than two rows
        keep a target, or no feature column is left.
    """
    columns = [str(c) for c in frame.columns]
    if target not in columns and str(target).strip() in columns:
        target = str(target).strip()
    if target not in columns:
        lower = {c.lower(): c for c in columns}
        close = ([lower[str(target).lower()]] if str(target).lower() in lower
                 else difflib.get_close_matches(str(target), columns, n=1))
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise DataError(f"The column '{target}' is not in {source}{hint}; "
                        f"columns are: {_preview(columns)}")
    key = frame.columns[columns.index(target)]
    y = frame[key]
    missing = y.isna()
    n_missing = int(missing.sum())
    if n_missing == len(y):
        raise DataError(f"The target '{target}' in {source} has no values (all "
                        f"{len(y)} are missing); expected a filled target column")
    X = frame.drop(columns=[key])
    if X.shape[1] == 0:
        raise DataError(f"{source} has no feature columns besides the target '{target}'; "
                        "expected at least one more column")
    if n_missing:
        logger.warning("Dropped %d of %d rows of %s whose target '%s' is missing",
                       n_missing, len(y), source, target)
        X, y = X.loc[~missing], y.loc[~missing]
    if len(y) < 2:
        raise DataError(f"Only {len(y)} row of {source} has a target '{target}'; "
                        "expected at least 2")
    return X.reset_index(drop=True), _clean_target(y.reset_index(drop=True), target)


def _clean_target(y: pd.Series, target: str) -> pd.Series:
    """Labels as the file means them: 1 not 1.0, 'yes' not ' yes', 5103 not '5,103'."""
    if y.dtype.kind == "f" and np.all(y.to_numpy() == np.round(y.to_numpy())):
        return y.astype(np.int64)  # integer codes read as floats because some targets were blank
    if not (pd.api.types.is_string_dtype(y) or y.dtype == object):
        return y
    if pd.api.types.infer_dtype(y, skipna=True) != "string":
        return y
    numbers = parse_numbers(y)
    if numbers.notna().all() and pd.to_numeric(y, errors="coerce").isna().any():
        logger.info("Target '%s' holds numbers written with separators or signs; read as numbers", target)
        return numbers
    stripped = y.str.strip()
    changed = int((stripped != y).sum())
    if changed:
        logger.info("Target '%s': surrounding spaces removed from %d label(s)", target, changed)
        return stripped
    return y


def infer_task(y: pd.Series | np.ndarray, task: str = "auto") -> str:
    """Decide, or check, what kind of supervised task the target calls for.

    Parameters
    ----------
    y : pandas.Series or numpy.ndarray
        The target (missing values are ignored).
    task : {"auto", "binary", "multiclass", "regression"}, default "auto"
        A given task is checked against the target; "auto" infers it.

    Returns
    -------
    str
        "binary", "multiclass" or "regression".

    Raises
    ------
    ConfigError
        If ``task`` is not one of the names above.
    DataError
        If the target does not fit the task, or has a single class.

    Notes
    -----
    The "auto" rule:

    - text, booleans or categories: classification, binary with 2 classes,
      multiclass with more;
    - numbers with a fractional part: regression;
    - integer-valued numbers: binary with 2 distinct values; multiclass with
      3 to :data:`MAX_CODED_CLASSES` distinct values that are exactly the codes
      0..k-1 or 1..k; regression otherwise (so a 3..9 wine quality or 1..29
      abalone rings target is regression, as OpenML treats them).
    """
    if task not in TASKS:
        raise ConfigError(f"Unknown task '{task}'; expected one of: {', '.join(TASKS)}")
    s = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel())
    label = f"The target '{s.name}'" if s.name is not None else "The target"
    s = _as_numeric_if_numbers(s.dropna())
    if len(s) == 0:
        raise DataError(f"{label} has no values; expected a filled target")
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    classes = pd.unique(s)
    n_classes = len(classes)
    if task == "regression":
        if not numeric:
            raise DataError(f"{label} holds non-numeric values such as '{classes[0]}'; "
                            "task 'regression' needs a numeric target")
        if n_classes < 2:
            raise DataError(f"{label} is constant ({show_label(classes[0])}); regression needs "
                            "at least two distinct values")
        return task
    if n_classes < 2:
        raise DataError(f"{label} has a single class ({show_label(classes[0])}); "
                        "classification needs at least two")
    fractional = s[s.to_numpy(dtype=float) != np.round(s.to_numpy(dtype=float))] if numeric else s.iloc[:0]
    if task != "auto" and len(fractional):
        raise DataError(f"{label} holds fractional numbers such as {show_label(fractional.iloc[0])}; task '{task}' "
                        "needs class labels (use --task regression or auto)")
    if task == "binary":
        if n_classes != 2:
            raise DataError(f"{label} has {n_classes} classes; task 'binary' needs exactly 2")
        return task
    if task == "multiclass":
        if n_classes == 2:
            raise DataError(f"{label} has 2 classes; task 'multiclass' needs 3 or more (use binary or auto)")
        return task
    return _auto_task(s, numeric, n_classes)


def _auto_task(s: pd.Series, numeric: bool, n_classes: int) -> str:
    if not numeric:
        return "binary" if n_classes == 2 else "multiclass"
    values = s.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        return "regression"
    if n_classes == 2:
        return "binary"
    if n_classes <= MAX_CODED_CLASSES:
        lo, hi = values.min(), values.max()
        # n distinct integers spanning lo..lo+n-1 are exactly consecutive codes.
        if lo in (0, 1) and hi - lo == n_classes - 1:
            return "multiclass"
    return "regression"


def _as_numeric_if_numbers(s: pd.Series) -> pd.Series:
    """An object Series of Python numbers as a numeric Series; strings stay labels."""
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "decimal"):
        return s.astype(float)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        return s.astype(bool)
    return s


def show_label(value: object) -> str:
    """A class label for a message: strings quoted, numpy scalars as plain Python."""
    if isinstance(value, np.generic):
        value = value.item()
    return f"'{value}'" if isinstance(value, str) else repr(value)
