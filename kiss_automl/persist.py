"""The output folder: written atomically (a temporary folder, then a rename), loaded safely.

Layout of DIR: `model.skops` (the fitted pipeline, in skops' format, which runs no code on
load), `model.json` (what predict needs: format version, task, target, classes, columns),
`leaderboard.csv` and `run.json`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .errors import ModelFormatError

FORMAT_VERSION = 1
MODEL_FILE, META_FILE, BOARD_FILE, RUN_FILE = "model.skops", "model.json", "leaderboard.csv", "run.json"
JOURNAL_FILE = "journal.jsonl"
# Types a model folder may contain; anything else is refused at load.
TRUSTED_PREFIXES = ("kiss_automl.", "sklearn.", "lightgbm.", "xgboost.", "numpy.", "scipy.sparse.",
                    "collections.OrderedDict", "builtins.")


def json_safe(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN/inf as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(json_safe(payload), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def save(out_dir: str | Path, model, meta: dict, leaderboard: pd.DataFrame, run: dict,
         extra_files: dict[str, Path] | None = None) -> Path:
    """Write the folder beside its final place, then swap it in; a crash leaves no half folder.

    `extra_files` (name in the folder → existing file) are copied in too.
    """
    skops_io = _import_skops_io()
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make a shared run folder unreadable to others
    try:
        skops_io.dump(model, tmp / MODEL_FILE)
        write_json(tmp / META_FILE, {"format_version": FORMAT_VERSION, "kiss_automl_version": __version__, **meta})
        leaderboard.to_csv(tmp / BOARD_FILE, index=False)
        write_json(tmp / RUN_FILE, run)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


class _HideTorch(importlib.abc.MetaPathFinder):
    """Makes `import torch` fail, without leaving a trace in sys.modules."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"{name} is hidden while skops.io loads", name=name)
        return None


def _import_skops_io():
    """skops.io, imported without importing torch.

    At import, skops lists scikit-learn's estimators; the package walk behind that imports
    every sklearn package, sklearn.externals.array_api_compat.torch among them, hence torch:
    1.35 s of CPU here (~5 J), paid by every `fit` and `predict` (a `fit` on credit-approval
    went from 5.9 to 4.9 CPU-s without it).
    The walk skips packages that fail to import, and the vendored externals hold no
    estimator, so the trusted list is the same (a test compares them); torch imports
    normally afterwards, when an MLP needs it.
    """
    if "skops.io" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("skops.io")
    hide = _HideTorch()
    sys.meta_path.insert(0, hide)
    try:
        return importlib.import_module("skops.io")
    finally:
        sys.meta_path.remove(hide)


def _swap_in(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, out)


def check_writable_target(out_dir: str | Path) -> None:
    """Refuse, before any work, to replace a folder that is not a kiss-automl run."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / RUN_FILE).exists())):
        raise ModelFormatError(f"{out} exists and is not a kiss-automl output folder; choose another --out")


def read_meta(model_dir: str | Path) -> dict:
    """model.json, checked for a format this version can read."""
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        raise ModelFormatError(f"{model_dir} is not a kiss-automl model folder (no {META_FILE})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{path} is damaged: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{path} is damaged: not a JSON object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{model_dir} was written in model format {version} by kiss-automl "
            f"{meta.get('kiss_automl_version', '?')}; this kiss-automl {__version__} reads format {FORMAT_VERSION}")
    return meta


def load(model_dir: str | Path) -> tuple[Any, dict]:
    """The fitted pipeline and its metadata, refusing any type outside the trusted list."""
    meta = read_meta(model_dir)
    skops_io = _import_skops_io()
    path = Path(model_dir) / MODEL_FILE
    try:
        untrusted = skops_io.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged file: skops raises many kinds
        raise ModelFormatError(f"Cannot read {path}: {exc}") from None
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelFormatError(f"{path} holds types that are not trusted: {', '.join(refused)}")
    return skops_io.load(path, trusted=untrusted), meta


def read_table(model_dir: str | Path, name: str = BOARD_FILE, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV of the folder (the leaderboard by default), refusing one without `required` columns."""
    path = Path(model_dir) / name
    if not path.is_file():
        raise ModelFormatError(f"{model_dir} has no {name}; is it a kiss-automl output folder?")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{path} is damaged: {str(exc).strip().splitlines()[0]}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ModelFormatError(f"{path} is damaged: no column(s) {', '.join(missing)}")
    return table
