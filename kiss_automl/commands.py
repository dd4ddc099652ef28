"""What each CLI verb does, once its options are parsed: read, fit or load, write, print."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import persist, run_record
from .data import infer_task, read_csv, split_target
from .errors import ConfigError, DataError, ModelFormatError

logger = logging.getLogger(__name__)
EXIT_CLUSTER_LOST = 75  # EX_TEMPFAIL: the output is saved, and `--resume` continues it


def fit_command(args: argparse.Namespace) -> int:
    # From the first moment: a SIGTERM while the CSV loads or codecarbon starts is a clean stop too.
    # Locked from the start too: a second fit on the same --out is refused before it reads its CSV.
    with _signals_as_interrupt(), persist.OutputLock(_out_dir(args)):
        return _fit(args)


def _out_dir(args: argparse.Namespace) -> Path:
    return Path(args.out or Path("runs") / Path(args.csv).name.split(".")[0])


def _fit(args: argparse.Namespace) -> int:
    from .energy import WholeRunTracker, make_meter, parse_co2, parse_energy
    from .energy.cputime import process_cpu_seconds
    from .estimator import KissClassifier, KissRegressor

    started = time.perf_counter()
    cpu_at_start = process_cpu_seconds()  # the interpreter's start-up and imports so far
    energy_budget = parse_energy(args.energy_budget) if args.energy_budget is not None else None
    co2_budget = parse_co2(args.co2_budget) if args.co2_budget is not None else None
    out = _out_dir(args)
    persist.check_writable_target(out)

    from .memory_check import available_bytes

    from . import config as config_module

    if args.refit_whole_file and (args.sample_rows is None or
                                  config_module.scheduler_asked(args.scheduler, args.config) is None):
        raise ConfigError("--refit-whole-file refits on a Dask cluster what was searched on a sample: "
                          "it needs --scheduler and --sample-rows")
    frame = read_csv(args.csv, sample_rows=args.sample_rows, seed=args.seed,
                     available_memory=None if args.no_memory_check else available_bytes())
    X, y = split_target(frame, args.target, source=args.csv)
    task = infer_task(y, args.task)
    overrides = {"co2_budget": co2_budget, "trial_timeout": args.trial_timeout, "selection": args.selection,
                 "memory_limit": args.memory_limit, "pue": args.pue, "scheduler": args.scheduler,
                 "text_columns": () if args.no_text else (tuple(args.text) if args.text else None),
                 "text_model": args.text_model}
    settings = config_module.load(args.config).replace(**overrides)
    if settings.scheduler is not None:  # the dask extra, checked before the CSV is read
        from .cluster import require

        require()
    cls = KissRegressor if task == "regression" else KissClassifier
    estimator = cls(args.time_budget, energy_budget=energy_budget, max_trials=args.max_trials, metric=args.metric,
                    config=settings, n_jobs=args.n_jobs, random_state=args.seed, country=args.country,
                    region=args.region)
    if task != "regression":
        y = y.astype(str) if y.dtype == object else y
    whole_file = _whole_file(args, X, str(y.name)) if args.refit_whole_file else None
    journal = _journal(args, out, X, y, task, estimator)
    try:
        cpu_before_fit = process_cpu_seconds()
        meter = make_meter()  # the whole command, GPUs included; candidates get their own meters
        token = meter.start()
        # Process mode: codecarbon charges this process's CPU share, as our meter does. Opt-in:
        # its start-up costs ~1.5 CPU-s here, more than a small fit's candidates.
        tracker = WholeRunTracker(country=args.country, region=args.region, tracking_mode="process",
                                  pue=settings.pue) if args.cross_check else None
        with tracker or contextlib.nullcontext():
            if args.quiet:
                estimator.fit(X, y, journal=journal, whole_file=whole_file)
            else:
                from .progress import Progress

                with Progress() as progress:
                    estimator.fit(X, y, on_event=progress, journal=journal, whole_file=whole_file)
    except BaseException:
        journal.discard_if_empty()  # nothing measured: leave nothing behind
        raise
    whole = meter.stop(token)
    cpu_at_end = process_cpu_seconds()
    cpu_parts = {"startup_and_imports": cpu_at_start, "read_and_check": cpu_before_fit - cpu_at_start,
                 "fit": cpu_at_end - cpu_before_fit}
    data = {"csv": str(args.csv), "target": str(y.name), "rows": len(X), "columns": X.shape[1]}
    if args.sample_rows is not None:
        data["sample_rows"] = args.sample_rows
        data["rows_in_file"] = frame.attrs.get("rows_in_file", len(frame))

    def record() -> dict:
        return run_record.build(estimator, data, command=" ".join(sys.argv), whole=whole, cpu_parts=cpu_parts,
                                tracker=tracker, wall_s=time.perf_counter() - started,
                                pue_source="--pue" if args.pue is not None else None)

    run = record()
    # The column's name in the file, not as typed (" y" finds "y"): PRED.csv's header and predict's check.
    meta = {"task": task, "target": str(y.name), "columns": [str(c) for c in X.columns],
            "classes": estimator.classes_.tolist() if task != "regression" else None,
            "metric": estimator.metric_}
    try:
        persist.save(out, estimator.model_, meta, estimator.leaderboard_, run,
                     extra_files={persist.JOURNAL_FILE: journal.path})
        # Saving (skops, ~0.7 CPU-s here) belongs to the fit's energy too: run.json, written
        # before it, is rewritten with it (atomically: the folder stays whole throughout).
        cpu_parts["save"] = process_cpu_seconds() - cpu_at_end
        run = record()
        persist.write_atomically(out / persist.RUN_FILE, lambda tmp: persist.write_json(tmp, run))
    except OSError as exc:  # a full disk, say: the searched candidates are in the journal still
        kept = (f"; the search is kept in {journal.path}: make room and rerun with --resume to save it without "
                "training again") if journal.path.is_file() else ""
        raise persist.SaveError(f"Cannot write {out} ({exc.strerror or exc}){kept}") from None
    journal.path.unlink(missing_ok=True)
    if not args.quiet:
        from .leaderboard import render

        print(render(estimator.leaderboard_.head(10), "table"), end="")
        print(f"Plots, energy by phase and a carbon statement: kiss-automl report {out} --output report.html")
    best = estimator.search_summary_["selected"]
    members = best["member_families"]
    chosen = best["family"] + (f" of {', '.join(members)}" if members else "")
    print(f"Selected {chosen} ({estimator.metric_} {best['score']:.4f}); stop: {estimator.stop_reason_}; "
          f"candidates {run['energy']['candidates_j']:.1f} J; model and leaderboard in {out}")
    refit = estimator.search_summary_.get("whole_file_refit")
    if refit is not None:
        if refit.get("rung"):
            print("The whole file's rung (trained on it less held-out rows): " + "; ".join(
                f"{t['family']} {t['rounds_trained']} rounds, best {t['rounds_kept']}: {estimator.metric_} "
                f"{t['score']:.4f} on {t['held_out_rows']} held-out rows" for t in refit["rung"]))
        dropped = refit["dropped_missing_target"] + refit["dropped_unknown_class"]
        print(f"Trained on the whole file on the cluster: {refit['rows']} rows in {refit['partitions']} partition(s), "
              f"workers {refit['workers_j']:.1f} J" + (f"; {dropped} row(s) left out (missing target: "
              f"{refit['dropped_missing_target']}, a class the sample lacked: {refit['dropped_unknown_class']})"
              if dropped else ""))
    if estimator.stop_reason_ == "cluster_lost":
        print("kiss-automl: the Dask cluster was lost; the best model so far is saved; `--resume` continues it "
              "(here, or with --scheduler on a new cluster)", file=sys.stderr)
        return EXIT_CLUSTER_LOST
    if estimator.stop_reason_ == "interrupted":
        print("kiss-automl: interrupted; the best model so far is saved; `--resume` continues it", file=sys.stderr)
        return 130
    return 0


def _whole_file(args: argparse.Namespace, X: pd.DataFrame, target: str):
    """How the workers read the CSV the sample came from, as read_csv read it here."""
    from .cluster.refit import WholeFile
    from .data import dialect

    compression, encoding, delimiter = dialect(args.csv)
    booleans = tuple(str(c) for c in X.columns if pd.api.types.is_bool_dtype(X[c]))
    numeric = tuple(str(c) for c in X.columns
                    if pd.api.types.is_numeric_dtype(X[c]) and str(c) not in booleans)
    return WholeFile(str(Path(args.csv).resolve()), target, delimiter, encoding, compression,
                     tuple(str(c) for c in X.columns), numeric, booleans, decimal_comma=delimiter == ";")


@contextlib.contextmanager
def _signals_as_interrupt():
    """SIGTERM stops the search like Ctrl-C does: keep what was measured, save, exit. Both
    also leave `process.interrupt_pending` set, for the search to see one that a finalizer
    swallowed. A SIGINT that the process was started ignoring (nohup) stays ignored."""
    from . import process

    def interrupt(signum, frame):
        process.interrupt_pending = True
        raise KeyboardInterrupt

    signals = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signals.append(signal.SIGINT)
    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _journal(args, out: Path, X: pd.DataFrame, y: pd.Series, task: str, estimator):
    """The journal of this fit, written beside DIR while it runs and kept in DIR after."""
    import dataclasses

    from .journal import Journal
    from .journal import matches as journal_matches

    search_config = estimator._settings()
    settings = dataclasses.asdict(search_config)
    # A resumed search may be given more budget or memory: those are not part of its identity.
    # Nor where it runs: a fit stopped on a cluster resumes here or on another one (its
    # window of candidates in flight is in the journal's header).
    for name in ("time_budget", "energy_budget", "co2_budget", "max_trials", "trial_timeout", "isolation",
                 "memory_limit", "pue", "scheduler", "in_flight"):
        settings.pop(name)
    fingerprint = int(pd.util.hash_pandas_object(pd.concat([X, y], axis=1), index=False).sum())
    key = {"rows": len(X), "columns": [str(c) for c in X.columns], "target": str(y.name), "task": task,
           "seed": args.seed, "data_hash": fingerprint, "settings": json.loads(json.dumps(settings))}
    partial = out.parent / f".{out.name}.{persist.JOURNAL_FILE}"
    source = None
    if args.resume:
        # A fit stopped before saving (partial) is newer than DIR's; either serves if it is this search's.
        found = [path for path in (partial, out / persist.JOURNAL_FILE) if path.is_file()]
        if not found:
            raise DataError(f"Nothing to resume: {out} holds neither a fit nor a stopped one")
        source = next((path for path in found if journal_matches(path, key)), found[0])  # refused with why
    return Journal(partial, key, resume_from=source)  # the engine decides whether it keeps predictions


def predict_command(args: argparse.Namespace) -> int:
    model, meta = persist.load(args.model_dir)
    frame = read_csv(args.csv)
    missing = [c for c in _required_columns(model, meta) if c not in frame.columns]
    if missing:
        raise DataError(f"{args.csv} lacks column(s) the model needs: {', '.join(missing)}")
    # The target column of a labelled file is expected, not extra: it is ignored quietly.
    extra = [c for c in frame.columns if c not in meta["columns"] and c != meta["target"]]
    if extra:
        logger.warning("Ignoring %d column(s) the model was not trained on: %s", len(extra), ", ".join(extra[:10]))
    X = frame[[c for c in meta["columns"] if c in frame.columns]]
    target = meta["target"]
    if meta["task"] == "regression":
        result = pd.DataFrame({target: model.predict(X)})
    else:
        proba = model.predict_proba(X)
        if proba.ndim != 2 or proba.shape[1] != len(meta["classes"]):  # model.skops of another fit
            raise ModelFormatError(f"{args.model_dir} is damaged: its model predicts {proba.shape[-1]} classes, "
                                   f"its {persist.META_FILE} lists {len(meta['classes'])}")
        classes = np.asarray(meta["classes"], dtype=object)
        # One frame at once: a column at a time warns (fragmented frame) past 100 classes.
        result = pd.concat([pd.DataFrame({target: classes[proba.argmax(axis=1)]}),
                            pd.DataFrame(proba, columns=[f"proba_{cls}" for cls in meta["classes"]])], axis=1)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    # Into a file beside, then renamed: a full disk leaves an earlier PRED.csv whole, and no half file.
    persist.write_atomically(args.output, lambda tmp: result.to_csv(tmp, index=False))
    print(f"Wrote {len(result)} predictions to {args.output}")
    return 0


def _required_columns(model, meta: dict) -> list[str]:
    typer = model.named_steps["typer"]
    return [c for c in meta["columns"] if c not in typer.dropped_]


def leaderboard_command(args: argparse.Namespace) -> int:
    from .leaderboard import DISPLAY, render

    board = persist.read_table(args.model_dir, required=(*DISPLAY, "error"))
    for text in ("params", "error"):  # read back as floats (NaN) when every cell is empty
        board[text] = board[text].astype(object).fillna("")
    board["rank"] = board["rank"].astype("Int64")  # failed rows have none: read back as floats
    print(render(board, args.format), end="")
    return 0
