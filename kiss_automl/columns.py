"""Column typing: decide once, at fit, what every input column is, and apply it the same way.

:class:`ColumnTyper` is the first step of every pipeline. It turns a raw table
(a DataFrame read from CSV, or an array) into float64 numeric columns and pandas
``category`` columns with categories fixed at fit, dropping columns that cannot
help (all missing, constant, ID-like).


library's ``typing`` reachable everywhere, including here.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from kiss_automl.data import _preview, parse_numbers
from kiss_automl.errors import DataError
from kiss_automl.text.detect import looks_like_text

logger = logging.getLogger(__name__)

NUMERIC, BOOLEAN, CATEGORICAL, DATETIME, TEXT = "numeric", "boolean", "categorical", "datetime", "text"
#: Text values longer than this are cut (with a note): longer prose adds little to word
#: counts and would only cost memory and time.
MAX_TEXT_CHARS = 10_000

#: ID-like checks only run on columns with at least this many non-missing values.
ID_MIN_ROWS = 50
#: Share of values that must parse as dates for a text column to be read as dates.
DATE_MIN_SHARE = 0.95
#: Share of values that must parse as numbers for a text column to be read as numbers
#: (the rest, a stray "unknown" or "-", become missing).
NUMBER_MIN_SHARE = 0.95
#: Values checked before committing to a (costly) full-column parse.
_SAMPLE = 1000
_DATE_PARTS = ("year", "month", "day", "dayofweek")
_DT_ATTR = {"dayofweek": "day_of_week"}  # output name -> pandas accessor
# Integer columns with such names and all-unique values are identifiers.
_ID_NAME = re.compile(r"(?i:^(id|idx|index|key|uuid|guid|row_?(id|num|number)?|unnamed: ?\d+)$"
                      r"|[_\s.-]id$)|[a-z0-9]I[dD]$")
_TRUE = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0}


class ColumnTyper(TransformerMixin, BaseEstimator):
    """Learn a kind for each column and output a clean, consistently typed DataFrame.

    Kinds are numeric, boolean, categorical, datetime and text. The output has the
    numeric columns first (float64; booleans as 0/1; dates expanded to
    ``<col>__year``, ``__month``, ``__day``, ``__dayofweek`` and ``__hour`` when
    they carry a time), then the categorical columns (``category`` dtype with
    the categories seen at fit; unseen values become missing), then the free-text
    columns (strings; missing text is the empty string; see :mod:`kiss_automl.text`).

    Parameters
    ----------
    id_like_threshold : float, default 0.95
        A text column whose share of distinct values among its non-missing
        values is at least this is ID-like and dropped (when it has at least
        :data:`ID_MIN_ROWS` values).
    max_categories : int, default 1000
        Keep at most this many categories per column, the most frequent ones;
        rarer values become missing.
    text_columns : "auto", list of str, or empty list, default "auto"
        Free-text columns: "auto" detects them (several words per value, many distinct
        values: :func:`kiss_automl.text.detect.looks_like_text`); a list names them (and
        only them); an empty list treats none as text (such columns are then typed as
        before: usually dropped as ID-like).

    Attributes
    ----------
    feature_names_in_ : numpy.ndarray of str
        Input column names (``x0``, ``x1``, ... for arrays).
    n_features_in_ : int
        Number of input columns.
    kinds_ : dict of str to str
        Kind of every kept input column, in input order.
    dropped_ : dict of str to str
        Dropped input column -> reason.
    categories_ : dict of str to list of str
        Categories of every categorical column.
    datetime_formats_ : dict of str to str
        strptime format (or "ISO8601") of date columns parsed from text; "" for
        columns that already had a datetime dtype.
    datetime_parts_ : dict of str to list of str
        Parts extracted from every datetime column.
    numeric_columns_, categorical_columns_, text_columns_ : list of str
        Output column names, numeric, categorical, then text.
    notes_ : list of str
        One-line human notes on what was decided.
    """

    def __init__(self, *, id_like_threshold: float = 0.95, max_categories: int = 1000, text_columns="auto"):
        self.id_like_threshold = id_like_threshold
        self.max_categories = max_categories
        self.text_columns = text_columns

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None) -> "ColumnTyper":
        """Learn the kind of every column of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray or list of rows
            The training features.
        y : ignored

        Returns
        -------
        ColumnTyper
            This fitted typer.

        Raises
        ------
        DataError
            If ``X`` has no rows, duplicate column names, or no usable column.
        """
        frame = _as_frame(X)
        if len(frame) == 0:
            raise DataError("The data has no rows; expected at least one row to learn column types")
        self.feature_names_in_ = np.array(list(frame.columns), dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.kinds_, self.dropped_, self.notes_ = {}, {}, []
        self.categories_, self.datetime_formats_, self.datetime_parts_ = {}, {}, {}
        forced = self._forced_text(frame)
        for name in frame.columns:
            if name in forced:
                self._fit_text(name, frame[name], forced=True)
            else:
                self._fit_column(name, frame[name])
        if not self.kinds_:
            reasons = "; ".join(f"'{c}': {r}" for c, r in list(self.dropped_.items())[:10])
            raise DataError(f"No usable feature column: all were dropped ({reasons}); "
                            "expected at least one informative column")
        self.numeric_columns_, self.categorical_columns_, self.text_columns_ = self._output_columns()
        clashes = sorted({c for c in self.numeric_columns_ if self.numeric_columns_.count(c) > 1})
        if clashes:  # a column named like another's date part, e.g. 'd__year' beside dates 'd'
            raise DataError(f"The column(s) {', '.join(repr(c) for c in clashes)} have the name of a "
                            "date part made from another column; rename them")
        for note in self.notes_:
            logger.info(note)
        return self

    def _fit_column(self, name: str, s: pd.Series) -> None:
        n_valid = int(s.notna().sum())
        if n_valid == 0:
            return self._drop(name, "all values are missing")
        kind, values, fmt = _detect_kind(s)
        infinite = unreadable = 0
        if kind == NUMERIC and values.dtype.kind in "fc":
            readable = int(values.notna().sum())
            unreadable = n_valid - readable
            values = _to_float(values)
            if np.isnan(values).all():
                return self._drop(name, "all values are missing or infinite")
            infinite = int(readable - (~np.isnan(values)).sum())
        if kind == CATEGORICAL and self.text_columns == "auto" and not isinstance(s.dtype, pd.CategoricalDtype) \
                and looks_like_text(values):
            return self._fit_text(name, s, forced=False)
        # One counting pass serves the checks and the categories.
        counts = values.value_counts(dropna=True, sort=False) if kind == CATEGORICAL else None
        reason = self._drop_reason(name, kind, values, n_valid, counts)
        if reason:
            return self._drop(name, reason)
        self.kinds_[name] = kind
        if infinite:
            self.notes_.append(f"Column '{name}': {infinite} infinite value(s) read as missing")
        if kind == NUMERIC and not pd.api.types.is_numeric_dtype(s):
            self.notes_.append(f"Column '{name}' holds numbers stored as text; read as numeric"
                               + (f"; {unreadable} value(s) that are not numbers read as missing"
                                  if unreadable else ""))
        elif kind == DATETIME:
            self._fit_datetime(name, values, fmt)
        elif kind == CATEGORICAL:
            self._fit_categories(name, counts)

    def _forced_text(self, frame: pd.DataFrame) -> set[str]:
        """The columns the user named as text; one line for a name that is not there."""
        if isinstance(self.text_columns, str):
            if self.text_columns != "auto":
                raise DataError(f"text_columns must be 'auto' or a list of column names; got {self.text_columns!r}")
            return set()
        names = [str(c) for c in self.text_columns]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"Text column(s) {', '.join(repr(c) for c in missing)} not in the data; "
                            f"its columns are: {_preview(list(frame.columns))}")
        return set(names)

    def _fit_text(self, name: str, s: pd.Series, forced: bool) -> None:
        if forced and (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise DataError(f"Column '{name}' holds numbers, not text; only columns of text can be typed as text")
        values = _text_values(s)
        if not (values.str.strip() != "").any():
            return self._drop(name, "its text is empty or missing in every row")
        self.kinds_[name] = TEXT
        how = "as asked" if forced else "several words per value, many distinct values"
        self.notes_.append(f"Column '{name}' holds free text ({how}); read as text")
        longest = int(values.str.len().max())
        if longest > MAX_TEXT_CHARS:
            cut = int((values.str.len() > MAX_TEXT_CHARS).sum())
            self.notes_.append(f"Column '{name}': {cut} value(s) longer than {MAX_TEXT_CHARS:,} characters "
                               f"(up to {longest:,}) cut to that length")

    def _drop(self, name: str, reason: str) -> None:
        self.dropped_[name] = reason
        self.notes_.append(f"Dropped column '{name}': {reason}")

    def _drop_reason(self, name: str, kind: str, values, n_valid: int,
                     counts: pd.Series | None) -> str | None:
        """Why a column cannot help (constant, ID-like), or None."""
        if (len(counts) <= 1) if counts is not None else _is_constant(values):
            return "constant (a single distinct value)"
        if n_valid < ID_MIN_ROWS:
            return None
        if counts is not None and len(counts) >= self.id_like_threshold * n_valid:
            return f"ID-like ({len(counts) / n_valid:.0%} of its values are distinct)"
        if kind == NUMERIC and _is_integer_id(name, values):
            return "ID-like (unique integers that look like a row number or identifier)"
        return None

    def _fit_datetime(self, name: str, parsed: pd.Series, fmt: str) -> None:
        self.datetime_formats_[name] = fmt
        parts = list(_DATE_PARTS)
        dt = parsed.dt
        if ((dt.hour != 0) | (dt.minute != 0) | (dt.second != 0)).any():
            parts.append("hour")
        self.datetime_parts_[name] = parts
        how = f" (format {fmt})" if fmt else ""
        self.notes_.append(f"Column '{name}' holds dates{how}; expanded to "
                           + ", ".join(f"{name}__{p}" for p in parts))

    def _fit_categories(self, name: str, counts: pd.Series) -> None:
        if len(counts) > self.max_categories:
            # Most frequent first; ties broken by value so the choice is reproducible.
            order = np.lexsort((counts.index.to_numpy(dtype=object).astype(str),
                                -counts.to_numpy()))
            counts = counts.iloc[order[: self.max_categories]]
            self.notes_.append(
                f"Column '{name}' has {len(order)} categories; kept the "
                f"{self.max_categories} most frequent, the rest become missing")
        self.categories_[name] = sorted(str(c) for c in counts.index)

    def _output_columns(self) -> tuple[list[str], list[str], list[str]]:
        numeric, categorical, text = [], [], []
        for name, kind in self.kinds_.items():
            if kind == DATETIME:
                numeric.extend(f"{name}__{p}" for p in self.datetime_parts_[name])
            elif kind == CATEGORICAL:
                categorical.append(name)
            elif kind == TEXT:
                text.append(name)
            else:
                numeric.append(name)
        return numeric, categorical, text

    # ------------------------------------------------------------------ transform

    def fit_transform(self, X, y=None) -> pd.DataFrame:
        """Fit, then type the same rows; what fit already noted is not said again."""
        return self.fit(X)._transform(X, note=False)

    def transform(self, X) -> pd.DataFrame:
        """Apply the learned kinds to ``X``.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray or list of rows
            Columns are matched by name; arrays must have as many columns as at fit
            and are matched by position. Extra columns and columns dropped at fit
            are ignored.

        Returns
        -------
        pandas.DataFrame
            :attr:`numeric_columns_` as float64, then :attr:`categorical_columns_`
            as ``category``, with the index of ``X``.

        Raises
        ------
        DataError
            If a column the model needs is missing.
        """
        return self._transform(X, note=True)

    def _transform(self, X, note: bool) -> pd.DataFrame:
        check_is_fitted(self, "kinds_")
        frame = self._align(X)
        out: dict[str, object] = {}
        for name, kind in self.kinds_.items():
            s = frame[name]
            if kind == NUMERIC:
                out[name] = _to_float(s) if pd.api.types.is_numeric_dtype(s) else _to_float(
                    _noted(name, s, parse_numbers(s).to_numpy(dtype=np.float64), "numbers", note))
            elif kind == BOOLEAN:
                out[name] = _noted(name, s, _bool_to_float(s), "true/false values", note)
            elif kind == DATETIME:
                out.update(self._datetime_columns(name, s, note))
        for name in self.categorical_columns_:
            out[name] = self._categorical(name, frame[name], note)
        for name in getattr(self, "text_columns_", ()):  # models saved before text had none
            out[name] = _text_values(frame[name]).str.slice(0, MAX_TEXT_CHARS).to_numpy(dtype=object)
        return pd.DataFrame(out, index=frame.index, columns=self.get_feature_names_out(),
                            copy=False)

    def _align(self, X) -> pd.DataFrame:
        """``X`` as a frame with the fit-time names, checking the needed columns are there."""
        if not isinstance(X, pd.DataFrame):
            arr = X if isinstance(X, np.ndarray) else np.asarray(X, dtype=object)
            n_cols = arr.shape[1] if arr.ndim == 2 else -1
            if n_cols != self.n_features_in_:
                raise DataError(f"The data has {n_cols} columns; the model was trained on "
                                f"{self.n_features_in_}")
            return _as_frame(X, names=list(self.feature_names_in_))
        frame = _as_frame(X)
        missing = [c for c in self.kinds_ if c not in frame.columns]
        if missing:
            listed = ", ".join(f"'{c}'" for c in missing[:20])
            noun = "column" if len(missing) == 1 else "columns"
            raise DataError(f"The {noun} {listed} {'is' if len(missing) == 1 else 'are'} "
                            f"missing from the data; the model was trained on: "
                            f"{_preview(list(self.kinds_))}")
        extra = [c for c in frame.columns
                 if c not in self.kinds_ and c not in self.dropped_]
        if extra:
            logger.info("Ignoring %d column(s) unknown at fit: %s", len(extra), _preview(extra))
        return frame

    def _datetime_columns(self, name: str, s: pd.Series, note: bool) -> dict[str, np.ndarray]:
        parsed = _parse_dates(s, self.datetime_formats_[name])
        _noted(name, s, np.where(parsed.isna(), np.nan, 0.0), "dates in the fit's format", note)
        dt = parsed.dt
        return {f"{name}__{p}": _to_float(getattr(dt, _DT_ATTR.get(p, p)))
                for p in self.datetime_parts_[name]}

    def _categorical(self, name: str, s: pd.Series, note: bool) -> pd.Categorical:
        values = _as_text(s)
        categories = pd.Index(self.categories_[name], dtype="str")
        # Codes, not values: pandas deprecates values outside the given categories.
        codes = categories.get_indexer(values)
        cat = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
        unseen = int(((codes == -1) & values.notna().to_numpy()).sum())
        if unseen and note:
            logger.info("Column '%s': %d value(s) unseen at fit (or rare) read as missing",
                        name, unseen)
        return cat

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: numeric columns, then categorical ones.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn compatibility.

        Returns
        -------
        numpy.ndarray of str
        """
        check_is_fitted(self, "kinds_")
        return np.array(self.numeric_columns_ + self.categorical_columns_ + list(getattr(self, "text_columns_", ())),
                        dtype=object)


# ---------------------------------------------------------------------- helpers


def _as_frame(X, names: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame with string column names, without copying a DataFrame's data."""
    if isinstance(X, pd.DataFrame):
        frame = X
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    else:
        arr = X if isinstance(X, np.ndarray) else np.asarray(X, dtype=object)
        if arr.ndim != 2:
            raise DataError(f"Expected a 2-D table of features; got an array with "
                            f"{arr.ndim} dimension(s)")
        names = names or [f"x{i}" for i in range(arr.shape[1])]
        frame = pd.DataFrame(arr, columns=names)
        if arr.dtype == object:
            frame = frame.infer_objects()
    dupes = frame.columns[frame.columns.duplicated()].unique().tolist()
    if dupes:
        raise DataError(f"The data has duplicate column names ({_preview(dupes)}); "
                        "expected every column name once")
    return frame


def _detect_kind(s: pd.Series) -> tuple[str, pd.Series, str]:
    """The kind of a column, its values converted for the checks that follow, its date format.

    Text is numeric when at least :data:`NUMBER_MIN_SHARE` of it parses as numbers (written
    plainly or with thousands separators, a currency or a percent sign), datetime when at least
    :data:`DATE_MIN_SHARE` of it parses with one date format, categorical otherwise.
    Samples are tried first so that most columns cost one full-column pass.
    """
    if pd.api.types.is_bool_dtype(s):
        return BOOLEAN, s, ""
    if pd.api.types.is_datetime64_any_dtype(s):
        return DATETIME, s, ""
    if pd.api.types.is_numeric_dtype(s):
        return NUMERIC, s, ""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return CATEGORICAL, _as_text(s), ""  # the user said so
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        return BOOLEAN, s, ""
    valid = s.dropna()
    sample = valid.iloc[:_SAMPLE]
    if _share(sample, lambda values: parse_numbers(values).notna()) >= NUMBER_MIN_SHARE:
        numbers = parse_numbers(s)
        if numbers.notna().sum() >= NUMBER_MIN_SHARE * len(valid):
            return NUMERIC, numbers, ""
    fmt = _date_format(_as_text(sample))
    if fmt is not None:
        parsed = _parse_dates(s, fmt)
        if parsed.notna().sum() >= DATE_MIN_SHARE * len(valid):
            return DATETIME, parsed, fmt
    return CATEGORICAL, _as_text(s), ""


def _date_format(sample: pd.Series) -> str | None:
    """A date format that parses at least :data:`DATE_MIN_SHARE` of a text sample, or None.

    Only formats with a year and a month qualify, so month names, weekdays
    and ranges such as "1-2" stay categorical.
    """
    if len(sample) == 0:
        return None
    candidates = []
    for value in sample.iloc[:5]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "Parsing dates in ... format"
                fmt = guess_datetime_format(str(value).strip(), dayfirst=dayfirst)
            has_year_month = fmt and re.search("%[Yy]", fmt) and re.search("%[mbB]", fmt)
            if has_year_month and fmt not in candidates:
                candidates.append(fmt)
    if _share(sample, lambda values: values.str.contains(r"\d{4}-\d{1,2}", regex=True)) >= DATE_MIN_SHARE:
        candidates.append("ISO8601")  # mixes of ISO dates and date-times (bare years parse too: "2020")
    best, best_share = None, 0.0
    for fmt in candidates:
        share = _share(sample, lambda values: _parse_dates(values, fmt).notna())
        if share > best_share:
            best, best_share = fmt, share
    return best if best_share >= DATE_MIN_SHARE else None


def _parse_dates(s: pd.Series, fmt: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    # No format: the column had a datetime dtype at fit but arrives as text now,
    # so parse each value ("mixed") rather than guess one format for all.
    # utc=True: mixed offsets would otherwise fail; naive values are kept as they are.
    return pd.to_datetime(_as_text(s), format=fmt or "mixed", errors="coerce", utc=True)


def _share(sample: pd.Series, holds) -> float:
    """The share of `sample` (no missing values) where the elementwise test `holds` is true,
    tested once per distinct value: most columns repeat a few values, and parsing text is
    most of what typing a column costs (kr-vs-kp, 36 columns of 3,196 rows: 0.20 CPU-s when
    every value was parsed, 0.09 now; the 22 suite files: 1.40 -> 0.98, the same types)."""
    if len(sample) == 0:
        return float("nan")
    codes, distinct = pd.factorize(sample)
    return float(np.asarray(holds(pd.Series(distinct, dtype=sample.dtype)), dtype=bool)[codes].mean())


def _is_constant(values) -> bool:
    """At most one distinct non-missing value; min/max avoids hashing every value."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if s.dtype == object or pd.api.types.is_bool_dtype(s):
        return s.nunique(dropna=True) <= 1
    return bool(s.min() == s.max())


def _is_integer_id(name: str, values) -> bool:
    """Unique, complete integers that are a row counter (step 1) or named like an identifier."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_integer_dtype(s) or s.hasnans:
        return False
    if _ID_NAME.search(name):
        return bool(s.is_unique)
    return bool(s.is_monotonic_increasing and (np.diff(s.to_numpy()) == 1).all())


def _to_float(values) -> np.ndarray:
    """float64 values with infinities as NaN."""
    if isinstance(values, pd.Series):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        out = np.asarray(values, dtype=np.float64)
    inf = np.isinf(out)
    # np.where, not in-place: ``out`` may be a view of the caller's data.
    return np.where(inf, np.nan, out) if inf.any() else out


def _noted(name: str, s: pd.Series, values: np.ndarray, what: str, note: bool) -> np.ndarray:
    """`values` (s converted); when asked, say how many present values could not be read."""
    if note:
        lost = int((np.isnan(values) & s.notna().to_numpy() & (_as_text(s).str.strip() != "").to_numpy()).sum())
        if lost:
            logger.info("Column '%s': %d value(s) that are not %s read as missing", name, lost, what)
    return values


def _bool_to_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(s):
        return _to_float(s)
    text = _as_text(s).str.strip().str.lower()
    return text.map(_TRUE).to_numpy(dtype=np.float64, na_value=np.nan)


def _text_values(s: pd.Series) -> pd.Series:
    """Free text as Python strings, missing as the empty string."""
    return _as_text(s).astype(object).where(s.notna().to_numpy(), "")


def _as_text(s: pd.Series) -> pd.Series:
    """Values as strings (missing kept missing), so categories compare the same at fit and later.

    Integer-valued floats are written as integers: a code read as 1 in one file
    and as 1.0 in another (where the column has a missing value) is the same category.
    """
    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        text = _as_text(pd.Series(s.cat.categories)).to_numpy(dtype=object)
        codes = s.cat.codes.to_numpy()
        return pd.Series(np.where(codes >= 0, text[codes], np.nan), index=s.index, dtype="str")
    if s.dtype.kind == "f":
        finite = s[np.isfinite(s)]
        if (finite == np.round(finite)).all() and (finite.abs() < 2**53).all():
            return s.where(np.isfinite(s)).astype("Int64").astype("str")
    return s.astype("str")
