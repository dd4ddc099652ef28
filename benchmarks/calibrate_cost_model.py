"""Fit the cost model's constants (kiss_automl/cost_model.py) to measured leaderboards.

    python benchmarks/calibrate_cost_model.py RUN_DIR [RUN_DIR ...]

Each RUN_DIR is a `kiss-automl fit` output folder (its run.json names the CSV and target). For
every family: per_fit and per_unit (and per_step) minimising the squared log error (a factor
of 2 off counts as much for a 2 J candidate as for a 200 J one), per_row_predict as the median of measured/size. It prints the fitted
constants, and how far the current model and the fitted one are from the measurements (median
and 90th percentile of |log2(estimate / measured)|, one unit = a factor of 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from kiss_automl import cost_model
from kiss_automl.columns import ColumnTyper
from kiss_automl.data import read_csv, split_target


def candidates(run_dir: Path) -> pd.DataFrame:
    run = json.loads((run_dir / "run.json").read_text())
    X, y = split_target(read_csv(run["data"]["csv"]), run["data"]["target"])
    typer = ColumnTyper().fit(X)
    typed = typer.transform(X)
    columns, width = cost_model.feature_counts(typed, typer.categorical_columns_)
    board = pd.read_csv(run_dir / "leaderboard.csv")
    board = board[(board["status"] == "ok") & (board["family"] != "ensemble")].copy()
    n_rows, folds = run["data"]["rows"], run["evaluation"]["splits"]
    predict_rows = n_rows - run["evaluation"]["n_train"] if folds == 1 else n_rows // folds
    board["classes"] = 0 if run["task"] == "regression" else int(pd.Series(y).nunique())
    board["folds"], board["columns"], board["width"], board["predict_rows"] = folds, columns, width, predict_rows
    board["patience"] = run["config"]["early_stopping_rounds"] if run["evaluation"]["mode"] == "holdout" else 0
    board["dataset"] = run_dir.name
    return board


def shapes(row) -> list[cost_model.Shape]:
    patience = int(row.patience) if row.family in ("lightgbm", "xgboost") else 0
    return [cost_model.Shape(int(row.n_rows), int(row.predict_rows), int(row.columns), int(row.width),
                             int(row.classes), patience)] * int(row.folds)


def _work(cost, rows: pd.DataFrame, what: str) -> np.ndarray:
    return np.array([sum(getattr(cost, what)(json.loads(r.params), s) for s in shapes(r)) for r in rows.itertuples()])


def fit_family(rows: pd.DataFrame, family: str) -> cost_model.FamilyCost:
    cost = cost_model.COSTS[family]
    measured = rows["fit_energy_j"].to_numpy(float)
    columns = [rows["folds"].to_numpy(float), _work(cost, rows, "steps"), _work(cost, rows, "units")]
    used = [i for i, c in enumerate(columns) if c.any()]
    constants = [0.0, 0.0, 0.0]
    for i, value in zip(used, _log_fit(np.column_stack([columns[i] for i in used]), measured)):
        constants[i] = float(value)
    sizes = np.array([cost.size(json.loads(r.params), shapes(r)[0]) for r in rows.itertuples()])
    per_row = float(np.median(rows["predict_energy_j_per_1k"].to_numpy(float) / 1000 / sizes))
    return cost_model.FamilyCost(*constants, per_row, cost.steps, cost.units, cost.size)


def _log_fit(work: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Constants c >= 0 minimising the squared log2 error of work @ c against the measurements
    (a factor of 2 off counts the same for a 0.1 J and a 100 J candidate)."""
    from scipy.optimize import minimize

    start = np.log(np.median(measured[:, None] / np.maximum(work, 1e-12), axis=0) / work.shape[1])

    def loss(log_c):
        return float(np.sum(np.log2(work @ np.exp(log_c) / measured) ** 2))

    return np.exp(minimize(loss, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-4}).x)


def errors(rows: pd.DataFrame, family: str, cost: cost_model.FamilyCost) -> tuple[float, float]:
    estimate = np.array([sum(cost_model.fit_joules_with(cost, json.loads(r.params), s) for s in shapes(r))
                         for r in rows.itertuples()])
    error = np.abs(np.log2(estimate / rows["fit_energy_j"].to_numpy(float)))
    return float(np.median(error)), float(np.quantile(error, 0.9))


def main(argv: list[str]) -> int:
    board = pd.concat([candidates(Path(d)) for d in argv], ignore_index=True)
    for family, rows in board.groupby("family"):
        fitted = fit_family(rows, family)
        now, new = errors(rows, family, cost_model.COSTS[family]), errors(rows, family, fitted)
        print(f"{family:14s} n={len(rows):3d}  per_fit={fitted.per_fit:.3g}, per_step={fitted.per_step:.3g}, "
              f"per_unit={fitted.per_unit:.3g}, per_row_predict={fitted.per_row_predict:.3g}   "
              f"|log2 error| now {now[0]:.2f}/{now[1]:.2f}, "
              f"fitted {new[0]:.2f}/{new[1]:.2f} (median/p90)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
