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
TEXT_COLUMNS = ("family", "params", "error", "phase", "status")
WHOLE_COLUMNS = ("trial", "rung", "n_rows")  # a row without them cannot be placed
# run.json's figures the report computes with: (section, key) must be a number.
REQUIRED_NUMBERS = (("energy", "candidates_j"), ("carbon_intensity", "g_per_kwh"), ("selected", "score"))


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
    return FitRecord(folder, run, _checked_board(folder))


def _checked_board(folder: Path) -> pd.DataFrame:
    """The leaderboard with its types as written: text, numbers (a damaged cell becomes
    missing), whole numbers where a row is placed by them; rows in trial order."""
    board = persist.read_table(folder, required=REQUIRED_BOARD_COLUMNS)
    path = folder / persist.BOARD_FILE
    if board.empty:
        raise ModelFormatError(f"{path} is damaged: it lists no candidate")
    for column in board.columns:
        if column in TEXT_COLUMNS:
            board[column] = board[column].astype(object).fillna("").astype(str)
        elif column != "selected":
            board[column] = pd.to_numeric(board[column], errors="coerce")
    bad = [c for c in WHOLE_COLUMNS if board[c].isna().any()]
    if bad:
        raise ModelFormatError(f"{path} is damaged: {', '.join(bad)} must be numbers on every row")
    board["selected"] = board["selected"].astype(str).str.lower().isin(("true", "1"))
    return board.sort_values("trial", kind="stable").reset_index(drop=True)


def _read_run(folder: Path) -> dict[str, Any]:
    path = folder / persist.RUN_FILE
    if not path.is_file():
        raise ModelFormatError(f"{folder} is not a kiss-automl output folder (no {persist.RUN_FILE})")
    if (folder / persist.META_FILE).is_file():
        persist.read_meta(folder)  # refuses another model format, naming its version
    run = persist.read_json_object(path)
    missing = [key for key in REQUIRED_RUN_KEYS if not isinstance(run.get(key), (dict, str))]
    missing += [f"{section}.{key}" for section, key in REQUIRED_NUMBERS
                if isinstance(run.get(section), dict) and not _is_number(run[section].get(key))]
    if missing:
        version = run.get("kiss_automl_version", "an unknown version")
        raise ModelFormatError(f"{path} lacks {', '.join(missing)}: it is damaged, or was written by kiss-automl "
                               f"{version} in a form this report cannot read")
    return run


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
