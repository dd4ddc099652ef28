"""One fit, start to end: type the columns, plan the evaluation, search, refit the choice.

Both doors (the CLI and the estimators) come through `run`, so they behave the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from . import leaderboard
from .config import SearchConfig
from .errors import DataError, KissError, one_line
from .evaluation import Task, make_plan, make_preprocessor, row_order
from .preprocess import MAX_NATIVE_LEVELS
from .families import REGISTRY, BuildContext, Family
from .metrics import get_metric
from .text import split_params
from . import ensemble
from .ensemble import WeightedEnsemble
from .evaluation import Evaluation
from .search import Candidate, Search, SearchResult
from .columns import ColumnTyper

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a fit produced: the model to keep, the leaderboard and the figures for run.json."""

    model: Pipeline
    leaderboard: pd.DataFrame
    result: SearchResult
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def available_families(config: SearchConfig) -> tuple[list[Family], dict[str, str]]:
    """The configured families whose libraries import (they are imported here, up front), and
    why the others were skipped."""
    import importlib

    families, skipped = [], {}
    for name in config.families:
        family = REGISTRY[name]
        missing = family.missing_requirements()
        if missing:
            skipped[name] = f"missing {', '.join(missing)}"
            logger.warning("Skipping the %s family: %s is not installed", name, ", ".join(missing))
            continue
        try:  # installed but broken (a missing shared library, a version clash) is skipped too
            for module in family.imports:
                importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - whatever the import raises, the family is unusable
            skipped[name] = f"{module} does not import: {one_line(exc, 200)}"
            logger.warning("Skipping the %s family: %s", name, skipped[name])
            continue
        families.append(family)
    if not families:
        raise KissError(f"No model family is usable: {skipped}")
    return families, skipped


def run(X: pd.DataFrame, y: np.ndarray, task: str, config: SearchConfig, seed: int, meter,
        grams_per_joule: float = 0.0, on_event: Callable[..., None] | None = None, journal=None,
        gpu_meter=None, scheduler=None, whole_file=None) -> Outcome:
    """Search and refit. `y` holds class indices 0..k-1 for classification, floats otherwise.

    With a `scheduler` (an address, 'local:N' or a distributed.Client) the candidates run as
    tasks on that Dask cluster (cluster/); the search and the refit stay here. With a
    `whole_file` too (`cluster.refit.WholeFile`: `X` is a sample of it), a LightGBM or
    XGBoost choice is refit on every row of that file on the cluster."""
    metric = get_metric(config.metric, task)
    typer = ColumnTyper(text_columns=config.text_columns)
    token = meter.start()
    typed = typer.fit_transform(X)
    typing_reading = meter.stop(token)
    if typed.shape[1] == 0:
        raise DataError("No usable feature column is left: " + "; ".join(typer.notes_ or ["no columns"]))
    started, token = time.perf_counter(), meter.start()
    families, skipped = available_families(config)  # imports each family's libraries
    _import_search_libraries()
    imports_reading = meter.stop(token)
    imports_seconds = time.perf_counter() - started
    plan = make_plan(y, task, config, seed, row_order(typed, y))
    data = Task(typed, y, task, int(y.max()) + 1 if task != "regression" else 0, metric,
                tuple(typer.numeric_columns_), tuple(typer.categorical_columns_), tuple(typer.text_columns_),
                config.text_model, text_model_explicit=config.text_model is not None,
                native_max_levels=MAX_NATIVE_LEVELS if plan.mode == "holdout" else None)
    if journal is not None:  # a resumed search can then blend replayed candidates too
        journal.keep_predictions = ensemble.wanted(config.ensemble, plan.mode)
    # One thread per BLAS/OpenMP pool: on a small machine a second thread mostly spin-waits
    # (seen here: a logistic regression fit read 0.7 J alone, 6.8 J with two BLAS threads
    # while another process was busy). It also keeps forked workers (isolation.py) alive:
    # libgomp's thread team does not survive a fork, and a one-thread region never needs it.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), task_decided():
        runner, cluster_start = _cluster_runner(scheduler, data, plan, config, meter)
        window = _window(config, journal, runner.slots if runner is not None else 1)
        if runner is not None:
            runner.window = window
        if journal is not None and window > 1:  # a resume replays the same proposals only with it
            journal.record_in_flight(window)
        search = Search(data, plan, config, families, seed, meter, grams_per_joule, on_event, journal, gpu_meter,
                        runner=runner, window=window)
        on_cluster = runner is not None and whole_file is not None  # the refit needs the cluster too
        token = meter.start()
        try:
            result = search.run()
        except BaseException:
            if runner is not None:
                runner.close()
            raise
        # A local cluster is shut down (its workers reaped) inside the search's reading; one the
        # refit needs is read now, so that the refit's share is counted apart, and closed after.
        figures = None if runner is None else runner.figures() if on_cluster else runner.close()
        search_reading = meter.stop(token)
        result.skipped_families = skipped
        try:
            model, refit_reading, refit_seconds = _select_and_refit(
                result, search, typer, data, config, seed, meter, gpu_meter, on_event,
                whole=(runner.client, whole_file) if on_cluster else None)
        finally:
            if on_cluster:
                runner.close()
    board = leaderboard.to_frame(result.candidates, plan.n_train)
    summary = _summary(result, refit_reading, refit_seconds, data, grams_per_joule)
    summary["time"]["imports_s"] = imports_seconds
    if result.whole_file_refit is not None:
        summary["whole_file_refit"] = dataclasses.asdict(result.whole_file_refit)
    # The phases of the fit, for the report's "where the energy went". The search's own
    # share (optuna, bookkeeping, the meter's reads) is its reading less the candidates'.
    summary["energy"].update(typing_j=typing_reading.joules, imports_j=imports_reading.joules,
                             search_j=search_reading.joules)
    if figures is not None:
        from .cluster import accounting

        summary["cluster"] = accounting.summarize(figures, result.candidates, _watts_per_core(meter), window)
        summary["evaluation"]["isolation"] = "dask-worker"
        summary["energy"]["cluster_start_j"] = cluster_start.joules
    notes = list(typer.notes_)
    if search.text is not None:
        summary["text"] = search.text.as_dict()
        notes += search.text.notes
    notes += result.notes
    if result.whole_file_note:
        notes.append(result.whole_file_note)
    return Outcome(model, board, result, summary, notes)


def _cluster_runner(scheduler, data: Task, plan, config: SearchConfig, meter):
    """The Dask runner for `scheduler` (None: candidates run here) and the reading of starting it."""
    if scheduler is None:
        return None, None
    from . import cluster

    token = meter.start()
    runner = cluster.start_runner(scheduler, data, plan, config)
    return runner, meter.stop(token)


def _window(config: SearchConfig, journal, slots: int) -> int:
    """Candidates in flight: the setting, else a resumed search's own (so that it replays the
    same proposals), else the runner's slots (1 in this process)."""
    if config.in_flight is not None:
        return config.in_flight
    if journal is not None and journal.resuming:
        return journal.in_flight or 1
    return slots


def _watts_per_core(meter) -> float:
    watts = getattr(meter, "watts_per_core", None) or getattr(getattr(meter, "cpu", None), "watts_per_core", None)
    if watts is None:
        from .energy import CpuTimeMeter

        watts = CpuTimeMeter().watts_per_core
    return float(watts)


def _select_and_refit(result: SearchResult, search: Search, typer: ColumnTyper, data: Task, config: SearchConfig,
                      seed: int, meter, gpu_meter, on_event, whole=None):
    """Mark the selection (a blend, when asked and worth it) and fit it on all rows, measured;
    with `whole` (a Dask client and a `cluster.refit.WholeFile`), on the whole file there."""
    if result.selected is None:
        if result.stop_reason == "interrupted":  # stopped before any candidate finished: nothing to fit
            raise KeyboardInterrupt
        if result.stop_reason == "cluster_lost":
            raise KissError(f"The Dask cluster was lost before any candidate finished "
                            f"({result.stop_detail.get('error', '')})")
        errors = sorted({c.evaluation.error for c in result.candidates if c.evaluation.error})
        raise KissError("Every candidate failed" + (f"; first error: {errors[0]}" if errors else ""))
    if ensemble.wanted(config.ensemble, result.plan.mode) and config.selection == "best":
        _add_ensemble(result, search, data)
    result.selected.selected = True
    if on_event:
        on_event("refit", candidate=result.selected)
    started = time.perf_counter()
    refit_meter = gpu_meter if gpu_meter is not None and _uses_gpu(result.selected) else meter
    token = refit_meter.start()
    kept = search.refit_skipped(result.selected) if whole is None else None
    result.trained_rows = len(data.y)
    if whole is not None:
        fitted, result.whole_file_refit, result.whole_file_note = _refit_whole_file(
            result.selected, result, data, config, seed, typer, *whole)
        if result.whole_file_refit is not None:
            result.trained_rows = result.whole_file_refit.rows
    elif kept is not None:  # the rows held out would not pay for a refit: the rung's model is the fit
        fitted, result.trained_rows = result.selected.evaluation.model, result.selected.n_rows
        result.refit_skipped = True
        logging.getLogger("kiss_automl.search").info(kept)  # a note on what the search chose not to run
        result.notes.append(kept)
    else:
        fitted = _refit(result.selected, data, config, seed)
    for candidate in result.candidates:  # the kept models are no longer needed
        candidate.evaluation.model = None
    model = Pipeline([("typer", typer), ("model", fitted)])
    reading = refit_meter.stop(token)
    if result.whole_file_refit is not None:  # the workers' share, beside the driver's
        reading = dataclasses.replace(reading, joules=reading.joules + result.whole_file_refit.workers_j,
                                      cpu_seconds=reading.cpu_seconds + result.whole_file_refit.workers_cpu_s,
                                      method=f"{reading.method} + the Dask workers' CPU-time model")
    return model, reading, time.perf_counter() - started


def _refit_whole_file(candidate, result: SearchResult, data: Task, config: SearchConfig, seed: int, typer, client,
                      whole):
    """The choice on the whole file on the cluster (cluster/refit.py), with its figures: boosters
    only, alone or blended; any other choice is refit on the sample, with a note saying so.

    First the whole file's rung: the choice, and the best configuration of the other booster
    family when the sample could not tell the two apart (`_finalists`), each trained on the
    file less its held-out rows with rounds grown for the file. The one that scores best on the
    held-out rows becomes the selection, trained on every row with the rounds that paid there
    (`_on_whole_file`). A blend's members each go through the rung alone, for their rounds."""
    from .cluster import refit as cluster_refit

    members = candidate.members if candidate.family == "ensemble" else [candidate]
    if any(m.family not in cluster_refit.TRAINERS for m in members):
        chosen = candidate.family + (f" of {', '.join(m.family for m in members)}" if len(members) > 1 else "")
        note = (f"The choice, {chosen}, has no Dask trainer: it was refit on the sample ({len(data.y)} rows), not "
                f"on the whole file; only {' and '.join(cluster_refit.TRAINERS)} are")
        logger.warning(note)
        return _refit(candidate, data, config, seed), None, note
    if candidate.family == "ensemble":  # a blend of boosters: each member on the whole file
        fitted = [_on_whole_file([m], data, config, seed, typer, client, whole) for m in members]
        blend = WeightedEnsemble([model for _, model, _ in fitted], list(candidate.params["weights"]),
                                 classify=data.task != "regression").fit_done()
        return blend, cluster_refit.add_up([figures for _, _, figures in fitted]), None
    winner, model, figures = _on_whole_file(_finalists(candidate, result), data, config, seed, typer, client, whole)
    note = None
    if winner is not candidate:  # the file preferred the other booster: it becomes the selection
        note = (f"On the whole file's held-out rows, {winner.family} (trial {winner.trial}) scored better than the "
                f"sample's choice, {candidate.family} (trial {candidate.trial}): it was chosen")
        candidate.selected, winner.selected = False, True
        result.selected = winner
    return model, figures, note


# The rung's winner is trained again on every row when its held-out rows are more than this
# share of the file; below it, on a file many times the held-out rows, the rung's model (on all
# rows but those) is kept: another pass over the file would buy almost nothing.
REFIT_ABOVE_HELD_OUT = 0.05


def _finalists(candidate, result: SearchResult) -> list:
    """The choice, and the best candidate of each other booster family that the sample cannot
    tell from it: within 1.96 standard errors of the difference, the scores' noise as the
    search reads it (the chunks of one validation set, or the folds)."""
    from .cluster.refit import TRAINERS

    finalists = [candidate]
    for name in TRAINERS:
        if name == candidate.family:
            continue
        rivals = [c for c in result.candidates if c.ok and c.family == name and c.rung == candidate.rung]
        if not rivals:
            continue
        rival = max(rivals, key=lambda c: (c.signed, -c.trial))
        if candidate.signed - rival.signed <= 1.96 * math.hypot(candidate.standard_error, rival.standard_error):
            finalists.append(rival)
    return finalists


def _on_whole_file(finalists: list, data: Task, config: SearchConfig, seed: int, typer, client, whole):
    """The finalists on the whole file's rung, then the best of them trained on every row with
    the rounds that paid on the held-out rows, unless those rows are a small share of the file
    (REFIT_ABOVE_HELD_OUT): (that finalist, its pipeline, the figures)."""
    from .cluster import refit as cluster_refit

    trials, built = [], []
    context = BuildContext(data.task, seed, n_threads=1, device=config.device)
    for finalist in finalists:
        family = REGISTRY[finalist.family]
        params = split_params(finalist.params)[0]
        prep = make_preprocessor(family, data, finalist.params, context).fit(data.X, data.y)
        trial, model = cluster_refit.try_on_file(
            client, whole, family, params, context, typer, prep, metric=data.metric, seed=seed,
            sample_rows=len(data.y), share=config.validation_fraction, max_held_out=config.max_validation_rows,
            tol=config.tol, trial=finalist.trial, sample_score=finalist.score)
        trials.append(trial)
        built.append((family, params, context, prep, model))
    best = max(range(len(trials)), key=lambda i: (data.metric.signed(trials[i].score), -i))
    family, params, context, prep, model = built[best]
    won = trials[best]
    spent = {"workers_cpu_s": sum(t.workers_cpu_s for t in trials), "workers_j": sum(t.workers_j for t in trials)}
    if won.held_out_rows > REFIT_ABOVE_HELD_OUT * (won.trained_rows + won.held_out_rows):
        # A little more boosting for the rows the rung held back, as the search's refit does.
        params = {**params, family.rounds_param: max(1, int(math.ceil(won.rounds_kept * 1.1)))}
        model, figures = cluster_refit.refit(client, whole, family, params, context, typer, prep)
        spent = {key: value + getattr(figures, key) for key, value in spent.items()}
    else:
        figures = cluster_refit.RefitFigures(won.trained_rows, won.partitions, won.dropped_missing_target,
                                             won.dropped_unknown_class, 0.0, 0.0)
    figures = dataclasses.replace(figures, rung=trials, held_out_rows=won.held_out_rows, **spent)
    return finalists[best], Pipeline([("prep", prep), ("model", model)]), figures


@contextlib.contextmanager
def task_decided():
    """Silence scikit-learn's "y could represent a regression problem" (most labels distinct):
    the task was decided before the search, by the user or by infer_task, and in a search that
    warning repeats once per fit, hundreds of lines on a small many-class file. Nor does a
    solver's "failed to converge" help there: the candidate's score says what it reached,
    and the line would repeat for every fold of every linear candidate on wide (text) data."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%",
                                category=UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


def _import_search_libraries() -> None:
    """Load what every search uses up front (the families' libraries are loaded by
    `available_families`): a one-off cost of the process, not of the search loop nor of
    whichever candidate happens to come first."""
    import importlib

    for module in ("optuna.samplers", "sklearn.compose", "sklearn.impute", "sklearn.preprocessing"):
        importlib.import_module(module)


def _uses_gpu(candidate) -> bool:
    members = candidate.members or [candidate]
    return any(REGISTRY[m.family].uses_gpu for m in members)


def _add_ensemble(result: SearchResult, search: Search, data: Task, pool_size: int = 10) -> None:
    """Blend the best candidates' out-of-fold predictions (ensemble.select) and keep the blend
    when it scores at least as well as the best one, scored as every candidate is (mean over
    folds); it becomes a leaderboard row (family 'ensemble') and the selection."""
    best = result.selected
    # Replayed candidates bring their predictions when the journal kept them (ensemble runs do).
    pool = [c for c in result.candidates if c.ok and c.rung == best.rung and c.evaluation.oof
            and len(c.evaluation.oof) == len(result.plan.splits)]
    pool = sorted(pool, key=lambda c: (-c.signed, c.trial))[:pool_size]
    if len(pool) < 2 or pool[0] is not best:
        return
    classify = data.task != "regression"
    fold_targets = [data.y[valid] for _, valid in result.plan.splits]
    blend = ensemble.select([c.evaluation.oof_predictions() for c in pool], np.concatenate(fold_targets), classify)
    if len(blend.members) < 2:
        return
    members = [pool[i] for i in blend.members]
    scores = ensemble.fold_scores([m.evaluation.oof for m in members], blend.weights, fold_targets, data.metric,
                                  classify)
    score = float(np.mean(scores))
    if data.metric.signed(score) < best.signed:
        return
    evaluation = Evaluation(scores=scores,
                            predict_joules=sum(m.evaluation.predict_joules for m in members),
                            predict_seconds=sum(m.evaluation.predict_seconds for m in members),
                            predicted_rows=best.evaluation.predicted_rows)
    row = Candidate(len(result.candidates), "ensemble", best.rung, "ensemble",
                    {"members": [m.trial for m in members], "weights": [round(w, 4) for w in blend.weights]},
                    best.n_rows, evaluation, score=score,
                    score_std=float(np.std(scores)) if len(scores) > 1 else best.score_std,
                    signed=data.metric.signed(score), cumulative_joules=search.joules,
                    estimated_joules=sum(m.estimated_predict_joules for m in members),
                    estimated_predict_joules=sum(m.estimated_predict_joules for m in members))
    row.members = members
    result.candidates.append(row)
    result.selected = row


def _refit(candidate, data: Task, config: SearchConfig, seed: int):
    """The chosen candidate (or each member of a blend) fit on all rows: prep → model."""
    if candidate.family == "ensemble":
        members = [_refit(m, data, config, seed) for m in candidate.members]
        return WeightedEnsemble(members, list(candidate.params["weights"]),
                                classify=data.task != "regression").fit_done()
    family = REGISTRY[candidate.family]
    params = _refit_params(candidate, family)
    context = BuildContext(data.task, seed, n_threads=1, device=config.device)
    prep = make_preprocessor(family, data, params, context)
    return Pipeline([("prep", prep), ("model", family.build(split_params(params)[0], context))]).fit(data.X, data.y)


def _refit_params(candidate, family) -> dict:
    params = dict(candidate.params)
    if candidate.evaluation.rounds_used:
        # A little more boosting for the rows the validation split held back.
        params[family.rounds_param] = max(1, int(math.ceil(params[family.rounds_param] * 1.1)))
    return params


def _summary(result: SearchResult, refit_reading, refit_seconds: float, data: Task,
             grams_per_joule: float) -> dict[str, Any]:
    candidates = result.candidates
    # A blend's row carries its members' inference energy for its leaderboard column; nothing
    # more was spent on it, so it is not counted again.
    spent = [c for c in candidates if c.family != "ensemble"]
    search_joules = sum(c.evaluation.joules for c in spent)
    inside = result.candidate_seconds
    selected = result.selected
    return {
        "task": data.task,
        "metric": data.metric.name,
        "stop_reason": result.stop_reason,
        "stop_detail": result.stop_detail,
        "n_rows": len(data.y),
        "evaluation": {"mode": result.plan.mode, "splits": len(result.plan.splits),
                       "rungs": list(result.plan.rungs), "n_train": result.plan.n_train,
                       "isolation": "process" if result.isolated else "none"},
        "n_candidates": len(candidates),
        "n_replayed": sum(c.replayed for c in candidates),
        "n_failed": sum(not c.ok for c in candidates),
        "skipped_families": result.skipped_families,
        "selected": {"family": selected.family, "params": selected.params, "score": selected.score,
                     "score_std": selected.score_std, "rung": selected.rung, "trial": selected.trial,
                     "member_families": [m.family for m in selected.members],
                     "trained_rows": result.trained_rows, "refit_skipped": result.refit_skipped},
        "energy": {
            "candidates_j": search_joules,
            # Replayed from a stopped fit's journal (--resume): spent by that process, not this one.
            "replayed_j": sum(c.evaluation.joules for c in spent if c.replayed),
            "candidates_memory_j": sum(c.evaluation.memory_joules for c in spent),
            "refit_j": refit_reading.joules,
            "method": refit_reading.method,
            "scope": refit_reading.scope,
            "constants": refit_reading.constants,
        },
        "co2_g": {"candidates": search_joules * grams_per_joule, "refit": refit_reading.joules * grams_per_joule},
        "time": {"search_s": result.wall_seconds, "inside_candidates_s": inside,
                 "search_overhead_s": max(result.wall_seconds - inside, 0.0),
                 "search_overhead_fraction": max(result.wall_seconds - inside, 0.0) / max(result.wall_seconds, 1e-9),
                 "refit_s": refit_seconds},
    }
