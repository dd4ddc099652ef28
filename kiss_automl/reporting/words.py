"""The fit in sentences: the task, the choice, and why the search stopped."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .analysis import rows_kept
from .folder import FitRecord
from .numbers import duration, format_joules, score

_TASKS = {"binary": "binary classification", "multiclass": "multiclass classification",
          "regression": "regression"}


def task_phrase(record: FitRecord) -> str:
    run = record.run
    data = run.get("data") or {}
    source = f" on {Path(data['csv']).name}" if data.get("csv") else ""
    shape = f": {data['rows']:,} rows × {data['columns']} columns" if data.get("rows") else ""
    if shape and data.get("rows_in_file", 0) > data["rows"]:
        shape += f" (a uniform sample of the file's {data['rows_in_file']:,} rows)"
    refit = run.get("whole_file_refit")
    if shape and refit:  # fit --refit-whole-file: the model itself saw the whole file
        shape += f"; the chosen model trained on {refit['rows']:,} rows of the whole file on the Dask cluster"
        rung = refit.get("rung") or []
        held_out = f"{refit.get('held_out_rows', 0):,} held-out rows"
        if rung and (run.get("selected") or {}).get("family") == "ensemble":
            shape += f", after each member of the blend was tried on it less {held_out} to choose its rounds"
        elif rung:
            tried = " and ".join(t["family"] for t in rung)
            shape += (f", after {tried} {'were' if len(rung) > 1 else 'was'} tried on it less {held_out} "
                      f"to choose {'between them and ' if len(rung) > 1 else ''}the rounds")
    kept = rows_kept(record)
    if shape and kept is not None:
        shape += (f"; the chosen model trained on {kept:,} of them, as the search judged it "
                  "(a refit on all would not have paid)")
    target = f", target column '{data['target']}'" if data.get("target") else ""
    return f"{_TASKS.get(run['task'], run['task'])}{source}{shape}{target}"


def evaluation_phrase(record: FitRecord) -> str:
    evaluation = record.run["evaluation"]
    if evaluation.get("mode") == "holdout":
        rungs = evaluation.get("rungs") or []
        rows = ", ".join(f"{int(r):,}" for r in rungs)
        return f"one holdout split; training rows per rung: {rows}"
    return (f"{evaluation.get('splits', '?')}-fold cross-validation, each candidate trained on "
            f"{int(evaluation.get('n_train', 0)):,} rows per fold")


def settings_phrase(record: FitRecord) -> str:
    """What steered the search: selection, seed, tolerance and the budgets that were set."""
    config, run = record.run.get("config") or {}, record.run
    budgets = [f"{name} {show(config[key])}" for key, name, show in (
        ("time_budget", "time", duration), ("energy_budget", "energy", format_joules),
        ("co2_budget", "CO2", lambda g: f"{g:.3g} g"), ("max_trials", "candidates", str),
        ("trial_timeout", "per candidate", duration)) if config.get(key) is not None]
    parts = [f"selection {config.get('selection', 'best')}", f"seed {run.get('seed', '?')}",
             f"tol {config.get('tol', '?')}", "budgets: " + (", ".join(budgets) or "none")]
    return "; ".join(parts)


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
        tol, base = float(detail.get("tol", math.nan)), float(detail.get("base_tol", math.nan))
        why = (f"the tolerance {tol:.4g}" if math.isclose(tol, base) else
               f"the tolerance {tol:.4g} (the best score's standard error, larger than tol {base:.4g})")
        energy = "as the cost model estimates it" if (run.get("config") or {}).get("decision_energy") != "measured" \
            else "as measured"
        more = len(detail["doublings"]) - 1
        extra = f", as did the {more} doubling(s) before it" if more else ""
        text = (f"Stopped at a plateau: the last doubling of energy ({format_joules(last['from_j'])} → "
                f"{format_joules(last['to_j'])}, {energy}) improved the best {metric} by {gain_phrase(last['gain'])}, "
                f"less than {why}{extra}.")
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
    elif reason == "cluster_lost":
        text = ("Stopped: the Dask cluster was lost (its scheduler disappeared); the candidates that finished were "
                "kept and the best refit; `--resume` continues the search.")
    else:
        text = f"Stopped: {reason.replace('_', ' ')}."
    if len(run["evaluation"].get("rungs") or []) > 1:
        promoted = int((record.board["phase"] == "promoted").sum())
        if promoted:
            text += f" The best configurations were then re-evaluated on more rows ({promoted} candidates)."
        grown = int((record.board["phase"] == "grown").sum())
        if grown:
            text += (f" As more rows still paid, {grown} bigger version(s) of the best booster (larger trees, "
                     "a slower learning rate) were tried on all of them.")
    return text


def gain_phrase(gain: float) -> str:
    """A doubling's gain, as an amount of improvement (the metric's own units, whichever way is better).

    >>> gain_phrase(0.00289855), gain_phrase(640.2273), gain_phrase(0.0)
    ('0.0029', '640.2', 'nothing')
    """
    gain = float(gain)
    if gain <= 0:
        return "nothing"
    return f"{gain:.2g}" if gain < 0.01 else f"{gain:.4g}"


_IN_THE_CANDIDATES = " (budgets count the candidates' measured energy; the fit's total adds start-up and the refit)"


def _budget_sentence(reason: str, detail: dict) -> str:
    limit, used = detail["limit"], detail["used"]
    if reason == "max_trials":
        return f"Stopped: the limit of {limit} candidates was reached."
    if reason == "time_budget":
        return f"Stopped: the time budget of {duration(limit)} was used ({duration(used)})."
    co2 = reason == "co2_budget"
    unit = (lambda g: f"{g:.3g} g CO2e") if co2 else format_joules
    name = "CO2" if co2 else "energy"
    if "next_candidate_estimate_j" in detail:
        expected = detail.get("next_candidate_estimate_g") if co2 else detail["next_candidate_estimate_j"]
        return (f"Stopped before passing the {name} budget of {unit(limit)}: {unit(used)} spent, and the next "
                f"candidate ({detail.get('next_family', '?')}) was estimated at "
                f"{unit(expected) if expected is not None else '?'}{_IN_THE_CANDIDATES}.")
    return f"Stopped: the {name} budget of {unit(limit)} was used ({unit(used)}){_IN_THE_CANDIDATES}."


def score_phrase(record: FitRecord, row) -> str:
    from .analysis import standard_error

    se = standard_error(record, row)
    splits = int(record.run["evaluation"].get("splits", 1) or 1)
    over = f"over {splits} folds" if splits > 1 else "over 5 chunks of the holdout rows"
    return f"{record.run['metric']} {score(float(row['score']))} ± {score(se)} (standard error {over})"
