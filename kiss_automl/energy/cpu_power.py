"""Watts per CPU thread and per GB of memory, for the CPU-time energy model.

The CPU's TDP comes from the table codecarbon ships (``hardware/cpu_power.csv``),
matched against the model name in ``/proc/cpuinfo`` with the same three steps
as codecarbon's ``TDP._get_matching_cpu`` (codecarbon/core/cpu.py):

1. exact, case-insensitive name;
2. exact again after removing ``(R)``, ``" CPU @ x.xxGHz"`` and ``" CPU"``;
3. a *unique* table row whose words are a subset of the model's words, or the
   reverse (what rapidfuzz's ``token_set_ratio == 100`` means after its default
   processing: lower case, non-alphanumerics as spaces). Several equally good
   rows means no match, as in codecarbon's non-greedy mode.

The table is read with the csv module: no codecarbon tracker, no pandas.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kiss_automl.energy._codecarbon_data import codecarbon_data_file

logger = logging.getLogger(__name__)

CPU_POWER_TABLE = "hardware/cpu_power.csv"

#: Watts charged per busy hardware thread when the CPU is not in the table.
#: 4 W is codecarbon's own fallback (``DEFAULT_POWER_PER_CORE`` in
#: codecarbon/core/cpu.py), so the per-candidate figures stay on the same scale
#: as the whole-run codecarbon figure on the same machine. It is also the
#: typical TDP per thread of current server parts (e.g. 150 W / 40 threads =
#: 3.75 W, 280 W / 128 threads = 2.2 W); desktop parts run higher (95 W / 8 =
#: 12 W), so the default may under-estimate there, never wildly over-estimate.
DEFAULT_WATTS_PER_THREAD = 4.0

#: Memory power per GB held: 3 W per 8 GB of DDR3/DDR4, the heuristic codecarbon
#: used before v3 (documented in codecarbon/external/ram.py; v3 switched to
#: 5 W per DIMM slot for the whole machine, which cannot be attributed to one
#: process's resident memory, so the per-GB figure is kept here).
WATTS_PER_GB = 3.0 / 8.0

_CPUINFO_KEYS = ("model name", "Model", "Hardware", "Processor", "cpu model")


@dataclass(frozen=True)
class CpuPower:
    """The CPU power constants used by the CPU-time model.

    Attributes
    ----------
    watts_per_core : float
        Watts charged per CPU-second (TDP / hardware threads).
    tdp_w : float or None
        TDP of the matched CPU, ``None`` when the default was used.
    threads : int
        Hardware threads (``os.cpu_count()``).
    cpu_model : str or None
        Model name read from the system.
    matched_name : str or None
        Row of codecarbon's table that matched.
    source : str
        ``"codecarbon cpu_power.csv"`` or ``"default"``.
    """

    watts_per_core: float
    tdp_w: float | None
    threads: int
    cpu_model: str | None
    matched_name: str | None
    source: str


def cpu_model_name(cpuinfo_path: str | os.PathLike[str] = "/proc/cpuinfo") -> str | None:
    """Return the CPU model name from ``/proc/cpuinfo``, or ``None``.

    Parameters
    ----------
    cpuinfo_path : str or path-like
        File to read (injectable for tests).

    Returns
    -------
    str or None
        E.g. ``"Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"``.
    """
    try:
        text = Path(cpuinfo_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields and value.strip():
            fields[key.strip()] = value.strip()
    return next((fields[k] for k in _CPUINFO_KEYS if k in fields), None)


@functools.lru_cache(maxsize=4)
def load_cpu_power_table(path: str | None = None) -> tuple[tuple[str, float], ...]:
    """Read codecarbon's CPU TDP table.

    Parameters
    ----------
    path : str, optional
        CSV with ``Name,TDP`` columns; default: the one codecarbon ships.

    Returns
    -------
    tuple of (str, float)
        ``(name, tdp_watts)`` rows, in file order; rows with no usable TDP are skipped.
    """
    csv_path = Path(path) if path is not None else codecarbon_data_file(CPU_POWER_TABLE)
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                tdp = float(row["TDP"])
            except (KeyError, TypeError, ValueError):
                continue
            if tdp > 0 and row.get("Name"):
                rows.append((row["Name"].strip(), tdp))
    return tuple(rows)


def _words(text: str) -> frozenset[str]:
    # rapidfuzz.utils.default_process: non-alphanumerics -> spaces, lower case.
    return frozenset(re.sub(r"[^0-9a-zA-Z]+", " ", text).lower().split())


def _clean_model(model: str) -> str:
    # Same clean-up as codecarbon before its second exact attempt.
    model = model.replace("(R)", "")
    at = model.find(" CPU @ ")
    if at > 0:
        model = model[:at]
    model = model.replace(" CPU", "")
    return re.sub(r" @\s*\d+\.\d+GHz", "", model)


def match_cpu_tdp(model: str, table: tuple[tuple[str, float], ...]) -> tuple[str, float] | None:
    """Find the TDP of a CPU model in the table, codecarbon-style.

    Parameters
    ----------
    model : str
        CPU model name as the system reports it.
    table : tuple of (str, float)
        Rows from :func:`load_cpu_power_table`.

    Returns
    -------
    (str, float) or None
        The matching row, or ``None`` when there is no match or it is ambiguous.
    """
    by_lower: dict[str, tuple[str, float]] = {}
    for name, tdp in table:
        by_lower.setdefault(name.lower(), (name, tdp))
    cleaned = _clean_model(model)
    for candidate in (model, cleaned):
        if candidate.strip().lower() in by_lower:
            return by_lower[candidate.strip().lower()]
    words = _words(cleaned)
    if not words:
        return None
    matches = []
    for name, tdp in table:
        row_words = _words(name)
        if row_words and (row_words <= words or words <= row_words):
            matches.append((name, tdp))
    if len(matches) == 1:
        return matches[0]
    if matches:
        logger.debug("CPU model %r matches %d table rows: ambiguous", model, len(matches))
    return None


@functools.lru_cache(maxsize=1)
def cpu_power() -> CpuPower:
    """Return this machine's CPU power constants (cached).

    Returns
    -------
    CpuPower
        TDP / threads when the model is in codecarbon's table, else
        :data:`DEFAULT_WATTS_PER_THREAD`.

    Notes
    -----
    In a VM or container ``os.cpu_count()`` counts the vCPUs lent, while the
    table's TDP is that of the whole host chip: TDP / threads then
    over-estimates. Pass ``watts_per_core`` explicitly where that matters.
    """
    threads = os.cpu_count() or 1
    model = cpu_model_name()
    match = None
    if model:
        try:
            match = match_cpu_tdp(model, load_cpu_power_table())
        except (OSError, csv.Error) as exc:
            logger.warning("Cannot read codecarbon's CPU power table: %s", exc)
    if match is None:
        logger.info(
            "CPU model %r not found in codecarbon's table: using %.1f W per thread",
            model,
            DEFAULT_WATTS_PER_THREAD,
        )
        return CpuPower(DEFAULT_WATTS_PER_THREAD, None, threads, model, None, "default")
    name, tdp = match
    return CpuPower(tdp / threads, tdp, threads, model, name, "codecarbon cpu_power.csv")
