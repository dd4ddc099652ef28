"""The public suite's datasets: manifest rows, loading and the one fixed split.

Protocol (the same as shared/datasets/PEERS.md): drop the rows whose target is
missing; one split, ``train_test_split(test_size=0.25, random_state=seed)``,
stratified on the target for classification.

Imports only the standard library at module level, so the peers' venv (which
has no kiss-automl) can run it too.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = Path(os.environ.get("KISS_BENCH_DATA", HERE.parent.parent / "shared" / "datasets"))
if not DEFAULT_DATA_DIR.is_dir():  # the repository sits at /work/main, the data at /work/shared
    DEFAULT_DATA_DIR = Path("/work/shared/datasets")

QUICK = ["blood-transfusion", "diabetes", "credit-g", "kc1", "vehicle"]
TEST_SIZE = 0.25


def manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> dict[str, dict]:
    """MANIFEST.csv as {name: row}, in file order; `path` is added to each row."""
    data_dir = Path(data_dir)
    with open(data_dir / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for row in rows:
        row["path"] = str(data_dir / row["file"])
        row["rows"], row["cols"] = int(row["rows"]), int(row["cols"])
        out[row["name"]] = row
    return out


def load(row: dict):
    """(X, y) of one dataset: features as read by pandas, rows without a target dropped."""
    import pandas as pd

    frame = pd.read_csv(row["path"])
    frame = frame[frame[row["target"]].notna()].reset_index(drop=True)
    y = frame.pop(row["target"])
    return frame, y


def split(X, y, task: str, seed: int):
    """X_train, X_test, y_train, y_test: the fixed 75/25 split of the protocol."""
    from sklearn.model_selection import train_test_split

    stratify = y if task != "regression" else None
    return train_test_split(X, y, test_size=TEST_SIZE, random_state=seed, stratify=stratify)


def safe_names(columns) -> list[str]:
    """Column names LightGBM/FLAML accept (no JSON characters), unique, in order."""
    out, seen = [], set()
    for i, name in enumerate(columns):
        base = re.sub(r"[^0-9A-Za-z_]+", "_", str(name)).strip("_") or f"col{i}"
        cand = base
        while cand in seen:
            cand = f"{base}_{i}"
        seen.add(cand)
        out.append(cand)
    return out
