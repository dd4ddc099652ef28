"""A fitted estimator as a fit's folder, so the report reads it as it reads any other fit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import persist, run_record
from .folder import FitRecord, read_folder


def estimator_record(estimator) -> FitRecord:
    """Write `estimator`'s run record and leaderboard to a temporary folder and read them back."""
    summary = estimator.search_summary_
    data = {"csv": None, "target": None, "rows": summary.get("n_rows"),
            "columns": getattr(estimator, "n_features_in_", None)}
    run = run_record.build(estimator, data, command=f"{type(estimator).__name__}.fit (Python)")
    with tempfile.TemporaryDirectory(prefix="kiss-report-") as folder:
        persist.write_json(Path(folder) / persist.RUN_FILE, run)
        estimator.leaderboard_.to_csv(Path(folder) / persist.BOARD_FILE, index=False)
        record = read_folder(folder)
    return FitRecord(Path(f"a {type(estimator).__name__} fitted in Python"), record.run, record.board)
