"""Candidates → the leaderboard: a DataFrame, and its CSV, JSON, Markdown and table forms."""

from __future__ import annotations

import json
import math
from typing import Iterable

import pandas as pd

# The contract's columns first (DESIGN.md), then what else serves users.
COLUMNS = [
    "rank", "family", "rung", "params", "score", "score_std", "fit_energy_j",
    "predict_energy_j_per_1k", "co2_g", "fit_time_s", "n_rows", "status", "error",
    "selected", "trial", "phase", "predict_ms_per_1k", "cpu_s", "memory_energy_j",
    "subsample_fraction", "cumulative_energy_j", "estimated_energy_j", "estimated_predict_energy_j",
]
FORMATS = ("table", "csv", "json", "markdown")


def to_frame(candidates: Iterable, n_train: int) -> pd.DataFrame:
    """One row per candidate (failed ones too), best first; ranks count only successful rows."""
    rows = []
    for c in candidates:
        e = c.evaluation
        per_1k = 1000.0 / e.predicted_rows if e.predicted_rows else math.nan
        rows.append({
            "family": c.family, "rung": c.rung, "params": json.dumps(c.params, sort_keys=True),
            "score": c.score, "score_std": c.score_std, "fit_energy_j": e.fit_joules,
            "predict_energy_j_per_1k": e.predict_joules * per_1k, "co2_g": c.co2_g,
            "fit_time_s": e.fit_seconds, "n_rows": c.n_rows, "status": e.status, "error": e.error,
            "selected": c.selected, "trial": c.trial, "phase": c.phase,
            "predict_ms_per_1k": e.predict_seconds * 1000.0 * per_1k, "cpu_s": e.fit_cpu_s,
            "memory_energy_j": e.memory_joules, "subsample_fraction": c.n_rows / max(n_train, 1),
            "cumulative_energy_j": c.cumulative_joules,
            "estimated_energy_j": c.estimated_joules,
            "estimated_predict_energy_j": c.estimated_predict_joules, "_signed": c.signed,
        })
    frame = pd.DataFrame(rows, columns=[col for col in COLUMNS if col != "rank"] + ["_signed"])
    ok = frame["status"] == "ok"
    order = frame.assign(_ok=ok).sort_values(["_ok", "rung", "_signed", "trial"],
                                             ascending=[False, False, False, True], kind="stable")
    order.insert(0, "rank", pd.array([i + 1 if good else pd.NA for i, good in enumerate(order["_ok"])],
                                     dtype="Int64"))
    board = order.drop(columns=["_ok", "_signed"]).reset_index(drop=True)[COLUMNS]
    placements = [c.placement for c in candidates if getattr(c, "placement", None)]
    if placements:  # candidates on a cluster: where each ran and how its energy was read
        by_trial = {c.trial: c.placement for c in candidates}
        board["host"] = [by_trial.get(t, {}).get("host", "") for t in board["trial"]]
        board["energy_method"] = [by_trial.get(t, {}).get("method", "") for t in board["trial"]]
    return board


def render(frame: pd.DataFrame, fmt: str = "table") -> str:
    """The leaderboard as text in `fmt` (table, csv, json or markdown)."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return frame.to_json(orient="records", indent=2)
    shown = _display(frame, truncate=fmt == "table")
    if fmt == "markdown":
        header = "| " + " | ".join(shown.columns) + " |"
        rule = "|" + "|".join("---:" if c in NUMERIC_DISPLAY else "---" for c in shown.columns) + "|"
        body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
                for row in shown.itertuples(index=False)]
        return "\n".join([header, rule, *body]) + "\n"
    if fmt == "table":
        return shown.to_string(index=False) + "\n"
    raise ValueError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# `trial` is the number the progress lines show, and what an ensemble's params name its members by.
DISPLAY = ["rank", "trial", "family", "rung", "n_rows", "score", "score_std", "fit_energy_j",
           "predict_energy_j_per_1k", "co2_g", "fit_time_s", "status", "selected", "params"]
NUMERIC_DISPLAY = {"rank", "trial", "rung", "n_rows", "score", "score_std", "fit_energy_j",
                   "predict_energy_j_per_1k", "co2_g", "fit_time_s"}


def _display(frame: pd.DataFrame, truncate: bool) -> pd.DataFrame:
    """Rounded, human-sized columns for tables and Markdown; errors replace params on failures.

    A terminal table cuts long params; Markdown keeps them whole (a blend's weights, an error)."""
    shown = frame[DISPLAY].copy()
    for col, digits in (("score", 4), ("score_std", 4), ("fit_energy_j", 3), ("predict_energy_j_per_1k", 4),
                        ("co2_g", 5), ("fit_time_s", 2)):
        values = pd.to_numeric(shown[col], errors="coerce")
        tiny = col not in ("score", "score_std") and ((values.abs() < 1e-3) & (values != 0)).any()
        # One style per column: all fixed decimals, or (tiny amounts, e.g. grams of CO2) all exponents.
        shown[col] = values.map(lambda v, d=digits: "" if pd.isna(v) else f"{v:.{d - 1}e}" if tiny else f"{v:.{d}f}")
    failed = frame["status"] != "ok"
    shown["params"] = frame["params"].where(~failed, frame["error"]).map(
        lambda s: s if len(s) <= 70 or not truncate else s[:67] + "...")
    shown["selected"] = frame["selected"].map(lambda s: "*" if s else "")
    shown["rank"] = frame["rank"].map(lambda r: "" if pd.isna(r) else str(r))
    return shown

