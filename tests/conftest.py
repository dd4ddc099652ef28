"""Shared fixtures: a fake energy meter whose figures are exact, and small real data."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest

from kiss_automl.energy import Reading

DATASETS = Path(__file__).resolve().parent.parent / "datasets"

# A search small enough for unit tests: cheap families, few trials, no plateau surprises.
TINY = {"families": ["baseline", "linear", "lightgbm"], "max_trials": 4, "tol": 0.0, "small_data_folds": 2,
        "folds": 2, "always_probe": [], "noise_aware": False}


class FakeMeter:
    """Each measured block costs `joules_per_block` J: exact, whatever the machine does."""

    def __init__(self, joules_per_block: float = 1.0):
        self.joules_per_block = joules_per_block
        self.blocks = 0

    def start(self):
        return None

    def stop(self, token) -> Reading:
        self.blocks += 1
        return Reading(joules=self.joules_per_block, cpu_seconds=0.0, wall_seconds=0.0, memory_joules=0.0,
                       method="fake", scope="process", constants={"watts_per_core": 1.0})


@pytest.fixture
def fake_meter() -> FakeMeter:
    return FakeMeter()


@pytest.fixture(scope="session")
def credit() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(DATASETS / "credit-approval.csv")
    return frame.drop(columns=["class"]), frame["class"]


@pytest.fixture(scope="session")
def abalone() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(DATASETS / "abalone.csv")
    return frame.drop(columns=["Class_Rings"]), frame["Class_Rings"]


@pytest.fixture
def dask_required():
    """The cluster tests: skipped without the dask extra, failed in CI (which sets
    KISS_AUTOML_REQUIRE_DASK=1 and installs it), so that CI never counts a skip as a pass."""
    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("pyarrow") is None:
        if os.environ.get("KISS_AUTOML_REQUIRE_DASK"):
            pytest.fail("the dask extra is missing and KISS_AUTOML_REQUIRE_DASK is set: pip install '.[dask]'")
        pytest.skip("the dask extra is not installed (pip install '.[dask]')")
