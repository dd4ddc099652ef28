"""The final refit on the cluster, for a file larger than the driver's memory.

The search ran on a uniform sample of the file (`fit --sample-rows`); the chosen LightGBM or
XGBoost configuration is then trained on every row through `lightgbm.dask` / `xgboost.dask`,
on a Dask DataFrame the workers read with `dask.dataframe.read_csv`. The driver never holds
the file: each partition is typed and preprocessed on its worker by the column typer and the
family's preprocessing fitted on the sample. The trained booster comes back as a local model,
so the saved pipeline predicts without a cluster. Its energy is the workers' CPU-seconds over
the refit (the CPU-time model, each worker's constant) plus the driver's own reading.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
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


def refit(client, whole: WholeFile, family, params: dict, context, typer, prep) -> tuple[Any, RefitFigures]:
    """`family`'s model with `params` trained on every row of `whole` on the cluster of
    `client`, as a local (picklable) estimator, with what it read and cost."""
    from .task import process_figures

    before = client.run(process_figures)
    frame = client.persist(_prepared(whole, typer, prep))  # our client: it need not be the default one
    try:
        counts = client.compute(frame[list(_COUNTED)].sum()).result()
    except (DataError, KissError):
        raise
    except Exception as exc:  # noqa: BLE001 - the workers' parser: a ragged row, a missing file
        raise DataError(f"{whole.path} could not be read for the refit on the cluster: {one_line(exc, 200)}") \
            from None
    rows = int(counts["__kept__"])
    if rows == 0:
        raise DataError(f"No row of {whole.path} keeps a usable target for the refit on the cluster")
    kept = frame[frame["__kept__"] == 1]
    X = kept[[c for c in frame.columns if c != _TARGET and c not in _COUNTED]]
    y = kept[_TARGET]
    local = family.build(params, context)
    with client.as_current(), warnings.catch_warnings():  # the trainers wait on the current client
        # lightgbm.dask sets each worker's threads itself, and says so for any n_jobs it is given.
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        try:
            model = _train(client, family.name, local, X, y)
        except Exception as exc:  # noqa: BLE001 - one line; the journal keeps the search for --resume
            raise KissError(f"The refit of {family.name} on the cluster failed: {one_line(exc, 200)}") from None
    after = client.run(process_figures)
    cpu_s, joules = _workers_spent(before, after)
    return model, RefitFigures(rows, frame.npartitions, int(counts["__missing__"]), int(counts["__unknown__"]),
                               cpu_s, joules)


def add_up(figures: list[RefitFigures]) -> RefitFigures:
    """A blend's members, each refit on the whole file: the rows once, the energy of all."""
    first = figures[0]
    return dataclasses.replace(first, workers_cpu_s=sum(f.workers_cpu_s for f in figures),
                               workers_j=sum(f.workers_j for f in figures))


def _prepared(whole: WholeFile, typer, prep):
    """The file as model input, partition by partition on the workers: features f0..fN as the
    search's preprocessing made them, the target as the estimator encodes it, and per row
    whether it is kept (a target that is missing or a class the sample lacked is not)."""
    import dask.dataframe as dd

    try:
        raw = dd.read_csv(whole.path, sep=whole.delimiter, encoding=whole.encoding, dtype=object,
                          na_values=MISSING_TOKENS, keep_default_na=True,
                          compression=whole.compression or None,
                          blocksize=None if whole.compression else "64MB")
    except Exception as exc:  # noqa: BLE001 - a worker-side read error names the file, in one line
        raise DataError(f"{whole.path} could not be read for the refit on the cluster: {one_line(exc, 200)}") from None
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in (*whole.features, whole.target)})
    meta = _prepare_partition(empty, whole, typer, prep)
    return raw.map_partitions(_prepare_partition, whole, typer, prep, meta=meta)


def _prepare_partition(frame: pd.DataFrame, whole: WholeFile, typer, prep) -> pd.DataFrame:
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
            return trainer.fit(X, y).to_local()
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
