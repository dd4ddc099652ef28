"""The fit in sentences: stop reasons, whichever way the metric is better."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kiss_automl.reporting import words
from kiss_automl.reporting.folder import FitRecord


def _record(reason: str, detail: dict, metric: str = "rmse") -> FitRecord:
    run = {"metric": metric, "stop_reason": reason, "stop_detail": detail, "evaluation": {"rungs": [100]},
           "config": {"decision_energy": "estimated"}}
    return FitRecord(Path("."), run, pd.DataFrame({"phase": ["start"]}))


def test_a_plateau_on_a_lower_is_better_metric_reads_as_an_improvement():
    detail = {"doublings": [{"from_j": 12.0, "to_j": 24.0, "gain": 640.2273}], "tol": 1964.0, "base_tol": 0.002}
    sentence = words.stop_sentence(_record("plateau", detail, metric="mae"))
    assert "(12 J → 24 J, as the cost model estimates it) improved the best mae by 640.2, less than the " \
           "tolerance 1964 (the best score's standard error, larger than tol 0.002)" in sentence
    assert "+" not in sentence


def test_budget_stops_say_what_budgets_count():
    sentence = words.stop_sentence(_record("co2_budget", {
        "limit": 0.0003, "used": 0.000267, "next_candidate_estimate_j": 2.0, "next_candidate_estimate_g": 0.00026,
        "next_family": "lightgbm"}))
    assert "CO2 budget of 0.0003 g CO2e: 0.000267 g CO2e spent" in sentence
    assert "estimated at 0.00026 g CO2e" in sentence and "budgets count the candidates" in sentence
    assert words.stop_sentence(_record("max_trials", {"limit": 3, "used": 3})) == \
        "Stopped: the limit of 3 candidates was reached."
