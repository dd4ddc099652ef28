"""What the report computes from a fit's files: pure functions over run.json and the leaderboard.

Nothing here draws or formats: the Pareto front, the simplest model within one standard
error, the search curve as the plateau rule read it, and where the energy went.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import stopping
from .folder import FitRecord


def signed_scores(record: FitRecord) -> pd.Series:
    """Scores with larger better (an RMSE is negated), as the search ranks them."""
    scores = pd.to_numeric(record.board["score"], errors="coerce")
    return scores if record.greater_is_better else -scores


def successful(record: FitRecord) -> pd.DataFrame:
    """The rows that scored: `ok` status and a finite score."""
    board = record.board
    return board[(board["status"] == "ok") & np.isfinite(pd.to_numeric(board["score"], errors="coerce"))]


def ensemble_members(row: pd.Series) -> list[int]:
    """The trials an `ensemble` row blends (empty for any other row)."""
    if row["family"] != "ensemble":
        return []
    try:
        return [int(t) for t in json.loads(row["params"]).get("members", [])]
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        return []


def plotted_fit_energy(record: FitRecord) -> pd.Series:
    """Fit energy per row; a blend's is its members' (its own row records none: nothing new was fit)."""
    energy = pd.to_numeric(record.board["fit_energy_j"], errors="coerce").copy()
    by_trial = dict(zip(record.board["trial"], energy))
    for index, row in record.board.iterrows():
        members = ensemble_members(row)
        if members:
            energy[index] = sum(by_trial.get(t, 0.0) for t in members)
    return energy


def standard_error(record: FitRecord, row: pd.Series) -> float:
    """The standard error of a row's score, as the search computes it (5 chunks on a holdout)."""
    splits = int(record.run["evaluation"].get("splits", 1) or 1)
    std = float(row["score_std"]) if math.isfinite(float(row["score_std"])) else 0.0
    return std / math.sqrt(splits if splits > 1 else 5)


def top_rung(record: FitRecord) -> int:
    ok = successful(record)
    return int(ok["rung"].max()) if len(ok) else 0


def best_row(record: FitRecord) -> pd.Series | None:
    """The best row at the highest rung (rank 1 on the leaderboard)."""
    ok = successful(record)
    if ok.empty:
        return None
    return ok.loc[pd.to_numeric(ok["rank"], errors="coerce").idxmin()]


def simplest_within_se(record: FitRecord) -> pd.Series | None:
    """The least inference energy among the rows within one standard error of the best, read
    as `--selection simplest` reads it: the cost model's estimate (the same every run), or
    the meter's figure for folders written before the leaderboard carried the estimate."""
    best = best_row(record)
    if best is None:
        return None
    signed = signed_scores(record)
    ok = successful(record)
    near = ok[(ok["rung"] == best["rung"]) & (signed[ok.index] >= signed[best.name] - standard_error(record, best))]
    column = "estimated_predict_energy_j" if "estimated_predict_energy_j" in near else "predict_energy_j_per_1k"
    energy = pd.to_numeric(near[column], errors="coerce")
    if not energy.notna().any():
        return best
    ranked = near.assign(_energy=energy, _signed=-signed[near.index]).sort_values(["_energy", "_signed"])
    return near.loc[ranked.index[0]]


def pareto_front(energy: pd.Series, signed: pd.Series) -> list:
    """Index labels of the rows no other row beats on both: less energy and a better score.

    >>> pareto_front(pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([0.5, 0.4, 0.7, 0.7]))
    [0, 2]
    """
    order = sorted(energy.index, key=lambda i: (energy[i], -signed[i]))
    front, best = [], -math.inf
    for i in order:
        if signed[i] > best:
            front.append(i)
            best = signed[i]
    return front


@dataclass(frozen=True)
class CurvePoint:
    """The search after one candidate, on the energy axis the plateau rule reads."""

    trial: int
    family: str
    rung: int
    joules: float  # cumulative, as the rule counts it (estimated or measured: `decision_energy`)
    score: float  # this candidate's score (NaN when it failed)
    best: float  # best score so far at rung 0, in the metric's own units (NaN before one)


def search_curve(record: FitRecord) -> list[CurvePoint]:
    """Every candidate in the order it ran, with the cumulative energy the plateau rule read.

    The search adds each candidate's estimated joules (or, with `decision_energy: measured`,
    what the meter read) to its count, and after each rung-0 candidate compares the best
    rung-0 score with the count: the same sums are rebuilt here from the leaderboard.
    """
    board = record.board[record.board["family"] != "ensemble"]
    measured = record.run.get("config", {}).get("decision_energy") == "measured"
    cumulative = pd.to_numeric(board["cumulative_energy_j"], errors="coerce")
    cost = cumulative.diff().fillna(cumulative) if measured else pd.to_numeric(board["estimated_energy_j"],
                                                                                  errors="coerce")
    signed = signed_scores(record)
    sign = 1.0 if record.greater_is_better else -1.0
    points, spent, best = [], 0.0, -math.inf
    for index, row in board.iterrows():
        spent += float(cost[index]) if math.isfinite(float(cost[index])) else 0.0
        ok = row["status"] == "ok" and math.isfinite(float(signed[index]))
        if ok and int(row["rung"]) == 0:
            best = max(best, float(signed[index]))
        points.append(CurvePoint(int(row["trial"]), str(row["family"]), int(row["rung"]), spent,
                                 float(row["score"]) if ok else math.nan,
                                 sign * best if best > -math.inf else math.nan))
    return points


def plateau_points(curve: list[CurvePoint], greater_is_better: bool) -> list[stopping.Point]:
    """The curve as `stopping` sees it: rung-0 points with a best so far, signed."""
    sign = 1.0 if greater_is_better else -1.0
    return [stopping.Point(p.joules, sign * p.best) for p in curve if p.rung == 0 and math.isfinite(p.best)]


def first_of_each_family(curve: list[CurvePoint]) -> list[CurvePoint]:
    seen, firsts = set(), []
    for point in curve:
        if point.family not in seen:
            seen.add(point.family)
            firsts.append(point)
    return firsts


def energy_by_family(record: FitRecord) -> pd.DataFrame:
    """Per family: candidates, failures, fit and validation-predict joules, best score."""
    board = record.board[record.board["family"] != "ensemble"]
    cumulative = pd.to_numeric(board["cumulative_energy_j"], errors="coerce")
    total = cumulative.diff().fillna(cumulative).clip(lower=0)  # what each candidate added to the count
    fit = pd.to_numeric(board["fit_energy_j"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame({"family": board["family"], "ok": board["status"] == "ok", "fit_j": fit,
                          "predict_j": (total - fit).clip(lower=0), "score": signed_scores(record)[board.index]})
    grouped = frame.groupby("family", sort=False)
    out = pd.DataFrame({"candidates": grouped.size(), "failed": grouped["ok"].apply(lambda s: int((~s).sum())),
                        "fit_j": grouped["fit_j"].sum(), "predict_j": grouped["predict_j"].sum(),
                        "best_signed": grouped["score"].max()})
    out["total_j"] = out["fit_j"] + out["predict_j"]
    out["best_score"] = out["best_signed"] if record.greater_is_better else -out["best_signed"]
    return out.drop(columns="best_signed").reset_index()


@dataclass(frozen=True)
class Phase:
    name: str
    joules: float
    what: str


def replayed_trials(record: FitRecord) -> set[int]:
    """The candidates a resumed fit took from its journal: the first `n_replayed` it ran."""
    count = int(finite_or_zero(record.run.get("n_replayed")))
    trained = record.board.loc[record.board["family"] != "ensemble", "trial"]
    return set(trained.iloc[:count].astype(int))


def rows_kept(record: FitRecord) -> int | None:
    """The rows the chosen model was trained on when the search kept its rung's model instead
    of a refit (run.json's `selected.refit_skipped`); None when it was refit."""
    selected = record.run.get("selected") or {}
    return selected.get("trained_rows") if selected.get("refit_skipped") else None


def energy_by_phase(record: FitRecord) -> list[Phase]:
    """The fit's energy by phase, from start-up to the saved folder; phases a folder lacks are left out.

    The command's meter covers typing, the search and the refit; the process's CPU-seconds
    before it (start-up, imports, reading the CSV) and after it (saving) are charged at the
    same watts per core. Candidates replayed from a stopped fit's journal are a phase of
    their own: their energy was spent by that fit's process.
    """
    energy = record.run["energy"]
    watts = (energy.get("constants") or {}).get("watts_per_core")
    parts = (energy.get("process_cpu_s_parts") or {}) if watts is not None else {}
    board = record.board[record.board["family"] != "ensemble"]
    replayed = replayed_trials(record)
    fit_j = float(pd.to_numeric(board.loc[~board["trial"].isin(replayed), "fit_energy_j"],
                                errors="coerce").fillna(0).sum())
    replayed_j = finite_or_zero(energy.get("replayed_j"))
    candidates = finite_or_zero(energy.get("candidates_j")) - replayed_j  # trained by this process
    phases: list[Phase] = []
    if parts:
        phases.append(Phase("start-up and imports", parts.get("startup_and_imports", 0.0) * watts,
                            "Python, kiss-automl and its libraries loading"))
        phases.append(Phase("reading the CSV", parts.get("read_and_check", 0.0) * watts,
                            "parsing and checking the file and the target"))
    inside = len(phases)  # the phases the command's meter covers start here
    for key, name, what in (("typing_j", "column typing", "column kinds, dates, categories"),
                            ("imports_j", "model libraries", "loading the families' libraries")):
        if energy.get(key) is not None:
            phases.append(Phase(name, finite_or_zero(energy[key]), what))
    phases.append(Phase("candidates: fit", fit_j, "training every candidate on its folds"))
    phases.append(Phase("candidates: predict", max(candidates - fit_j, 0.0), "scoring them on held-out rows"))
    if energy.get("search_j") is not None:
        what = "proposals (optuna), bookkeeping, the meter's own reads"
        if record.run["stop_reason"] == "interrupted":
            what += ", and the candidate the interrupt stopped"
        phases.append(Phase("search loop", max(finite_or_zero(energy["search_j"]) - candidates, 0.0), what))
    kept = rows_kept(record)
    refit_what = "the selected model on all rows" if kept is None else \
        f"none: the selected model as trained on {kept:,} rows (a refit would not have paid; see the notes)"
    phases.append(Phase("refit", finite_or_zero(energy.get("refit_j")), refit_what))
    if energy.get("codecarbon_overhead_j") is not None:
        phases.append(Phase("codecarbon cross-check", finite_or_zero(energy["codecarbon_overhead_j"]),
                            "starting and stopping codecarbon's tracker (--cross-check)"))
    if energy.get("fit_command_j") is not None:
        rest = finite_or_zero(energy["fit_command_j"]) - sum(p.joules for p in phases[inside:])
        phases.append(Phase("other", max(rest, 0.0), "checks, carbon lookup, progress display"))
    if "save" in parts:
        phases.append(Phase("saving", parts["save"] * watts, "writing the model folder"))
    if replayed_j:
        phases.append(Phase("replayed candidates", replayed_j,
                            f"{len(replayed)} candidates taken from the journal of the stopped fit "
                            "(--resume): spent by that fit's process"))
    return phases


def finite_or_zero(value) -> float:
    """A figure from run.json as a number; absent, null or non-finite counts as nothing spent."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def total_energy(record: FitRecord) -> tuple[float, str]:
    """The fit's energy in joules, with what it covers: the whole process where it was measured."""
    energy = record.run["energy"]
    replayed = finite_or_zero(energy.get("replayed_j"))
    also = (f", plus the {len(replayed_trials(record))} candidates it replayed from the stopped fit it resumed "
            "(that fit's start-up and refit not included)") if replayed else ""
    if energy.get("process_j") is not None:
        end = "the saved model folder" if "save" in (energy.get("process_cpu_s_parts") or {}) else "the refit model"
        return finite_or_zero(energy["process_j"]) + replayed, \
            f"the whole kiss-automl fit process, from start-up to {end}{also}"
    if energy.get("fit_command_j") is not None:
        return finite_or_zero(energy["fit_command_j"]) + replayed, f"column typing, the search and the refit{also}"
    measured = [energy.get(k) for k in ("typing_j", "imports_j", "search_j", "refit_j")]
    if all(v is not None for v in measured):
        return sum(map(finite_or_zero, measured)), \
            "column typing, loading the model libraries, the search and the refit (fitted in Python)"
    return (finite_or_zero(energy.get("candidates_j")) + finite_or_zero(energy.get("refit_j")),
            "the search's candidates and the refit")
