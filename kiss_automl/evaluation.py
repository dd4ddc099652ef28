"""How one candidate is judged: the split plan, row rungs, and a measured fit/predict per fold.

Energy is read around every fit and every predict; preprocessing counts as part of the
fit (it is part of the model the user gets).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from . import isolation
from .config import SearchConfig, rung_sizes
from .errors import DataError, one_line
from .families import BuildContext, Family
from .metrics import Metric
from .preprocess import build_preprocessor

logger = logging.getLogger(__name__)


class CandidateTimeout(BaseException):
    """Raised in the main thread when a candidate runs past its time limit.

    A BaseException, like KeyboardInterrupt, so that no library's `except Exception` eats it.
    """


_LONGEST_TIMER_S = 1e8
# Validation rows predicted to measure a candidate's inference energy when early stopping has
# kept their predictions already (LightGBM): enough rows that a call's fixed cost is small.
PREDICT_SAMPLE_ROWS = 1000


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Interrupt the block after `seconds` with CandidateTimeout (a SIGALRM timer).

    Python runs signal handlers between bytecodes, and the boosting, forest and torch loops
    all return to Python between rounds, trees or batches, so they stop within one of those.
    Off the main thread (no signals there) the check after each fold is the only limit.
    """
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CandidateTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # The timer overflows near 9e9 s (nanoseconds in 64 bits); three years is no limit in practice.
    signal.setitimer(signal.ITIMER_REAL, min(seconds, _LONGEST_TIMER_S))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class EvalPlan:
    """Train/validation splits and the training-row sizes of each successive-halving rung."""

    mode: str  # "cv" or "holdout"
    splits: tuple[tuple[np.ndarray, np.ndarray], ...]
    rungs: tuple[int, ...]
    # Each row's place in the content order (row_order): rungs subsample in that order, so
    # the same rows in another file order train the same candidates. None: file order.
    rank: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return len(self.splits[0][0])


def row_order(X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """The rows sorted by a hash of their content (features and target).

    Splits drawn in this order pick the same rows whatever order the file lists them in: a
    file sorted by date, id or outcome is searched as its shuffled copy is. Identical rows
    are interchangeable, so ties between them can go either way.
    """
    keys = pd.util.hash_pandas_object(X, index=False).to_numpy()
    keys = keys ^ pd.util.hash_array(np.asarray(y))
    return np.argsort(keys, kind="stable")


def make_plan(y: np.ndarray, task: str, config: SearchConfig, seed: int,
              order: np.ndarray | None = None) -> EvalPlan:
    """CV for small data, one holdout split plus row rungs for large data.

    `order` (from `row_order`) makes the splits depend on the rows, not on the file's order,
    and lists each split's rows in that order: the models see them in it too, so a bagged
    booster or a bootstrapped forest draws the same rows from a sorted file as from its
    shuffled copy.
    """
    n = len(y)
    order = np.arange(n) if order is None else np.asarray(order)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    y = y[order]  # the splits are drawn over the rows in `order`, then mapped back
    classify = task != "regression"
    if config.cv == "holdout" or (config.cv == "auto" and n >= config.holdout_rows):
        n_valid = max(1, min(int(n * config.validation_fraction), config.max_validation_rows))
        stratify = y if classify and np.bincount(y).min() >= 2 else None
        train, valid = train_test_split(np.arange(n), test_size=n_valid, random_state=seed, stratify=stratify)
        return EvalPlan("holdout", ((order[np.sort(train)], order[np.sort(valid)]),),
                        rung_sizes(len(train), config), rank)
    folds = config.cv if isinstance(config.cv, int) else (
        config.small_data_folds if n < config.small_data_rows else config.folds)
    if n < 2 * folds:
        raise DataError(f"{n} rows are too few for {folds}-fold cross-validation; need at least {2 * folds}")
    if classify and np.bincount(y).min() >= folds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    else:
        if classify:
            logger.warning("A class has fewer than %d rows: folds are not stratified", folds)
        splitter = KFold(folds, shuffle=True, random_state=seed)
    splits = tuple((order[np.sort(tr)], order[np.sort(va)]) for tr, va in splitter.split(np.zeros(n), y))
    return EvalPlan("cv", splits, (min(len(tr) for tr, _ in splits),), rank)


def subsample(train: np.ndarray, y: np.ndarray, n_rows: int, classify: bool, seed: int,
              rank: np.ndarray | None = None) -> np.ndarray:
    """`n_rows` of the training indices, stratified by class where possible; drawn over the
    rows in `rank` order (EvalPlan.rank) when given, and listed in it, so that file order
    does not matter."""
    if n_rows >= len(train):
        return train
    if rank is not None:
        train = train[np.argsort(rank[train], kind="stable")]
    stratify = y[train] if classify and np.bincount(y[train]).min() >= 2 else None
    try:
        kept, _ = train_test_split(train, train_size=n_rows, random_state=seed, stratify=stratify)
    except ValueError:  # a class too rare for the requested size
        kept, _ = train_test_split(train, train_size=n_rows, random_state=seed)
    return kept[np.argsort(rank[kept], kind="stable")] if rank is not None else np.sort(kept)


@dataclass
class Evaluation:
    """What one candidate cost and scored, summed or averaged over folds."""

    scores: list[float] = field(default_factory=list)
    fit_joules: float = 0.0
    predict_joules: float = 0.0
    fit_cpu_s: float = 0.0
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    predicted_rows: int = 0
    memory_joules: float = 0.0
    rounds_used: list[int] = field(default_factory=list)
    chunk_std: float = float("nan")  # holdout only: spread of the score over validation chunks
    # Out-of-fold predictions (probabilities for classifiers), folds in plan order: what
    # ensemble selection combines. Not journaled.
    oof: list = field(default_factory=list, repr=False)
    # The fitted prep -> model pipeline, when the search asked to keep it (one holdout split,
    # above the first rung): the choice can be this model rather than a refit. Not journaled.
    model: Any = field(default=None, repr=False, compare=False)
    status: str = "ok"
    error: str = ""

    @property
    def joules(self) -> float:
        return self.fit_joules + self.predict_joules

    def oof_predictions(self) -> np.ndarray | None:
        """All folds' validation predictions, in plan order (None when a fold is missing)."""
        return np.concatenate(self.oof) if self.oof else None


@dataclass(frozen=True)
class Task:
    """Everything fixed for the whole search that a fold evaluation needs."""

    X: pd.DataFrame
    y: np.ndarray
    task: str
    n_classes: int
    metric: Metric
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    text: tuple[str, ...] = ()  # free-text columns (kiss_automl/text)
    text_model: str | None = None  # the sentence encoder of embed views; None: the default
    text_model_explicit: bool = False  # named by the user: may be downloaded on first use
    # Categoricals of more levels go to the boosters as codes ('native' preprocessing). Only
    # where early stopping sets the rounds (holdout): codes learn slower than native splits,
    # and at a fixed number of rounds they can fall short (benchmarks/CATEGORICAL.md).
    native_max_levels: int | None = None


def make_preprocessor(family: Family, data: Task, params: Mapping[str, Any], context: BuildContext):
    """The family's preprocessing of the typed frame, with the text columns as the candidate's
    `text` parameter says (kiss_automl/text): TF-IDF, an embedding, or left out."""
    from .text import NO_TEXT, TFIDF, split_params

    _, view = split_params(params)
    text = None
    if data.text and family.text_input != "none" and (view or TFIDF) != NO_TEXT:
        from .text.features import TextFeatures

        view = view or TFIDF
        encoder = text_encoder(data, context) if view != TFIDF else None
        text = TextFeatures(data.text, view, family.text_input, data.task, context.random_state, encoder)
    return build_preprocessor(family.preprocessing, data.numeric, data.categorical, data.text, text,
                              native_max_levels=data.native_max_levels)


def text_encoder(data: Task, context: BuildContext):
    """The sentence encoder of the fit (loaded once per process), on the GPU when there is one."""
    from .text import encoder

    return encoder.load(data.text_model, explicit=data.text_model_explicit, device=encoder_device(context.device))


def encoder_device(device: str) -> str:
    if device == "cpu":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def evaluate(family: Family, params: Mapping[str, Any], data: Task, plan: EvalPlan, rung: int,
             context: BuildContext, meter, early_stopping_rounds: int | None,
             timeout: float | None = None, n_jobs: int = 1, keep_model: bool = False) -> Evaluation:
    """Fit and score one configuration on every split at `rung`, measuring each fit and predict.

    A candidate that raises is returned with status 'failed'; one that runs past `timeout`
    seconds is stopped with status 'timeout'. With `n_jobs` > 1 the folds run in threads
    (every model is single-threaded, so the cores are not oversubscribed) and the timeout
    is not enforced. With `keep_model` and one split, the fitted pipeline is kept
    (`Evaluation.model`) when it saw every class.
    """
    result = Evaluation()
    started = time.perf_counter()
    # The top rung trains on all of each split's rows (CV folds differ in size by one row).
    top = rung == len(plan.rungs) - 1
    folds = [(train if top else subsample(train, data.y, plan.rungs[rung], data.task != "regression",
                                          context.random_state, plan.rank), valid)
             for train, valid in plan.splits]
    try:
        if n_jobs != 1 and len(folds) > 1:
            # Threads cannot be interrupted: in parallel the timeout is not enforced.
            y_valid, pred, proba = _parallel_folds(family, params, data, folds, context, meter,
                                                   early_stopping_rounds, result, n_jobs)
        else:
            with time_limit(timeout):
                for train, valid in folds:
                    y_valid, pred, proba = _evaluate_fold(family, params, data, train, valid, context, meter,
                                                          early_stopping_rounds, result,
                                                          keep_model and len(folds) == 1)
                    # Off the main thread there is no timer: the check between folds is the limit.
                    if timeout is not None and time.perf_counter() - started > timeout and \
                            len(result.scores) < len(folds):
                        raise CandidateTimeout()
    except CandidateTimeout:
        result.status = "timeout"
        result.error = f"over the {timeout:g}s trial timeout after {len(result.scores)} of {len(plan.splits)} fold(s)"
        logger.warning("%s: %s", family.name, result.error)
        return result
    except Exception as exc:  # the candidate boundary: any library error becomes a row
        logger.warning("%s failed: %s: %s", family.name, type(exc).__name__, exc)
        result.status, result.error = "failed", one_line(exc)
        return result
    if len(plan.splits) == 1:
        result.chunk_std = _chunk_std(data.metric, y_valid, pred, proba)
    return result


def evaluate_in_worker(family: Family, params: Mapping[str, Any], data: Task, plan: EvalPlan, rung: int,
                       context: BuildContext, meter, early_stopping_rounds: int | None,
                       timeout: float | None = None, n_jobs: int = 1,
                       memory_limit_gib: float | None = None, keep_model: bool = False) -> Evaluation:
    """`evaluate` in a forked worker process, so that running out of memory or crashing in C
    code costs this candidate only: it becomes a 'failed' row (or 'timeout' when the worker
    hangs past the trial timeout in code that no alarm can interrupt).

    The worker measures its own folds as `evaluate` does. A worker that died is charged
    what the meter read around it: the CPU-time meter counts a reaped child's CPU time.
    """
    token, started = meter.start(), time.perf_counter()
    try:
        result = isolation.call_in_worker(
            lambda: evaluate(family, params, data, plan, rung, context, meter, early_stopping_rounds,
                             timeout, n_jobs, keep_model),
            timeout=_hard_deadline(timeout), memory_limit_gib=memory_limit_gib)
    except isolation.WorkerFailed as failure:
        result = Evaluation(status=failure.status, error=str(failure))
        _add(result, meter.stop(token), time.perf_counter() - started, "fit")
    if result.status != "ok":  # the worker logs nothing: its failures are told here
        logger.warning("%s: %s", family.name, result.error)
    return result


def _hard_deadline(timeout: float | None) -> float | None:
    """When the parent kills a worker whose own alarm did not stop it (stuck in C code)."""
    return None if timeout is None else timeout + max(5.0, 0.1 * timeout)


def _chunk_std(metric: Metric, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None,
               chunks: int = 5, repeats: int = 4) -> float:
    """The score's spread over disjoint chunks of one validation set, a cheap error bar.

    Rows go to chunks at random (a fixed seed), not in file order: in a file sorted by the
    target, by date or by id, contiguous chunks differ in kind and the spread would say more
    about the row order than about the model (0.055 R² against 0.002 shuffled, on a 54k-row
    file sorted by price). The variance is pooled over `repeats` random partitions.
    """
    rng = np.random.default_rng(0)
    variances = []
    for _ in range(repeats):
        parts = np.array_split(rng.permutation(len(y)), chunks)
        try:
            scores = [metric.score(y[p], pred[p], None if proba is None else proba[p]) for p in parts]
        except ValueError:  # a chunk with a single class, for AUC
            continue
        variances.append(np.var(scores))
    return float(np.sqrt(np.mean(variances))) if variances else float("nan")


def _evaluate_fold(family, params, data: Task, train, valid, context, meter, rounds, result: Evaluation,
                   keep_model: bool = False):
    from .text import split_params

    prep = make_preprocessor(family, data, params, context)
    model = family.build(split_params(params)[0], context)
    X_train, y_train = data.X.iloc[train], data.y[train]
    X_valid, y_valid = data.X.iloc[valid], data.y[valid]
    classify = data.task != "regression"
    # A subsample can miss a rare class; models see the classes present as 0..m-1
    # (XGBoost insists on it), and probabilities are mapped back to all classes.
    present = np.unique(y_train) if classify else None
    y_fit = np.searchsorted(present, y_train) if classify else y_train

    # Readings are taken in `finally`: a candidate that fails or times out mid-fit still
    # has its energy counted.
    held_out = None  # the validation rows' predictions, when early stopping kept them
    token, started = meter.start(), time.perf_counter()
    try:
        Xt = prep.fit_transform(X_train, y_fit)
        if rounds is not None and family.early_stopping is not None:
            known = np.isin(y_valid, present) if classify else np.ones(len(y_valid), bool)
            Xv = prep.transform(X_valid[known])
            y_stop = np.searchsorted(present, y_valid[known]) if classify else y_valid
            stopped = family.early_stopping(model, Xt, y_fit, Xv, y_stop, rounds)
            result.rounds_used.append(stopped.rounds)
            held_out = stopped.held_out if known.all() else None
        else:
            model.fit(Xt, y_fit)
    finally:
        _add(result, meter.stop(token), time.perf_counter() - started, "fit")

    # With the validation predictions in hand, only a sample is predicted: what a row costs to
    # predict (the leaderboard's inference energy) is still measured, on the model's own code path.
    predicted = X_valid if held_out is None else X_valid.iloc[:PREDICT_SAMPLE_ROWS]
    token, started = meter.start(), time.perf_counter()
    try:
        Xv = prep.transform(predicted)
        scores = model.predict_proba(Xv) if classify else model.predict(Xv)
    finally:
        _add(result, meter.stop(token), time.perf_counter() - started, "predict")
    result.predicted_rows += len(predicted)
    scores = scores if held_out is None else held_out
    if classify:
        proba = np.zeros((len(valid), data.n_classes))
        proba[:, present] = scores
        pred = proba.argmax(axis=1)
    else:
        pred, proba = scores, None
    if keep_model and (not classify or len(present) == data.n_classes):  # classes as the refit's: 0..k-1
        from sklearn.pipeline import Pipeline

        result.model = Pipeline([("prep", prep), ("model", model)])
    result.oof.append((proba if classify else pred).astype(np.float32))
    result.scores.append(data.metric.score(y_valid, pred, proba))
    return y_valid, pred, proba


def _parallel_folds(family, params, data: Task, folds, context, meter, rounds, result: Evaluation, n_jobs: int):
    """Folds in threads; the batch's measured energy is split by each block's CPU time."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from .energy import ThreadCpuClock

    clock = ThreadCpuClock(watts_per_core=1.0)  # provisional: joules == thread CPU-seconds
    parts = [Evaluation() for _ in folds]

    def one(i: int):
        return _evaluate_fold(family, params, data, folds[i][0], folds[i][1], context, clock, rounds, parts[i])

    workers = min(len(folds), n_jobs if n_jobs > 0 else (os.cpu_count() or 1))
    token = meter.start()
    try:
        with ThreadPoolExecutor(workers) as pool:
            outputs = list(pool.map(one, range(len(folds))))
    finally:
        batch = meter.stop(token)
        cpu = sum(p.fit_joules + p.predict_joules for p in parts)
        for part in parts:
            share = (part.fit_joules + part.predict_joules) / cpu if cpu > 0 else 1 / len(parts)
            scale = batch.joules / cpu if cpu > 0 else 0.0
            part.memory_joules = batch.memory_joules * share
            part.fit_joules, part.predict_joules = part.fit_joules * scale, part.predict_joules * scale
            if cpu == 0:
                part.fit_joules = batch.joules * share
            _merge(result, part)
    return outputs[-1]


def _merge(result: Evaluation, part: Evaluation) -> None:
    result.scores += part.scores
    result.rounds_used += part.rounds_used
    result.oof += part.oof
    for name in ("fit_joules", "predict_joules", "fit_cpu_s", "fit_seconds", "predict_seconds", "predicted_rows",
                 "memory_joules"):
        setattr(result, name, getattr(result, name) + getattr(part, name))


def _add(result: Evaluation, reading, seconds: float, stage: str) -> None:
    result.memory_joules += reading.memory_joules
    if stage == "fit":
        result.fit_joules += reading.joules
        result.fit_cpu_s += reading.cpu_seconds
        result.fit_seconds += seconds
    else:
        result.predict_joules += reading.joules
        result.predict_seconds += seconds
