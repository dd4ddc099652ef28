"""The fit in sentences: the task, the choice, and why the search stopped."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .folder import FitRecord
from .numbers import duration, format_joules, score

_TASKS = {"binary": "binary classification", "multiclass": "multiclass classification",
          "regression": "regression"}


def task_phrase(record: FitRecord) -> str:
    run = record.run
    data = run.get("data") or {}
    source = f" on {Path(data['csv']).name}" if data.get("csv") else ""
    shape = f": {data['rows']:,} rows × {data['columns']} columns" if data.get("rows") else ""
    target = f", target column '{data['target']}'" if data.get("target") else ""
    return f"{_TASKS.get(run['task'], run['task'])}{source}{shape}{target}"


def evaluation_phrase(record: FitRecord) -> str:
    evaluation = record.run["evaluation"]
    if evaluation.get("mode") == "holdout":
        rungs = evaluation.get("rungs") or []
        rows = ", ".join(f"{r:,}" for r in rungs)
        return f"one holdout split; training rows per rung: {rows}"
    return f"{evaluation.get('splits', '?')}-fold cross-validation on {evaluation.get('n_train', 0):,}-row folds"


def params_phrase(params) -> str:
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            return params
    if not params:
        return "library defaults"
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def selected_phrase(record: FitRecord) -> str:
    """'lightgbm (trial 5): n_estimators=100, ...' or a blend's members and weights."""
    selected = record.run["selected"]
    if selected.get("family") != "ensemble":
        return f"{selected.get('family')} (trial {selected.get('trial')}): {params_phrase(selected.get('params'))}"
    params = selected.get("params") or {}
    by_trial = {int(t): f for t, f in zip(record.board["trial"], record.board["family"])}
    members = [f"{by_trial.get(int(t), '?')} (trial {t}) × {w:.3g}"
               for t, w in zip(params.get("members", []), params.get("weights", []))]
    return "a blend of " + ", ".join(members)


def stop_sentence(record: FitRecord) -> str:
    """Why the search stopped, with the figures the rule compared."""
    run = record.run
    reason, detail = run["stop_reason"], run.get("stop_detail") or {}
    metric = run["metric"]
    if reason == "plateau" and detail.get("doublings"):
        last = detail["doublings"][0]
        tol, base = detail.get("tol", math.nan), detail.get("base_tol", math.nan)
        why = (f"the tolerance {tol:.4g}" if math.isclose(tol, base) else
               f"the tolerance {tol:.4g} (the best score's standard error, larger than tol {base:.4g})")
        energy = "as the cost model estimates it" if run.get("config", {}).get("decision_energy") != "measured" \
            else "as measured"
        more = len(detail["doublings"]) - 1
        extra = f", as did the {more} doubling(s) before it" if more else ""
        text = (f"Stopped at a plateau: the last doubling of energy ({format_joules(last['from_j'])} → "
                f"{format_joules(last['to_j'])}, {energy}) bought {last['gain']:+.4f} {metric}, under {why}{extra}.")
    elif reason == "plateau":
        text = "Stopped at a plateau: the last doubling of energy bought less than the tolerance."
    elif reason == "search_exhausted":
        patience = detail.get("family_patience")
        text = ("Stopped: no family was left worth another trial: each had stopped improving"
                + (f" (no gain in {patience} trials)" if patience else "") + " or fallen out of reach of the best.")
    elif reason in ("time_budget", "energy_budget", "co2_budget", "max_trials") and "limit" in detail:
        text = _budget_sentence(reason, detail)
    elif reason == "interrupted":
        text = "Stopped: interrupted (Ctrl-C or SIGTERM); the best candidate so far was kept and refit."
    else:
        text = f"Stopped: {reason.replace('_', ' ')}."
    if len(run["evaluation"].get("rungs") or []) > 1:
        promoted = int((record.board["phase"] == "promoted").sum())
        if promoted:
            text += f" The best configurations were then re-evaluated on more rows ({promoted} candidates)."
    return text


def _budget_sentence(reason: str, detail: dict) -> str:
    limit, used = detail["limit"], detail["used"]
    if reason == "max_trials":
        return f"Stopped: the limit of {limit} candidates was reached."
    if reason == "time_budget":
        return f"Stopped: the time budget of {duration(limit)} was used ({duration(used)})."
    unit = format_joules if reason == "energy_budget" else (lambda g: f"{g:.3g} g CO2e")
    name = "energy" if reason == "energy_budget" else "CO2"
    if "next_candidate_estimate_j" in detail:
        return (f"Stopped before passing the {name} budget of {unit(limit)}: {unit(used)} spent, and the next "
                f"candidate ({detail.get('next_family', '?')}) was estimated at "
                f"{format_joules(detail['next_candidate_estimate_j'])}.")
    return f"Stopped: the {name} budget of {unit(limit)} was used ({unit(used)})."


def score_phrase(record: FitRecord, row) -> str:
    from .analysis import standard_error

    se = standard_error(record, row)
    splits = int(record.run["evaluation"].get("splits", 1) or 1)
    over = f"over {splits} folds" if splits > 1 else "over 5 chunks of the holdout rows"
    return f"{record.run['metric']} {score(float(row['score']))} ± {se:.4f} (standard error {over})"
