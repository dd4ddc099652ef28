"""Reading a fit's output folder for the report: run.json and leaderboard.csv, checked.

The report reads files, never the engine's objects, so it works on any finished or
interrupted fit, from this version or an older one that wrote the same format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import persist
from ..errors import ModelFormatError

# What the report reads from run.json; a folder without these cannot be reported on.
REQUIRED_RUN_KEYS = ("task", "metric", "stop_reason", "selected", "evaluation", "energy", "co2_g",
                     "carbon_intensity", "time")
REQUIRED_BOARD_COLUMNS = ("rank", "trial", "family", "rung", "params", "score", "score_std", "fit_energy_j",
                          "predict_energy_j_per_1k", "co2_g", "fit_time_s", "n_rows", "status", "error",
                          "selected", "phase", "cumulative_energy_j", "estimated_energy_j")


@dataclass(frozen=True)
class FitRecord:
    """What one fit's folder says: its run record and its leaderboard (in trial order)."""

    folder: Path
    run: dict[str, Any]
    board: pd.DataFrame

    @property
    def greater_is_better(self) -> bool:
        from ..metrics import METRICS

        metric = METRICS.get(self.run["metric"])
        return metric.greater_is_better if metric else True


def read_folder(model_dir: str | Path) -> FitRecord:
    """The run record and leaderboard of `model_dir`, refusing what is not a readable fit."""
    folder = Path(model_dir)
    if not folder.exists():
        raise ModelFormatError(f"{folder} does not exist; give the folder `kiss-automl fit --out` wrote")
    if not folder.is_dir():
        raise ModelFormatError(f"{folder} is not a folder; give the folder `kiss-automl fit --out` wrote")
    run = _read_run(folder)
    board = persist.read_table(folder, required=REQUIRED_BOARD_COLUMNS)
    for text in ("params", "error", "phase"):
        board[text] = board[text].astype(object).fillna("").astype(str)
    board["selected"] = board["selected"].astype(str).str.lower().isin(("true", "1"))
    board = board.sort_values("trial", kind="stable").reset_index(drop=True)
    return FitRecord(folder, run, board)


def _read_run(folder: Path) -> dict[str, Any]:
    path = folder / persist.RUN_FILE
    if not path.is_file():
        raise ModelFormatError(f"{folder} is not a kiss-automl output folder (no {persist.RUN_FILE})")
    if (folder / persist.META_FILE).is_file():
        persist.read_meta(folder)  # refuses another model format, naming its version
    run = persist.read_json_object(path)
    missing = [key for key in REQUIRED_RUN_KEYS if not isinstance(run.get(key), (dict, str))]
    if missing:
        version = run.get("kiss_automl_version", "an unknown version")
        raise ModelFormatError(f"{path} lacks {', '.join(missing)}: it is damaged, or was written by kiss-automl "
                               f"{version} in a form this report cannot read")
    return run
