"""Will the table fit in memory? Asked before a large CSV is read whole, so that a fit that
cannot fit says so in one line at once, instead of being killed by the kernel an hour in.

`fit` reads the whole CSV into pandas on this machine (with `--scheduler` too: the driver
types the frame and the workers get a copy). What that costs is estimated from the head of
the file: its bytes per row, hence the file's rows, and pandas' bytes per row, hence the
table; the fit's peak is a measured multiple of the table on top of the process itself.
Beyond what is available, the message gives a `--sample-rows` that fits: searching on a
representative sample is what this project recommends for data that large. The multiple is
above the largest peak measured, so the estimate errs high (a 600,000-row fit that stopped
early peaked at 291 MiB against 627 MiB estimated): `--no-memory-check` overrides it.
"""

from __future__ import annotations

import lzma
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from .errors import DataError

_MIB = 1 << 20
_GIB = 1 << 30
# Files smaller than this on disk fit wherever a fit runs at all: no check, no cost. A 32 MiB
# gzip file holds ~300 MB of CSV, a ~1.5 GiB fit at most.
CHECK_FROM_BYTES = 32 * _MIB
HEAD_BYTES = 4 * _MIB  # of the decompressed file: a few ten thousand rows to size rows by
# The fit's peak over pandas' size of the table: benchmarks/SCALE.md, 1,000,000 rows of fars
# (240 bytes a row in pandas, a 229 MiB table), peaked at 1,540 MiB against 254 MiB at 1,000
# rows when a random forest went up every rung: (1540 - 254) / 229 = 5.6 (3.9 when an XGBoost
# did). Reading (the parser's buffers), the typed copy, the preprocessed matrix, the folds'
# slices of it and the model itself make up the multiple.
PEAK_PER_TABLE_BYTE = 6.0
BASE_BYTES = 300 * _MIB  # the process and its libraries before any data (253 MiB measured)


@dataclass(frozen=True)
class TableSize:
    rows: int  # estimated when the file was not read whole
    bytes_per_row: float  # pandas' deep size of a row


def peak_bytes(rows: int, bytes_per_row: float) -> float:
    """A fit's estimated peak resident memory on `rows` rows."""
    return BASE_BYTES + PEAK_PER_TABLE_BYTE * rows * bytes_per_row


def rows_that_fit(available: float, bytes_per_row: float) -> int:
    """The most rows whose fit peaks within `available` bytes, to 2 significant digits, rounded down."""
    rows = max(0.0, (available - BASE_BYTES) / (PEAK_PER_TABLE_BYTE * max(bytes_per_row, 1.0)))
    if rows < 100:
        return int(rows)
    scale = 10 ** (len(str(int(rows))) - 2)
    return int(rows // scale * scale)


@dataclass(frozen=True)
class Verdict:
    rows: int  # the rows a fit would read: the file's, or the sample's
    peak: float  # bytes, by peak_bytes
    fits: bool
    sample_that_fits: int  # --sample-rows to suggest when it does not


def verdict(table: TableSize, sample_rows: int | None, available: float) -> Verdict:
    """Whether a fit on `table` (or on a sample of it) fits in `available` bytes: what `check`
    refuses on and what `estimate` tells in advance."""
    rows = table.rows if sample_rows is None else min(table.rows, sample_rows)
    peak = peak_bytes(rows, table.bytes_per_row)
    return Verdict(rows, peak, peak <= available, rows_that_fit(available, table.bytes_per_row))


def available_bytes(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """Memory this process may still take: the system's available memory, or less where a
    cgroup (a container's limit, v2 or v1) allows less."""
    available = psutil.virtual_memory().available
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (cgroup_root / limit_file).read_text().strip()
            usage = int((cgroup_root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # "max", or v1's "no limit" near 2**63
            available = min(available, int(limit) - usage)
        break
    return max(0, available)


def table_size(path: Path, opener: Callable | None, parse: Callable[[bytes], "object"]) -> TableSize | None:
    """Rows and pandas' bytes per row of the CSV at `path`, from its first HEAD_BYTES.

    `opener` decompresses (gzip.open...), None for a plain file; `parse` turns whole lines of
    the file (header first) into a DataFrame as `read_csv` would, or None where it cannot
    (the full read then says what is wrong with the file). None: no estimate.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as raw:
        if opener is None:
            head, consumed = raw.read(HEAD_BYTES), None
        else:
            with opener(raw) as stream:
                head = stream.read(HEAD_BYTES)
                consumed = raw.tell()  # compressed bytes read so far (a buffer's worth ahead: rows err low)
    whole_file = len(head) < HEAD_BYTES
    if not whole_file:
        head = head[:head.rfind(b"\n") + 1]  # whole lines only
    frame = parse(head)
    if frame is None or len(frame) == 0:  # unparsable, or rows longer than the head: no estimate
        return None
    bytes_per_row = float(frame.memory_usage(deep=True).sum()) / len(frame)
    if whole_file:
        return TableSize(len(frame), bytes_per_row)
    decompressed = size if consumed is None else size * len(head) / max(consumed, 1)
    return TableSize(int(decompressed * len(frame) / len(head)), bytes_per_row)


def check(path: Path, opener: Callable | None, parse: Callable[[bytes], "object"], sample_rows: int | None,
          available: float) -> TableSize | None:
    """Raise DataError, with a sample size that fits, when a fit on the file would not fit in
    `available` bytes. None where nothing was estimated: files under CHECK_FROM_BYTES are not
    looked at, and a file whose head cannot be read or parsed is left to the full read's
    own error."""
    try:
        if os.path.getsize(path) < CHECK_FROM_BYTES:
            return None
        table = table_size(path, opener, parse)
    except (OSError, EOFError, lzma.LZMAError, zlib.error):  # gone, cut or damaged: the full read says which
        return None
    if table is None:
        return None
    found = verdict(table, sample_rows, available)
    if not found.fits:
        what = f"a sample of {found.rows:,} rows" if found.rows < table.rows else f"about {found.rows:,} rows"
        raise DataError(
            f"{path.name}: {what} would take about {found.peak / _GIB:.3g} GiB of memory to fit "
            f"({table.bytes_per_row:.0f} bytes a row in pandas, {PEAK_PER_TABLE_BYTE:g}x that at the peak), "
            f"and {available / _GIB:.3g} GiB is available; fit on a uniform sample of the rows with "
            f"--sample-rows {found.sample_that_fits} (or fewer), or pass --no-memory-check to read it whole anyway")
    return table

