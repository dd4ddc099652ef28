"""Per-family preprocessing of the typed frame (numeric floats + pandas categoricals).

- 'onehot'  (linear, MLP): median-impute with missing indicators, scale, one-hot encode.
- 'ordinal' (forests, baseline): category codes; missing values stay NaN for the trees.
- 'native'  (LightGBM, XGBoost): the frame itself, categoricals kept, columns renamed
  f0..fN because LightGBM refuses names with JSON characters. A categorical of more than
  MAX_NATIVE_LEVELS levels goes in as its codes instead (see NativeFrame).

Free-text columns, when there are any, go through `TextFeatures` (kiss_automl/text) beside
the above, as the family takes them (`Family.text_input`): `WithText` joins the two.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

# One-hot widths stay bounded: rare levels pool into one "infrequent" column.
MAX_ONEHOT_CATEGORIES = 32


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Numeric columns as they are, categorical columns as their codes; NaN stays NaN."""

    def fit(self, X: pd.DataFrame, y=None) -> "CategoryCodes":
        self.columns_ = [str(c) for c in X.columns]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        out = np.empty((len(X), len(self.columns_)), dtype=np.float32)
        for i, column in enumerate(self.columns_):
            values = X[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                codes = values.cat.codes.to_numpy().astype(np.float32)
                codes[codes < 0] = np.nan
                out[:, i] = codes
            else:
                out[:, i] = values.to_numpy(dtype=np.float32, na_value=np.nan)
        return out


# Above this many levels a booster sees a categorical as its codes (in the sorted order of its
# levels), not as a native categorical, where early stopping sets the rounds (holdout mode:
# Task.native_max_levels). Native splits sort a column's levels by their gradient statistics
# at every node: with hundreds of levels that fits noise, and early stopping then ends the
# boosting before the codes stop gaining. On 7 design tables (benchmarks/CATEGORICAL.md) an
# early-stopped LightGBM gained +0.11 points as a median with codes above 32 levels (worst
# -0.19), none above 128: +0.00. 32 is also LightGBM's max_cat_threshold.
MAX_NATIVE_LEVELS = 32


class NativeFrame(TransformerMixin, BaseEstimator):
    """The frame with positional column names; pandas categoricals pass through, but those of
    more than `max_levels` levels, which become their codes (NaN for missing)."""

    def __init__(self, max_levels: int | None = None):
        self.max_levels = max_levels

    def fit(self, X: pd.DataFrame, y=None) -> "NativeFrame":
        self.columns_ = [str(c) for c in X.columns]
        self.coded_ = [c for c in self.columns_ if self.max_levels is not None
                       and isinstance(X[c].dtype, pd.CategoricalDtype)
                       and len(X[c].cat.categories) > self.max_levels]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        frame = X[self.columns_].copy(deep=False)
        for column in getattr(self, "coded_", ()):  # models saved before coded_ existed code nothing
            codes = frame[column].cat.codes.to_numpy().astype(np.float32)
            codes[codes < 0] = np.nan
            frame[column] = codes
        frame.columns = [f"f{i}" for i in range(len(self.columns_))]
        return frame


class WithText(TransformerMixin, BaseEstimator):
    """`base` over the typed frame's other columns, `text` (a TextFeatures, or None to leave
    the text out) over its `text_columns`, side by side: a frame gains the text features as
    columns, an array gains them as columns too (sparse when the text features are)."""

    def __init__(self, base, text, text_columns: Sequence[str] = ()):
        self.base = base
        self.text = text
        self.text_columns = text_columns

    def fit(self, X: pd.DataFrame, y=None) -> "WithText":
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None):
        # fit_transform, never fit then transform: the text scores are out-of-fold on these rows.
        self.text_columns_ = [str(c) for c in self.text_columns]
        base = self.base.fit_transform(X.drop(columns=self.text_columns_), y)
        return base if self.text is None else _join(base, self.text.fit_transform(X[self.text_columns_], y))

    def transform(self, X: pd.DataFrame):
        check_is_fitted(self, "text_columns_")
        base = self.base.transform(X.drop(columns=self.text_columns_))
        return base if self.text is None else _join(base, self.text.transform(X[self.text_columns_]))


def _join(base, text):
    import scipy.sparse as sp

    if isinstance(base, pd.DataFrame):
        if sp.issparse(text):
            text = text.toarray()
        names = [f"f{base.shape[1] + i}" for i in range(text.shape[1])]
        return pd.concat([base, pd.DataFrame(text, index=base.index, columns=names)], axis=1)
    if sp.issparse(text):
        return sp.hstack([sp.csr_matrix(base, dtype=np.float32), text], format="csr")
    return np.hstack([np.asarray(base, dtype=np.float32), text])


def build_preprocessor(kind: str, numeric: Sequence[str], categorical: Sequence[str],
                       text_columns: Sequence[str] = (), text=None, native_max_levels: int | None = None):
    """An unfitted transformer for `kind` over the typed frame's columns. With `text_columns`,
    `text` (an unfitted TextFeatures, or None to leave them out) turns those into features.
    `native_max_levels`: for 'native', categoricals of more levels become codes (None: none)."""
    base = _base_preprocessor(kind, numeric, categorical, native_max_levels)
    return WithText(base, text, tuple(text_columns)) if text_columns else base


def _base_preprocessor(kind: str, numeric: Sequence[str], categorical: Sequence[str],
                       native_max_levels: int | None = None):
    if kind == "ordinal":
        return CategoryCodes()
    if kind == "native":
        return NativeFrame(max_levels=native_max_levels)
    if kind == "onehot":
        return _onehot(list(numeric), list(categorical))
    raise ValueError(f"Unknown preprocessing kind {kind!r}")


def _onehot(numeric: list[str], categorical: list[str]):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if numeric:
        numeric_steps = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )
        parts.append(("numeric", numeric_steps, numeric))
    if categorical:
        encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONEHOT_CATEGORIES,
                                sparse_output=False, dtype=np.float32)
        parts.append(("categorical", encoder, categorical))
    if not parts:  # only text columns: they come in beside this, through WithText
        return _NoColumns()
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


class _NoColumns(TransformerMixin, BaseEstimator):
    """No feature: what one-hot encoding gives a frame whose every column is text."""

    def fit(self, X, y=None) -> "_NoColumns":
        self.fitted_ = True
        return self

    def transform(self, X) -> np.ndarray:
        return np.zeros((len(X), 0), dtype=np.float32)
