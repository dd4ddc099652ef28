"""KissClassifier and KissRegressor: the search behind the scikit-learn estimator contract."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, column_or_1d, validate_data

from . import config as config_module
from . import engine
from .data import show_label
from .errors import ConfigError, DataError

logger = logging.getLogger(__name__)


class _KissBase(BaseEstimator):
    """Shared parameters, validation and fit; subclasses say how y is read and predicted."""

    _task_kind = ""

    def __init__(self, time_budget: float | None = None, *, energy_budget: float | None = None,
                 max_trials: int | None = None, metric: str | None = None, cv: int | str | None = None,
                 config: Any = "default", n_jobs: int | None = None, random_state=None,
                 country: str | None = None, region: str | None = None, scheduler: Any = None,
                 text_columns: Any = None, text_model: str | None = None):
        self.time_budget = time_budget
        self.energy_budget = energy_budget
        self.max_trials = max_trials
        self.metric = metric
        self.cv = cv
        self.config = config
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.country = country
        self.region = region
        self.scheduler = scheduler
        self.text_columns = text_columns
        self.text_model = text_model

    def __sklearn_clone__(self):
        """A distributed.Client cannot be deep-copied: clones share it (an address is copied)."""
        scheduler = self.scheduler
        if scheduler is None or isinstance(scheduler, str):
            return super().__sklearn_clone__()
        self.scheduler = None
        try:
            clone = super().__sklearn_clone__()
        finally:
            self.scheduler = scheduler
        clone.scheduler = scheduler
        return clone

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, X, y, *, on_event: Callable[..., None] | None = None, meter=None,
            journal=None, whole_file=None) -> "_KissBase":
        """Search the model families for the best model per joule, then refit it on all rows.

        `on_event(name, **info)` receives progress events; `meter` replaces the default
        energy meter (the CLI passes its own, tests a fake one); `journal` (a
        `kiss_automl.journal.Journal`) records candidates and replays those of a stopped run;
        `whole_file` (a `kiss_automl.cluster.refit.WholeFile`, with a scheduler): `X, y` are a
        sample of that CSV, and a LightGBM or XGBoost choice is refit on all its rows on the
        cluster (`fit --refit-whole-file`).
        """
        settings = self._settings()
        scheduler = self.scheduler if self.scheduler is not None else settings.scheduler
        if isinstance(scheduler, str):
            scheduler = config_module.check_scheduler(scheduler)
        ahead = contextlib.nullcontext()
        if scheduler is not None:
            from .cluster import forkserver, require

            require()  # before any work: the dask extra may be missing
            # A `local:N` cluster's server imports while the data is checked and typed (forkserver.py).
            ahead = forkserver.ahead_of(scheduler)
        with ahead:
            return self._fit(X, y, settings, scheduler, on_event, meter, journal, whole_file)

    def _fit(self, X, y, settings, scheduler, on_event, meter, journal, whole_file) -> "_KissBase":
        frame, y = self._validate_fit(X, y)
        y_encoded, task = self._encode_target(y)
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        intensity = self._carbon()
        gpu_meter = _gpu_meter() if meter is None else None
        # CO2 counts the facility's energy: what the computer used times the PUE.
        grams_per_joule = intensity.g_per_kwh * settings.pue / 3.6e6
        if whole_file is not None:
            if scheduler is None:
                raise ConfigError("a refit on the whole file runs on a Dask cluster: give a scheduler")
            whole_file = whole_file.with_classes(getattr(self, "classes_", None) if task != "regression" else None)
        outcome = engine.run(frame, y_encoded, task, settings, seed, meter or _default_meter(),
                             grams_per_joule, on_event, journal, gpu_meter, scheduler=scheduler,
                             whole_file=whole_file)
        self.model_ = outcome.model
        self.leaderboard_ = outcome.leaderboard
        self.task_ = task
        self.metric_ = outcome.summary["metric"]
        self.stop_reason_ = outcome.result.stop_reason
        self.best_family_ = outcome.result.selected.family
        self.best_params_ = dict(outcome.result.selected.params)
        self.best_score_ = outcome.result.selected.score
        self.notes_ = outcome.notes
        self.search_summary_ = {**outcome.summary, "carbon_intensity": {
            "g_per_kwh": intensity.g_per_kwh, "country": intensity.country, "region": intensity.region,
            "source": intensity.source}, "pue": settings.pue}
        return self

    def _settings(self) -> config_module.SearchConfig:
        base = config_module.load(self.config)
        return base.replace(time_budget=self.time_budget, energy_budget=self.energy_budget,
                            max_trials=self.max_trials, metric=self.metric, cv=self.cv, n_jobs=self.n_jobs,
                            text_columns=self.text_columns, text_model=self.text_model)

    def _carbon(self):
        from .energy import carbon_intensity

        return carbon_intensity(self.country, self.region)

    def _validate_fit(self, X, y) -> tuple[pd.DataFrame, np.ndarray]:
        if getattr(X, "shape", (2,))[0] == 1:
            raise DataError("Got 1 sample; a search needs at least two rows per fold")
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, y, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"Found array with shape {X.shape}; at least 1 sample and 1 feature are required")
            y = column_or_1d(y, warn=True)
            if len(y) != len(X):
                raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
            return X.reset_index(drop=True), y
        X, y = validate_data(self, X, y, dtype=None, ensure_all_finite=False, accept_sparse=False,
                             y_numeric=self._task_kind == "regression")
        return _array_frame(X), y

    def _validate_predict(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=False, skip_check_array=True)
            return X.reset_index(drop=True)
        X = validate_data(self, X, reset=False, dtype=None, ensure_all_finite=False, accept_sparse=False)
        # Fitted on a frame, given an array (scikit-learn warns): the columns are taken in fit's order.
        return _array_frame(X, getattr(self, "feature_names_in_", None))


def _array_frame(X: np.ndarray, names=None) -> pd.DataFrame:
    """An array as a frame with `names` (x0..xN by default); object arrays become numbers when they are."""
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except ValueError:  # real strings: the column typer deals with them
            pass
    return pd.DataFrame(X, columns=list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])])


def _default_meter():
    """The CPU meter (RAPL or the CPU-time model): what CPU-only candidates are charged."""
    from .energy import make_meter

    return make_meter(use_gpu=False)


def _gpu_meter():
    """CPU and GPU counters together where NVML sees a GPU, else None."""
    from .energy import CompositeMeter, make_meter

    meter = make_meter()
    return meter if isinstance(meter, CompositeMeter) else None


class KissClassifier(ClassifierMixin, _KissBase):
    """Simple-first AutoML classifier: cheapest good model, energy measured for every candidate.

    Parameters
    ----------
    time_budget : float, optional
        Seconds of search; None takes the configuration's (600 by default).
    energy_budget : float, optional
        Joules the candidates may spend.
    max_trials : int, optional
        Candidates to evaluate at most.
    metric : str, optional
        accuracy (default), balanced_accuracy, f1, roc_auc or log_loss.
    cv : int or 'auto' or 'holdout', optional
        Folds of cross-validation; 'auto' uses a holdout split for large data.
    config : str, path, dict or SearchConfig, default 'default'
        A preset ('default', 'fast', 'thorough'), a YAML file or a mapping of settings.
    n_jobs : int, optional
        Parallel workers (1, the default, is the most frugal on small machines).
    random_state : int, RandomState or None
        Seed of splits, samplers and models.
    country, region : str, optional
        Where the energy is used, for the carbon intensity (world average by default).
    scheduler : str or distributed.Client, optional
        Run the candidates on a Dask cluster (the `dask` extra): a scheduler's address
        ('tcp://host:8786'), 'local:N' (N single-threaded worker processes started for this
        fit) or a Client. None: in this process, or the config's `scheduler`.
    text_columns : 'auto', list of str or [], optional
        Free-text columns: detected ('auto'), named, or none ([]). None: the config's.
    text_model : str, optional
        Sentence encoder for the text (a folder or a model name; the `text` extra).

    Attributes
    ----------
    classes_, leaderboard_, best_family_, best_params_, best_score_, stop_reason_,
    search_summary_, model_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = KissClassifier(max_trials=5, random_state=0).fit(X, y)
    >>> clf.leaderboard_[["family", "score", "fit_energy_j"]].shape[1]
    3
    """

    _task_kind = "classification"

    def _encode_target(self, y) -> tuple[np.ndarray, str]:
        y = pd.Series(y)
        if y.isna().any():  # before the type checks, which fail on NaN among strings
            raise DataError(f"The target has {int(y.isna().sum())} missing value(s); drop those rows first")
        with engine.task_decided():  # a classifier was asked for: sklearn's guess at regression is noise
            check_classification_targets(y)
        encoder = LabelEncoder().fit(y.to_numpy())
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise DataError(f"The target has one class only ({show_label(self.classes_[0])}); "
                            "a classifier needs at least two classes")
        return encoder.transform(y.to_numpy()).astype(np.int64), (
            "binary" if len(self.classes_) == 2 else "multiclass")

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of `classes_`."""
        frame = self._validate_predict(X)
        return self.model_.predict_proba(frame)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class KissRegressor(RegressorMixin, _KissBase):
    """Simple-first AutoML regressor; the parameters are those of :class:`KissClassifier`
    (metric: r2 by default, rmse or mae).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> reg = KissRegressor(max_trials=5, random_state=0).fit(X, y)
    >>> round(reg.best_score_, 1) > 0
    True
    """

    _task_kind = "regression"

    def _encode_target(self, y) -> tuple[np.ndarray, str]:
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise DataError("The target has missing or infinite values; drop those rows first")
        return y, "regression"

    def predict(self, X) -> np.ndarray:
        """Predicted values."""
        frame = self._validate_predict(X)
        return np.asarray(self.model_.predict(frame), dtype=np.float64)
