"""The output folder: written atomically (a temporary folder, then a rename), loaded safely.

Layout of DIR: `model.skops` (the fitted pipeline, in skops' format, which runs no code on
load), `model.json` (what predict needs: format version, task, target, classes, columns),
`leaderboard.csv` and `run.json`. While a fit writes DIR it holds `.DIR.lock` beside it, so
that a second fit on the same folder is refused instead of mixing its files with the first's.
"""

from __future__ import annotations

import errno
import importlib
import importlib.abc
import json
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__, process
from .errors import KissError, ModelFormatError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; fits on one folder are not guarded
    fcntl = None

logger = logging.getLogger(__name__)
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


def write_atomically(path: str | Path, write) -> None:
    """`write(tmp)` into a file beside `path`, then rename it over `path`.

    A full disk or a crash part-way leaves `path` as it was (an earlier file stays whole) and
    no half-written file beside it.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a folder, not a file", str(path))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        # O_EXCL with 0o666: a fresh file with the user's umask, unlike mkstemp's 0600.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno:  # named by the file asked for, not the temporary one
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


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
        swap_in(tmp, out)
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
    """skops.io, imported without importing torch, and in the `kiss-automl` command's own
    process (`process.command_line`) without its list of scikit-learn's estimators.

    That list is built at import by walking and importing every sklearn package: 0.22 CPU-s
    per command in a core install here (a `predict` went from 2.27 to 2.05 CPU-s, means of
    5), 0.5 CPU-s with the test extras, whose dask and pytest the walk imports too. The list
    only decides which types skops calls untrusted; `load` trusts every type whose name
    starts with TRUSTED_PREFIXES either way, "sklearn." among them, so nothing is trusted that
    was not. skops' own default trust in the process is then empty: only in a process that is
    ours alone, never inside a user's program.

    The same holds of its list of scipy.special's ufuncs: skops looks each of ~230 up in every
    loaded module, 0.2 CPU-s per command here. None is in a model of ours, and the prefixes
    would refuse one: "scipy.special." is not among them.

    Elsewhere the walk runs, and it imports sklearn.externals.array_api_compat.torch, hence torch:
    1.35 s of CPU here (~5 J), paid by every `fit` and `predict` (a `fit` on credit-approval
    went from 5.9 to 4.9 CPU-s without it).
    The walk skips packages that fail to import, and the vendored externals hold no
    estimator, so the trusted list is the same (a test compares them); torch imports
    normally afterwards, when an MLP needs it.
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    if process.command_line:
        import scipy.special
        import sklearn.utils

        scan = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = lambda *args, **kwargs: []  # skops reads it once, at import
        scipy.special.__dir__ = lambda: []  # its ufuncs, listed by skops once, at import
        try:
            return importlib.import_module("skops.io")
        finally:
            sklearn.utils.all_estimators = scan
            del scipy.special.__dir__
    if "torch" in sys.modules:
        return importlib.import_module("skops.io")
    hide = _HideTorch()
    sys.meta_path.insert(0, hide)
    try:
        return importlib.import_module("skops.io")
    finally:
        sys.meta_path.remove(hide)


def swap_in(tmp: Path, out: Path) -> None:
    """Put the folder `tmp` in the place of `out`, putting the earlier `out` back if that fails."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            os.rename(old, out)  # the earlier output goes back in its place
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, out)


class SaveError(KissError):
    """The output folder could not be written (the earlier one, if any, is left as it was)."""


class OutputBusyError(KissError):
    """Another fit is writing the same output folder."""


class OutputLock:
    """Held by a fit on DIR from its start to its end: `.DIR.lock` beside DIR, with flock.

    The kernel drops a flock when its process dies (kill -9 included), so a lock file left by
    a dead fit is simply taken over; what it records (pid, host, start) names the holder in
    the refusal, and the dead one in the note.
    """

    def __init__(self, out_dir: str | Path):
        self.out = Path(out_dir)
        self.path = self.out.parent / f".{self.out.name}.lock"
        self._fd: int | None = None
        self._made: list[Path] = []

    def __enter__(self) -> "OutputLock":
        if fcntl is None:
            return self
        folder = self.path.parent
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a folder", str(folder))
        # Folders made for the lock go again if the fit ends without an output (bad input).
        self._made = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        while self._fd is None:
            self._fd = self._try_lock()
        previous = os.read(self._fd, 4096).decode("utf-8", "replace").strip()
        if previous:
            logger.warning("Took over the lock on %s left by a fit that ended without releasing it (%s)",
                           self.out, _holder(previous))
        os.ftruncate(self._fd, 0)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.pwrite(self._fd, (json.dumps(holder) + "\n").encode(), 0)
        return self

    def _try_lock(self) -> int | None:
        """The locked descriptor of the lock file, None to try again, or refuse if it is held."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # named by the folder the user gave, not the hidden lock file
            raise OSError(exc.errno, exc.strerror, str(self.path.parent)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.read(fd, 4096).decode("utf-8", "replace"))
            os.close(fd)
            raise OutputBusyError(f"{self.out} is being written by another fit ({holder}); wait for it to end "
                                  "or choose another --out") from None
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP):
                os.close(fd)
                raise
            logger.warning("Cannot lock %s on this file system; a second fit on it at once would clash", self.out)
            return fd
        # The holder may have released and removed the file between our open and our lock:
        # then we hold a lock on a removed file, and must lock the one that is there now.
        try:
            current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)
        return None

    def __exit__(self, *exc_info) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # removed while still held: see _try_lock
        os.close(self._fd)
        self._fd = None
        for folder in self._made:  # deepest first; one that holds the output stays
            try:
                folder.rmdir()
            except OSError:
                break


def _holder(text: str) -> str:
    """'pid 123 on host, started ...' from a lock file's content, as much as it says."""
    try:
        info = json.loads(text)
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (json.JSONDecodeError, KeyError, TypeError):
        return "holder unknown"


def _now() -> str:
    import datetime

    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def check_writable_target(out_dir: str | Path) -> None:
    """Refuse, before any work, to replace a folder that is not a kiss-automl run."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / RUN_FILE).exists())):
        raise ModelFormatError(f"{out} exists and is not a kiss-automl output folder; choose another --out")


def read_json_object(path: Path) -> dict:
    """A JSON object from one of the folder's files; anything else says the file is damaged."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{path} is damaged: {exc}") from None
    if not isinstance(value, dict):
        raise ModelFormatError(f"{path} is damaged: not a JSON object")
    return value


def read_meta(model_dir: str | Path) -> dict:
    """model.json, checked for a format this version can read."""
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        raise ModelFormatError(f"{model_dir} is not a kiss-automl model folder (no {META_FILE})")
    meta = read_json_object(path)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{model_dir} was written in model format {version} by kiss-automl "
            f"{meta.get('kiss_automl_version', '?')}; this kiss-automl {__version__} reads format {FORMAT_VERSION}")
    problem = _meta_problem(meta)
    if problem:
        raise ModelFormatError(f"{path} is damaged: {problem}")
    return meta


def _meta_problem(meta: dict) -> str | None:
    """What model.json lacks of what predict reads from it, or None."""
    task = meta.get("task")
    if task not in ("binary", "multiclass", "regression"):
        return f"'task' is {task!r}, not binary, multiclass or regression"
    if not isinstance(meta.get("target"), str):
        return "'target' is not a column name"
    columns = meta.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        return "'columns' is not a list of column names"
    classes = meta.get("classes")
    if task != "regression" and (not isinstance(classes, list) or len(classes) < 2):
        return "'classes' is not a list of at least two classes"
    return None


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
    try:
        model = skops_io.load(path, trusted=untrusted)
    except Exception as exc:  # a damaged file past its type listing: skops raises many kinds
        raise ModelFormatError(f"Cannot read {path}: {exc}") from None
    _check_model(model, meta, path)
    from .text import attach_encoders

    attach_encoders(model)  # an embed view's sentence encoder: loaded, its weights checked
    return model, meta


def _check_model(model, meta: dict, path: Path) -> None:
    """Refuse a trusted but wrong object (a dict, another pipeline, a model of another fit)
    before predict uses it: a type that skops trusts can still be the wrong one."""
    from sklearn.pipeline import Pipeline

    from .columns import ColumnTyper

    steps = model.named_steps if isinstance(model, Pipeline) else {}
    typer, final = steps.get("typer"), steps.get("model")
    if not isinstance(typer, ColumnTyper) or final is None:
        raise ModelFormatError(f"{path} is not a kiss-automl model: it holds a {type(model).__name__}, "
                               "not the fitted pipeline (column typer, then model)")
    if not hasattr(typer, "dropped_"):
        raise ModelFormatError(f"{path} is not a kiss-automl model: its column typer was never fitted")
    if [str(c) for c in typer.feature_names_in_] != meta["columns"]:
        raise ModelFormatError(f"{path} is not the model of {path.parent / META_FILE}: it was trained on other "
                               "columns; were the files of two fits mixed?")
    needed = "predict" if meta["task"] == "regression" else "predict_proba"
    if not callable(getattr(final, needed, None)):
        raise ModelFormatError(f"{path} is not the model of {path.parent / META_FILE}: a {meta['task']} model "
                               f"has {needed}, this one does not")


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
