"""Free text or not: several words per value and many distinct values.

A categorical has few distinct values; an ID-like column has unique single-token values
(codes, hashes, URLs, e-mail addresses), so requiring several words keeps those out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the estimate's stdlib scan reads the constants without importing pandas
    import pandas as pd

#: Mean whitespace-separated words per value from which a column reads as prose.
MIN_MEAN_WORDS = 3.0
#: Share of distinct values among the non-missing ones from which a wordy column is text;
#: below it the column repeats a few phrases ("UNKNOWN BIRD - MEDIUM") and is categorical.
MIN_DISTINCT_SHARE = 0.3
#: Fewer distinct values than this are always categories, however wordy.
MIN_DISTINCT = 50
_SAMPLE = 2000


def looks_like_text(values: pd.Series) -> bool:
    """Whether a column of strings (missing values allowed) holds free text."""
    valid = values.dropna()
    if valid.nunique() < MIN_DISTINCT:  # blanks left out below only lower it: never text
        return False
    valid = valid[valid.str.strip() != ""]
    if len(valid) == 0:
        return False
    sample = valid.iloc[:_SAMPLE]
    if sample.str.split().str.len().mean() < MIN_MEAN_WORDS:
        return False
    distinct = valid.nunique()
    return distinct >= MIN_DISTINCT and distinct >= MIN_DISTINCT_SHARE * len(valid)
