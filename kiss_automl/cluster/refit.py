"""The top rung and the final refit on the cluster, for a file larger than the driver's memory.

The search ran on a uniform sample of the file (`fit --sample-rows`). Its finalists, LightGBM
or XGBoost configurations, then go up one more rung, the whole file (`try_on_file`): each is
trained on every row but a held-out share, with more boosting rounds than the sample could
use, and the rounds kept are those that score best on the held-out rows. The winner is then
trained on every row (`refit`). Both run through `lightgbm.dask` / `xgboost.dask`, on a Dask
DataFrame the workers read with `dask.dataframe.read_csv`. The driver never holds the file,
only the held-out rows (at most `max_validation_rows`): each partition is typed and
preprocessed on its worker by the column typer and the family's preprocessing fitted on the
sample. The trained booster comes back as a local model, so the saved pipeline predicts
without a cluster. Energy is the workers' CPU-seconds over each step (the CPU-time model, each
worker's constant) plus the driver's own reading.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..data import MISSING_TOKENS
from ..errors import DataError, KissError, one_line

# Families with a Dask trainer: their choice can be refit on the whole file.
TRAINERS = ("lightgbm", "xgboost")
_TARGET = "__kiss_target__"
_COUNTED = ("__kept__", "__missing__", "__unknown__")  # per row: trained on, or left out and why
_DRAW = "__draw__"  # per row: a uniform draw, seeded per partition; below the held-out share: held out
_BOOKKEEPING = (_TARGET, *_COUNTED, _DRAW)
# On the whole file a booster may use more rounds than the sample's early stopping found: about
# as the square root of the rows (more rows carry more structure before the trees fit noise),
# doubled while the held-out loss still falls at the last round, at most this many times as
# many. The held-out rows say how many of them pay.
MAX_ROUNDS_GROWTH = 4.0
_PREFIXES = 100  # held-out losses read along the rounds: every rounds/100-th round
_BOOLEANS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}


@dataclasses.dataclass(frozen=True)
class WholeFile:
    """The CSV a sample was drawn from, as the driver read it (`commands._whole_file`)."""

    path: str
    target: str
    delimiter: str
    encoding: str
    compression: str | None
    features: tuple[str, ...]  # feature columns, in the order the sample had them
    numeric: tuple[str, ...]  # those the sample read as numbers
    booleans: tuple[str, ...]  # those it read as True/False
    decimal_comma: bool  # ';'-separated: "1,5" is a number, as data.read_csv reads it
    classes: tuple | None = None  # labels in the estimator's order; None: regression

    def with_classes(self, classes) -> "WholeFile":
        return dataclasses.replace(self, classes=None if classes is None else tuple(classes))


@dataclasses.dataclass
class RefitFigures:
    """What the cluster refit read and spent, for run.json and the summary."""

    rows: int  # rows trained on
    partitions: int
    dropped_missing_target: int
    dropped_unknown_class: int
    workers_cpu_s: float
    workers_j: float
    rung: list = dataclasses.field(default_factory=list)  # the RungTrials that chose the configuration
    held_out_rows: int = 0  # of the whole file, that the rung scored on


@dataclasses.dataclass
class RungTrial:
    """A finalist on the whole file's rung: trained on every row but the held-out ones."""

    family: str
    trial: int  # its row on the leaderboard (the sample's search)
    sample_score: float
    trained_rows: int
    held_out_rows: int
    rounds_trained: int
    rounds_kept: int  # those that scored best on the held-out rows
    score: float  # the search's metric on the held-out rows, at rounds_kept
    workers_cpu_s: float
    workers_j: float
    partitions: int
    dropped_missing_target: int
    dropped_unknown_class: int
    passes: int = 1  # trainings: each after the first with twice the rounds (`more_rounds`)


def grown_rounds(rounds: int, sample_rows: int, file_rows: int) -> int:
    """The rounds a booster may use on `file_rows` rows when early stopping found `rounds` on a
    sample of `sample_rows`: about as the square root of the rows, at most MAX_ROUNDS_GROWTH x."""
    growth = min(max(math.sqrt(file_rows / max(sample_rows, 1)), 1.0), MAX_ROUNDS_GROWTH)
    return max(1, int(math.ceil(rounds * growth)))


def held_out_share(rows: int, share: float, max_rows: int) -> float:
    """The share of the file's rows held out to score the rung: `share`, at most `max_rows` rows
    (the search's validation_fraction and max_validation_rows), so the driver can hold them."""
    return min(share, max_rows / max(rows, 1))


def try_on_file(client, whole: WholeFile, family, params: dict, context, typer, prep, *, metric, seed: int,
                sample_rows: int, share: float, max_held_out: int, tol: float, trial: int,
                sample_score: float) -> tuple[RungTrial, Any]:
    """`family` with `params` on the whole file's rung: trained on every kept row but a held-out
    share, with its rounds grown for the file's rows (`grown_rounds`, `more_rounds`), then
    scored on the held-out rows at each prefix of those rounds; the prefix with the lowest loss
    is kept.
    Returns the trial and the model cut to that prefix (a local model)."""
    from .task import process_figures

    before = client.run(process_figures)
    frame = client.persist(_prepared(whole, typer, prep, seed))
    counts = _counts(client, frame, whole)
    rows = int(counts["__kept__"])
    cut = held_out_share(rows, share, max_held_out)
    kept = frame[frame["__kept__"] == 1]
    held = kept[_DRAW] < cut
    train, valid = kept[~held], kept[held]
    X_valid, y_valid = client.compute([_features(valid), valid[_TARGET]], sync=True)
    if len(y_valid) == 0 or len(y_valid) == rows:
        raise DataError(f"{whole.path} has too few rows ({rows}) to hold some out for the rung on the whole file")
    trained = rows - len(y_valid)
    sample_rounds = int(params[family.rounds_param])
    total, passes = grown_rounds(sample_rounds, sample_rows, rows), 0
    while total is not None:
        local = family.build({**params, family.rounds_param: total}, context)
        model = _train_quietly(client, family.name, local, _features(train), train[_TARGET])
        kept_rounds, score, at_half = _best_prefix(model, family.name, X_valid, y_valid.to_numpy(), metric,
                                                   whole.classes)
        trained_rounds, passes = total, passes + 1
        total = more_rounds(trained_rounds, kept_rounds, sample_rounds,
                            gain=metric.signed(score) - metric.signed(at_half), tol=tol)
    cpu_s, joules = _workers_spent(before, client.run(process_figures))
    return (RungTrial(family.name, trial, sample_score, trained, len(y_valid), trained_rounds, kept_rounds, score,
                      cpu_s, joules, frame.npartitions, int(counts["__missing__"]), int(counts["__unknown__"]),
                      passes),
            truncated(model, family.name, kept_rounds))


def more_rounds(trained: int, kept: int, sample_rounds: int, gain: float, tol: float) -> int | None:
    """The rounds of another pass, which costs about twice the energy of this one: twice as
    many, when the last prefix scored best (the held-out loss was still falling when the rounds
    ran out) and the last doubling of rounds bought more than `tol` of the metric (the search's
    plateau rule, on the same rows), up to MAX_ROUNDS_GROWTH x the sample's rounds; else None."""
    cap = max(1, int(math.ceil(sample_rounds * MAX_ROUNDS_GROWTH)))
    if kept < trained or trained >= cap or not gain > tol:
        return None
    return min(2 * trained, cap)


def truncated(model, family_name: str, rounds: int):
    """The local model with only its first `rounds` boosting rounds."""
    if rounds >= _rounds_of(model, family_name):
        return model
    if family_name == "lightgbm":
        import lightgbm

        model._Booster = lightgbm.Booster(model_str=model.booster_.model_to_string(num_iteration=rounds))
        return model
    out = type(model)(**model.get_params())
    out.load_model(bytearray(model.get_booster()[:rounds].save_raw("ubj")))
    return out


def refit(client, whole: WholeFile, family, params: dict, context, typer, prep) -> tuple[Any, RefitFigures]:
    """`family`'s model with `params` trained on every row of `whole` on the cluster of
    `client`, as a local (picklable) estimator, with what it read and cost."""
    from .task import process_figures

    before = client.run(process_figures)
    frame = client.persist(_prepared(whole, typer, prep))  # our client: it need not be the default one
    counts = _counts(client, frame, whole)
    kept = frame[frame["__kept__"] == 1]
    model = _train_quietly(client, family.name, family.build(params, context), _features(kept), kept[_TARGET])
    cpu_s, joules = _workers_spent(before, client.run(process_figures))
    return model, RefitFigures(int(counts["__kept__"]), frame.npartitions, int(counts["__missing__"]),
                               int(counts["__unknown__"]), cpu_s, joules)


def add_up(figures: list[RefitFigures]) -> RefitFigures:
    """A blend's members, each refit on the whole file: the rows once, the energy (and the rung
    trials) of all."""
    first = figures[0]
    return dataclasses.replace(first, workers_cpu_s=sum(f.workers_cpu_s for f in figures),
                               workers_j=sum(f.workers_j for f in figures),
                               rung=[trial for f in figures for trial in f.rung])


def _counts(client, frame, whole: WholeFile):
    """Rows kept and left out (and why): the first computation on the file, so the workers'
    read errors surface here, in one line."""
    try:
        counts = client.compute(frame[list(_COUNTED)].sum()).result()
    except (DataError, KissError):
        raise
    except Exception as exc:  # noqa: BLE001 - the workers' parser: a ragged row, a missing file
        raise DataError(f"{whole.path} could not be read on the cluster: {one_line(exc, 200)}") from None
    if int(counts["__kept__"]) == 0:
        raise DataError(f"No row of {whole.path} keeps a usable target for training on the cluster")
    return counts


def _features(frame):
    return frame[[c for c in frame.columns if c not in _BOOKKEEPING]]


def _train_quietly(client, family_name: str, local, X, y):
    with client.as_current(), warnings.catch_warnings():  # the trainers wait on the current client
        # lightgbm.dask sets each worker's threads itself, and says so for any n_jobs it is given.
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        try:
            return _train(client, family_name, local, X, y)
        except Exception as exc:  # noqa: BLE001 - one line; the journal keeps the search for --resume
            raise KissError(f"Training {family_name} on the cluster failed: {one_line(exc, 200)}") from None


def _prepared(whole: WholeFile, typer, prep, seed: int = 0):
    """The file as model input, partition by partition on the workers: features f0..fN as the
    search's preprocessing made them, the target as the estimator encodes it, per row whether
    it is kept (a target that is missing or a class the sample lacked is not), and a uniform
    draw that decides the held-out rows: the same rows for every read with the same seed."""
    import dask.dataframe as dd

    try:
        raw = dd.read_csv(whole.path, sep=whole.delimiter, encoding=whole.encoding, dtype=object,
                          na_values=MISSING_TOKENS, keep_default_na=True,
                          compression=whole.compression or None,
                          blocksize=None if whole.compression else "64MB")
    except Exception as exc:  # noqa: BLE001 - a worker-side read error names the file, in one line
        raise DataError(f"{whole.path} could not be read on the cluster: {one_line(exc, 200)}") from None
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in (*whole.features, whole.target)})
    meta = _prepare_partition(empty, whole, typer, prep, seed)
    return raw.map_partitions(_prepare_partition, whole, typer, prep, seed, meta=meta)


def _prepare_partition(frame: pd.DataFrame, whole: WholeFile, typer, prep, seed: int = 0,
                       partition_info: dict | None = None) -> pd.DataFrame:
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in (*whole.features, whole.target) if c not in frame.columns]
    if missing:
        raise DataError(f"{whole.path} lacks the column(s) {missing} that the sample had")
    X = frame[list(whole.features)].copy()
    for column in whole.numeric:
        values = X[column]
        if whole.decimal_comma:
            values = values.str.replace(",", ".", regex=False)
        X[column] = pd.to_numeric(values, errors="coerce")
    for column in whole.booleans:  # pandas' own spellings of a boolean column
        X[column] = X[column].map(_BOOLEANS).astype(object)
    features = prep.transform(typer.transform(X.reset_index(drop=True)))
    if not isinstance(features, pd.DataFrame):
        features = pd.DataFrame(np.asarray(features, dtype=np.float32))
    features.columns = [f"f{i}" for i in range(features.shape[1])]
    target = frame[whole.target].reset_index(drop=True)
    missing_target = target.isna()
    encoded = pd.to_numeric(target, errors="coerce") if whole.classes is None else \
        _encode_labels(target, whole.classes)
    unknown = encoded.isna() & ~missing_target
    features[_TARGET] = encoded.fillna(0).to_numpy(dtype=np.float64 if whole.classes is None else np.int64)
    features["__kept__"] = (~missing_target & ~unknown).astype(np.int64).to_numpy()
    features["__missing__"] = missing_target.astype(np.int64).to_numpy()
    features["__unknown__"] = unknown.astype(np.int64).to_numpy()
    number = (partition_info or {}).get("number", 0)  # dask says which partition this is
    features[_DRAW] = np.random.default_rng([seed, number]).random(len(features))
    return features


def _encode_labels(target: pd.Series, classes: tuple) -> pd.Series:
    """Class indices in the estimator's order; NaN for a label the sample did not have."""
    if all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in classes):
        index = {float(c): i for i, c in enumerate(classes)}
        return pd.to_numeric(target, errors="coerce").map(index)
    index = {str(c): i for i, c in enumerate(classes)}
    return target.map(index)


def _train(client, family_name: str, local, X, y):
    """The Dask trainer of `local`'s class with its parameters, its model brought back local."""
    params = local.get_params()
    classify = hasattr(local, "predict_proba")
    if family_name == "lightgbm":
        from lightgbm.dask import DaskLGBMClassifier, DaskLGBMRegressor

        params.pop("n_jobs", None)  # each worker trains with its own threads
        trainer = (DaskLGBMClassifier if classify else DaskLGBMRegressor)(**params, client=client)
        with contextlib.redirect_stdout(io.StringIO()):  # its "Finding random open ports" print
            trained = trainer.fit(X, y).to_local()
        # As `local`'s class, the search's, which predicts a large model a block of rounds at a
        # time (families/lightgbm_models.py); to_local() gives LightGBM's own.
        model = type(local).__new__(type(local))
        model.__dict__.update(trained.__dict__)
        return model
    if family_name == "xgboost":
        import xgboost
        from xgboost import dask as xgb_dask

        trainer = (xgb_dask.DaskXGBClassifier if classify else xgb_dask.DaskXGBRegressor)(**params)
        trainer.client = client
        trainer.fit(X, y)
        out = (xgboost.XGBClassifier if classify else xgboost.XGBRegressor)(**params)
        out.load_model(bytearray(trainer.get_booster().save_raw("ubj")))
        return out
    raise KissError(f"{family_name} has no Dask trainer; these do: {', '.join(TRAINERS)}")


def _best_prefix(model, family_name: str, X: pd.DataFrame, y: np.ndarray, metric,
                 classes) -> tuple[int, float, float]:
    """The rounds (a prefix of the model's trees) with the lowest held-out loss, the metric's
    score there, and its score at half the rounds (what the last doubling of rounds bought).
    The margins are summed range by range, so reading every prefix costs about one prediction
    of all the trees; the loss is the one early stopping watches in the search (log loss,
    squared error), so the rung decides rounds as the sample's search did."""
    total = _rounds_of(model, family_name)
    step = max(1, math.ceil(total / _PREFIXES))
    ends = list(range(step, total, step)) + [total]
    half = min(ends, key=lambda end: abs(end - total / 2))
    margin, best, at_half = None, None, None
    for end, part in zip(ends, _margin_parts(model, family_name, X, ends)):
        margin = part if margin is None else margin + part
        loss, proba, pred = _loss(margin, y, classes)
        if best is None or loss < best[0]:
            best = (loss, end, proba, pred)
        if end == half:
            at_half = float(metric.score(y, pred, proba))
    _, kept, proba, pred = best
    return kept, float(metric.score(y, pred, proba)), at_half


def _rounds_of(model, family_name: str) -> int:
    if family_name == "lightgbm":
        return int(model.booster_.current_iteration())
    return int(model.get_booster().num_boosted_rounds())


def _margin_parts(model, family_name: str, X: pd.DataFrame, ends: list[int]):
    """The raw scores (margins) that each range of trees [previous end, end) adds; the first
    range's include the model's base score: LightGBM keeps it in its first trees; XGBoost adds
    it to any range unless a base margin of zeros replaces it, so its two matrices (with and
    without that zero margin) are built once for all the ranges."""
    starts = [0, *ends[:-1]]
    if family_name == "lightgbm":
        for start, end in zip(starts, ends):
            yield np.asarray(model.booster_.predict(X, raw_score=True, start_iteration=start,
                                                    num_iteration=end - start))
        return
    import xgboost

    booster = model.get_booster()
    first = np.asarray(booster.predict(xgboost.DMatrix(X, enable_categorical=True), output_margin=True,
                                       iteration_range=(0, ends[0])))
    yield first
    if len(ends) > 1:
        unbased = xgboost.DMatrix(X, enable_categorical=True, base_margin=np.zeros(first.shape, dtype=np.float32))
        for start, end in zip(starts[1:], ends[1:]):
            yield np.asarray(booster.predict(unbased, output_margin=True, iteration_range=(start, end)))


def _loss(margin: np.ndarray, y: np.ndarray, classes) -> tuple[float, np.ndarray | None, np.ndarray]:
    """Held-out loss of margins, and the probabilities and predictions they give: log loss for
    classes (the sigmoid of one margin, the softmax of several), squared error for values."""
    if classes is None:
        return float(np.mean((margin - y) ** 2)), None, margin
    if margin.ndim == 1:
        positive = 1.0 / (1.0 + np.exp(-margin))
        proba = np.column_stack([1.0 - positive, positive])
    else:
        shifted = np.exp(margin - margin.max(axis=1, keepdims=True))
        proba = shifted / shifted.sum(axis=1, keepdims=True)
    picked = np.clip(proba[np.arange(len(y)), y.astype(np.int64)], 1e-15, 1.0)
    return float(-np.mean(np.log(picked))), proba, proba.argmax(axis=1)


def _workers_spent(before: dict, after: dict) -> tuple[float, float]:
    """CPU-seconds and joules of the workers between two readings; a worker that restarted
    in between counts from its own start."""
    from .task import cpu_since

    cpu = joules = 0.0
    for address, end in after.items():
        spent = max(cpu_since(before.get(address), end), 0.0)
        cpu += spent
        joules += spent * end["watts_per_core"]
    return cpu, joules
