"""Reading a fit: `kiss-automl report DIR --output report.html|report.md`, `kiss_automl.report(...)`.

The report reads a fit's output folder (run.json, leaderboard.csv), never the engine's
objects, so it works on any finished or interrupted fit. A fitted estimator is first
written out as such a folder (its run record and leaderboard), then read the same way.

Example
-------
>>> from kiss_automl import report                                    # doctest: +SKIP
>>> report("runs/credit", "credit.html")                              # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import ConfigError, ModelFormatError, one_line
from .. import persist
from .folder import FitRecord, read_folder

__all__ = ["FORMATS", "read_folder", "report", "report_command"]

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def report(source, path: str | os.PathLike, format: str | None = None) -> Path:  # noqa: A002 - the CLI's word
    """Write the report of a fit to `path` and return it.

    Parameters
    ----------
    source : str, path, or fitted KissClassifier / KissRegressor
        The folder `kiss-automl fit --out` wrote, or an estimator fitted in Python.
    path : str or path
        `report.html` (one self-contained page) or `report.md` (plots as SVG files in
        `report_files/` beside it).
    format : {'html', 'md'}, optional
        Overrides the format the extension says.
    """
    from ..energy import make_meter

    meter = make_meter(use_gpu=False)
    token = meter.start()
    return _write(_record_of(source), Path(path), _format_of(Path(path), format), meter, token,
                  "this call, to the rendered page")


def report_command(args: argparse.Namespace) -> int:
    """The CLI verb: the footer counts the whole `report` process, its start-up included."""
    from ..energy import make_meter
    from ..energy.cputime import process_cpu_seconds

    startup_cpu_s = process_cpu_seconds()  # the interpreter and imports before the meter starts
    output = Path(args.output)
    fmt = _format_of(output, args.format)
    meter = make_meter(use_gpu=False)
    token = meter.start()
    written = _write(read_folder(args.model_dir), output, fmt, meter, token,
                     "this process from its start to the rendered page; writing it not included", startup_cpu_s)
    print(f"Wrote the report of {args.model_dir} to {written}")
    return 0


def _format_of(path: Path, format: str | None) -> str:  # noqa: A002
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give the report's file name, e.g. {path / 'report.html'}")
    if format is not None:
        if format not in ("html", "md"):
            raise ConfigError(f"Unknown report format '{format}'; choose html or md")
        return format
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"Cannot tell the report format from '{path.name}': name it .html or .md, "
                          "or give --format html|md")
    return fmt


def _record_of(source) -> FitRecord:
    if isinstance(source, (str, os.PathLike)):
        return read_folder(source)
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(source, "search_summary_")
    from .estimator_folder import estimator_record

    return estimator_record(source)


def _write(record: FitRecord, path: Path, fmt: str, meter, token, scope: str, startup_cpu_s: float = 0.0) -> Path:
    from . import content, html, markdown

    try:
        document = content.build(record)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # The files passed the checks above but hold a value of the wrong kind (edited by hand,
        # or from another version): one line that says where, not a traceback.
        raise ModelFormatError(f"{record.folder}: run.json or leaderboard.csv holds a value the report cannot "
                               f"read ({one_line(exc, 160)}); is it damaged or edited?") from None
    figures_dir = f"{path.stem}_files"
    document.footer = _cost_line(meter.stop(token), startup_cpu_s, scope)
    text, files = markdown.render(document, figures_dir) if fmt == "md" else (html.render(document), {})
    _write_atomically(path, text, files, path.parent / figures_dir)
    return path


def _cost_line(reading, startup_cpu_s: float, scope: str) -> str:
    """What making the report cost, measured up to the moment it was rendered."""
    from .. import __version__
    from .numbers import format_joules

    watts = reading.constants.get("watts_per_core")
    joules, cpu_s = reading.joules, reading.cpu_seconds
    if watts is not None:  # the CPU time model prices start-up CPU-seconds the same way
        joules, cpu_s = joules + startup_cpu_s * watts, cpu_s + startup_cpu_s
    return (f"Making this report cost {format_joules(joules)} ({cpu_s:.2f} CPU-s, {reading.method}; {scope}). "
            f"kiss-automl {__version__}.")


def _write_atomically(path: Path, text: str, files: dict[str, str], figures_dir: Path) -> None:
    """The page (and its plots' folder) written beside their places, then renamed into them:
    a failed write leaves an earlier report as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plots = _plots_beside(files, figures_dir) if files else None

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        if plots is not None:  # the last step before the page's rename: the two swaps stay together
            persist.swap_in(plots, figures_dir)

    try:
        persist.write_atomically(path, write)
    finally:
        if plots is not None and plots.exists():
            shutil.rmtree(plots, ignore_errors=True)


def _plots_beside(files: dict[str, str], figures_dir: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f".{figures_dir.name}.tmp-", dir=figures_dir.parent))
    try:
        for name, svg in files.items():
            (folder / name).write_text(svg, encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
