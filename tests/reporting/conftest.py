"""A real fit's output folder, made once per session, for the report's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kiss_automl.cli import main

from ..conftest import DATASETS


@pytest.fixture(scope="session")
def fit_dir(tmp_path_factory) -> Path:
    """credit-approval with the default search: it stops at a plateau."""
    out = tmp_path_factory.mktemp("runs") / "credit"
    assert main(["fit", str(DATASETS / "credit-approval.csv"), "--target", "class", "--out", str(out),
                 "--quiet", "--pue", "1.25", "--country", "FR"]) == 0
    return out


@pytest.fixture
def fit_copy(fit_dir, tmp_path) -> Path:
    """A copy of the fit's folder that a test may damage."""
    return Path(shutil.copytree(fit_dir, tmp_path / "copy"))


@pytest.fixture
def fit_with_failure(fit_copy) -> Path:
    """The fit's folder with a failed candidate added at the end of its leaderboard."""
    board = pd.read_csv(fit_copy / "leaderboard.csv")
    failed = board.iloc[[-1]].copy()
    failed[["rank", "score", "score_std"]] = None
    failed["trial"] = board["trial"].max() + 1
    failed[["family", "status", "error", "selected"]] = ["xgboost", "failed", "MemoryError: out of memory", False]
    pd.concat([board, failed]).to_csv(fit_copy / "leaderboard.csv", index=False)
    return fit_copy
