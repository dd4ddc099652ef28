"""run.json's figures for the report: phases of the fit, PUE, the opt-in codecarbon cross-check."""

import json

import pytest

from kiss_automl.cli import main

from .conftest import DATASETS

FAST = ["--config", "fast", "--max-trials", "4", "--quiet"]


def _fit(tmp_path, *extra) -> dict:
    out = tmp_path / "fit"
    assert main(["fit", str(DATASETS / "credit-approval.csv"), "--target", "class", "--out", str(out),
                 *FAST, *extra]) == 0
    return json.loads((out / "run.json").read_text())


def test_the_phases_of_a_fit_are_measured_and_codecarbon_is_not_run(tmp_path):
    run = _fit(tmp_path)
    energy, times = run["energy"], run["time"]
    assert energy["typing_j"] > 0 and energy["imports_j"] >= 0
    assert energy["search_j"] >= energy["candidates_j"] > 0  # the loop around the candidates
    assert energy["fit_command_j"] >= energy["search_j"] + energy["refit_j"]
    assert energy["codecarbon_whole_run_j"] is None and energy["codecarbon_overhead_j"] is None
    assert times["process_s"] > times["fit_command_s"] > 0
    assert run["pue"] == {"value": 1.0, "source": "default"}
    assert run["co2_g"]["process"] == pytest.approx(energy["process_j"] * 475 / 3.6e6)
    assert run["hardware"]["cores_used"] == 1 and run["hardware"]["gpus"] == []


def test_cross_check_runs_codecarbon_and_counts_its_cost(tmp_path):
    energy = _fit(tmp_path, "--cross-check")["energy"]
    assert energy["codecarbon_whole_run_j"] > 0 and energy["codecarbon_error"] is None
    assert energy["codecarbon_overhead_j"] > 0


def test_pue_from_a_config_file_scales_every_co2_figure(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("pue: 1.5\nfamilies: [baseline, linear]\n")
    run = _fit(tmp_path, "--config", str(config))
    assert run["pue"] == {"value": 1.5, "source": "config"}
    assert run["co2_g"]["candidates"] == pytest.approx(run["energy"]["candidates_j"] * 475 * 1.5 / 3.6e6)
    assert run["co2_g"]["fit_command"] == pytest.approx(run["energy"]["fit_command_j"] * 475 * 1.5 / 3.6e6)
