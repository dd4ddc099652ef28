"""Per-family preprocessing of the typed frame (numeric floats + pandas categoricals).

- 'onehot'  (linear, MLP): median-impute with missing indicators, scale, one-hot encode.
- 'ordinal' (forests, baseline): category codes; missing values stay NaN for the trees.
- 'native'  (LightGBM, XGBoost): the frame itself, categoricals kept, columns renamed
  f0..fN because LightGBM refuses names with JSON characters.
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


class NativeFrame(TransformerMixin, BaseEstimator):
    """The frame with positional column names; pandas categoricals pass through."""

    def fit(self, X: pd.DataFrame, y=None) -> "NativeFrame":
        self.columns_ = [str(c) for c in X.columns]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        frame = X[self.columns_].copy(deep=False)
        frame.columns = [f"f{i}" for i in range(len(self.columns_))]
        return frame


def build_preprocessor(kind: str, numeric: Sequence[str], categorical: Sequence[str]):
    """An unfitted transformer for `kind` over the typed frame's columns."""
    if kind == "ordinal":
        return CategoryCodes()
    if kind == "native":
        return NativeFrame()
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
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
