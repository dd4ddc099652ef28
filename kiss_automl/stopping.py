"""When to stop: the scale-free plateau rule and the budgets. Pure functions, no state.

The plateau rule looks at the best score so far as a function of cumulative joules. With
E the energy spent so far, the last doubling bought best(E) - best(E/2). The search stops
when each of the last `patience` doublings bought less than `tol`. Being about doublings,
the rule means the same on a laptop and on a cluster, for 2 J or 2 MJ.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Point:
    """The search after one more candidate: energy spent so far and the best signed score."""

    joules: float
    best: float


def best_at(curve: Sequence[Point], joules: float) -> float:
    """Best score reached with at most `joules` spent (-inf before the first candidate)."""
    energies = [p.joules for p in curve]
    i = bisect.bisect_right(energies, joules)
    return curve[i - 1].best if i else -math.inf


def doubling_gains(curve: Sequence[Point], patience: int) -> list[float]:
    """Score bought by each of the last `patience` doublings of energy, most recent first."""
    if not curve:
        return []
    spent = curve[-1].joules
    gains = []
    for j in range(patience):
        upper = best_at(curve, spent / 2**j)
        lower = best_at(curve, spent / 2 ** (j + 1))
        gains.append(upper - lower)
    return gains


def plateau_reached(curve: Sequence[Point], tol: float, patience: int) -> bool:
    """True when each of the last `patience` doublings of energy bought less than `tol`.

    >>> curve = [Point(1, 0.70), Point(2, 0.80), Point(4, 0.801), Point(8, 0.8015)]
    >>> plateau_reached(curve, tol=0.002, patience=2)
    True
    """
    gains = doubling_gains(curve, patience)
    # -inf - x is -inf: a doubling that reaches back before the first point is no evidence.
    return len(gains) == patience and all(-math.inf < g < tol for g in gains)


def plateau_unless_gain(curve: Sequence[Point], in_flight_j: float, tol: float, patience: int) -> bool:
    """Whether `plateau_reached` would hold once the candidates in flight (`in_flight_j`, their
    estimated joules) are paid for, should none of them beat the best. A sequential search
    would see their results before proposing again; a parallel one then waits for them too,
    instead of betting another candidate that the rule would not have started.

    >>> curve = [Point(1, 0.70), Point(2, 0.80), Point(3, 0.801)]
    >>> plateau_reached(curve, 0.002, 1), plateau_unless_gain(curve, 1.5, 0.002, 1)
    (False, True)
    """
    if not curve:
        return False
    return plateau_reached([*curve, Point(curve[-1].joules + in_flight_j, curve[-1].best)], tol, patience)


def plateau_detail(curve: Sequence[Point], tol: float, base_tol: float, patience: int) -> dict:
    """The doublings `plateau_reached` compared, for the record: each one's energy span and
    gain, with the tolerance used (`tol`, which the noise may have raised above `base_tol`).

    >>> last = plateau_detail([Point(1, 0.70), Point(2, 0.80), Point(4, 0.801)], 0.002, 0.002, 1)["doublings"][0]
    >>> last["from_j"], last["to_j"], round(last["gain"], 4)
    (2.0, 4.0, 0.001)
    """
    spent = curve[-1].joules
    doublings = [{"from_j": spent / 2 ** (j + 1), "to_j": float(spent / 2**j), "gain": gain}
                 for j, gain in enumerate(doubling_gains(curve, patience))]
    return {"doublings": doublings, "tol": tol, "base_tol": base_tol}


def within_one_doubling(spent_j: float, proposal_j: float) -> bool:
    """Whether a proposal's estimated joules at most double the energy spent so far: the most
    one candidate may bet before the plateau rule, which reads gains per doubling, can judge it.

    >>> within_one_doubling(12.0, 2.9), within_one_doubling(12.0, 26.0)
    (True, False)
    """
    return proposal_j <= spent_j


@dataclass(frozen=True)
class Budgets:
    """Hard limits; None means no limit."""

    seconds: float | None = None
    joules: float | None = None
    co2_g: float | None = None
    trials: int | None = None


def budget_exhausted(budgets: Budgets, seconds: float, joules: float, co2_g: float, trials: int) -> str | None:
    """The stop reason of the first budget used up, or None."""
    if budgets.trials is not None and trials >= budgets.trials:
        return "max_trials"
    if budgets.seconds is not None and seconds >= budgets.seconds:
        return "time_budget"
    if budgets.joules is not None and joules >= budgets.joules:
        return "energy_budget"
    if budgets.co2_g is not None and co2_g >= budgets.co2_g:
        return "co2_budget"
    return None


def next_trial_overruns(budgets: Budgets, joules: float, expected_joules: float,
                        grams_per_joule: float) -> str | None:
    """The energy or CO2 budget that a candidate expected to cost `expected_joules` would
    overrun (its stop reason), or None: checked before the candidate runs, not after.

    >>> next_trial_overruns(Budgets(joules=5.0), joules=4.1, expected_joules=1.05, grams_per_joule=1e-4)
    'energy_budget'
    >>> next_trial_overruns(Budgets(joules=5.0), joules=3.0, expected_joules=1.05, grams_per_joule=1e-4) is None
    True
    """
    after = joules + expected_joules
    if budgets.joules is not None and after > budgets.joules:
        return "energy_budget"
    if budgets.co2_g is not None and after * grams_per_joule > budgets.co2_g:
        return "co2_budget"
    return None


def promotion_seconds(seconds: float, seconds_below: float | None, rows_growth: float) -> float:
    """Wall seconds expected of a configuration one rung up, from its `seconds` on this rung:
    times the growth of its own last step up (`seconds_below`: the same configuration one rung
    lower), or at least the growth of the rows (boosting's rounds grow with the rows as well).
    Read against the trial timeout: a candidate that would run past it burns the whole timeout
    and leaves no model.

    >>> promotion_seconds(36.0, 2.25, rows_growth=4.0)  # its last step up took 16x as long
    576.0
    >>> promotion_seconds(10.0, None, rows_growth=4.0)
    40.0
    """
    growth = rows_growth
    if seconds_below is not None and seconds_below > 0:
        growth = max(growth, seconds / seconds_below)
    return seconds * growth


def refit_gain(score: float, score_below: float, rows_growth_below: float, rows_growth: float) -> float:
    """Score a refit on `rows_growth` times the rows is expected to add, from the learning
    curve's last step (`score_below` on `rows_growth_below` times fewer rows), extended in
    doublings of rows: curves flatten, so a straight line in log-rows overestimates it if
    anything. A curve that fell counts as flat.

    >>> round(refit_gain(0.80, 0.79, rows_growth_below=4.0, rows_growth=1.15), 4)  # 0.005 per doubling
    0.001
    """
    if rows_growth <= 1.0 or rows_growth_below <= 1.0:
        return 0.0
    per_doubling = max(0.0, score - score_below) / math.log2(rows_growth_below)
    return per_doubling * math.log2(rows_growth)


def refit_asks(tol: float, joules_spent: float, refit_joules: float) -> float:
    """The gain the plateau rule asks of a refit: `tol` per doubling of the energy spent.

    >>> refit_asks(0.004, joules_spent=100.0, refit_joules=100.0)
    0.004
    """
    if joules_spent <= 0:
        return 0.0  # nothing to weigh it against: any gain will do
    return tol * math.log2((joules_spent + max(refit_joules, 0.0)) / joules_spent)
