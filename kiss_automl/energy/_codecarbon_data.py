"""Locate the reference data files that codecarbon ships, without importing codecarbon.

Importing codecarbon costs ~0.1 s and reconfigures its logger; reading a CSV or
JSON table from its package folder costs neither, so the energy package finds
the folder with :func:`importlib.util.find_spec`, which does not execute the
package.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def codecarbon_data_dir() -> Path:
    """Return the ``data`` folder of the installed codecarbon package.

    Returns
    -------
    pathlib.Path
        Folder holding ``hardware/cpu_power.csv``, ``private_infra/*.json``...

    Raises
    ------
    FileNotFoundError
        If codecarbon is not installed or ships no data folder.
    """
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "codecarbon is not installed: its reference tables (CPU TDP, carbon intensity) "
            "are needed. Install it with `pip install codecarbon`."
        )
    data = Path(spec.origin).parent / "data"
    if not data.is_dir():
        raise FileNotFoundError(f"codecarbon ships no data folder at {data}")
    return data


def codecarbon_data_file(relative: str) -> Path:
    """Return the path of one codecarbon data file, checking that it exists.

    Parameters
    ----------
    relative : str
        Path inside codecarbon's ``data`` folder, e.g. ``"hardware/cpu_power.csv"``.

    Returns
    -------
    pathlib.Path
        Absolute path of the file.

    Raises
    ------
    FileNotFoundError
        If the file is missing (e.g. a codecarbon release moved it).
    """
    path = codecarbon_data_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(f"codecarbon data file not found: {path}")
    return path


@functools.cache
def load_codecarbon_json(relative: str) -> Any:
    """Load (once) and return a JSON table from codecarbon's data folder.

    Parameters
    ----------
    relative : str
        Path inside codecarbon's ``data`` folder.

    Returns
    -------
    Any
        The parsed JSON document. Callers must not mutate it: it is cached.
    """
    with open(codecarbon_data_file(relative), encoding="utf-8") as fh:
        return json.load(fh)
