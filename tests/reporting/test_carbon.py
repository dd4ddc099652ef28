"""The carbon statement and the same fit's CO2 elsewhere, from a real fit's folder."""

from __future__ import annotations

import doctest
import json

import pytest

from kiss_automl import stopping
from kiss_automl.energy.carbon import country_intensities
from kiss_automl.reporting import analysis, carbon, numbers, read_folder, words


def test_the_statement_cites_what_the_templates_ask_for(fit_dir):
    run = json.loads((fit_dir / "run.json").read_text())
    statement = carbon.statement(read_folder(fit_dir))
    fields = dict(statement.fields)
    assert set(fields) >= {"Software", "Runtime", "Hardware", "Energy", "Measurement", "Location",
                           "Carbon intensity", "PUE", "Footprint", "Inference"}
    assert fields["Location"] == "France"
    assert fields["PUE"] == "1.25 (given)" and "PUE of 1.25 (given with --pue)" in statement.text
    assert "4 W per core" in fields["Measurement"] and "CPU time" in statement.text
    assert f"kiss-automl {run['kiss_automl_version']}" in statement.text
    assert run["hardware"]["cpu_model"] in statement.text and "1 of" in fields["Hardware"]
    assert "per million predictions" in statement.text
    assert "private_infra" not in statement.text  # sources by name, not by path inside a package


def test_the_latex_statement_is_escaped(fit_dir):
    latex = carbon.statement(read_folder(fit_dir)).latex
    assert "CO$_2$e" in latex and "×" not in latex and "⁻" not in latex
    assert " _" not in latex.replace("\\_", "") and "%" not in latex.replace("\\%", "")


def test_co2_counts_the_pue(fit_dir):
    record = read_folder(fit_dir)
    footprint = carbon.footprint(record)
    assert footprint.pue == 1.25
    assert footprint.grams == pytest.approx(footprint.kwh * footprint.g_per_kwh * 1.25)
    assert footprint.grams == pytest.approx(record.run["co2_g"]["process"])


def test_other_regions_from_the_offline_tables(fit_dir):
    rows = carbon.other_regions(read_folder(fit_dir))
    assert rows[0].group == "your fit" and rows[0].place.name == "France" and rows[0].ratio == pytest.approx(1)
    lowest = [r for r in rows if r.group == "lowest"]
    highest = [r for r in rows if r.group == "highest"]
    assert len(lowest) == len(highest) == carbon.EXTREMES
    large = sorted(p.g_per_kwh for p in country_intensities() if (p.generation_twh or 0) >= carbon.MIN_COUNTRY_TWH)
    assert [r.place.g_per_kwh for r in lowest] == large[:5] and [r.place.g_per_kwh for r in highest] == large[-5:]
    cloud = [r for r in rows if r.group == "cloud"]
    assert cloud and all(":" in r.place.code for r in cloud)
    for r in rows:  # the same energy and PUE everywhere: CO2 follows the grid
        assert r.grams == pytest.approx(rows[0].grams * r.place.g_per_kwh / rows[0].place.g_per_kwh)


@pytest.mark.parametrize("module", [numbers, carbon, analysis, words, stopping])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0
