"""Parsing and formatting of energy and CO2 quantities."""

import math

import pytest

from kiss_automl.energy import format_joules, joules_to_kwh, kwh_to_joules, parse_co2, parse_energy
from kiss_automl.errors import ConfigError


@pytest.mark.parametrize(
    "text, joules",
    [
        (500, 500.0),
        (2.5, 2.5),
        ("500", 500.0),
        ("500J", 500.0),
        ("500 J", 500.0),
        (" 500 j ", 500.0),
        ("2kJ", 2000.0),
        ("2 kj", 2000.0),
        ("2KJ", 2000.0),
        ("1.5MJ", 1.5e6),
        ("3Wh", 10800.0),
        ("3 wh", 10800.0),
        ("0.01kWh", 36000.0),
        ("0.01 kwh", 36000.0),
        ("1MWh", 3.6e9),
        ("1e3J", 1000.0),
        (".5kJ", 500.0),
    ],
)
def test_parse_energy_good(text, joules):
    assert parse_energy(text) == pytest.approx(joules)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "5 parsecs", "-5J", "0", 0, -1, "0kWh", float("nan"), "nan", "inf", float("inf"),
     "5mJ", "5 mj", "5mwh", "5 mWh", "1..2J", "J", True, None, [5]],
)
def test_parse_energy_bad(text):
    with pytest.raises(ConfigError, match="energy budget"):
        parse_energy(text)


@pytest.mark.parametrize("text", ["0", -1, "0kWh", float("inf"), float("nan")])
def test_parse_energy_says_an_amount_must_be_positive(text):
    with pytest.raises(ConfigError, match="must be a positive, finite amount"):
        parse_energy(text)


def test_parse_energy_error_message_names_value_and_units():
    with pytest.raises(ConfigError) as info:
        parse_energy("lots")
    assert "'lots'" in str(info.value) and "0.01kWh" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "text, grams",
    [(5, 5.0), ("5", 5.0), ("5g", 5.0), ("5 g", 5.0), ("0.2kg", 200.0), ("0.2 KG", 200.0),
     ("1t", 1e6), ("250mg", 0.25), ("3 gCO2e", 3.0), ("1 kg CO2eq", 1000.0), ("2gco2", 2.0)],
)
def test_parse_co2_good(text, grams):
    assert parse_co2(text) == pytest.approx(grams)


@pytest.mark.parametrize("text", ["", "g", "5 Mg", "5 lbs", "-1g", "0", "nan", "5 kWh", False])
def test_parse_co2_bad(text):
    with pytest.raises(ConfigError, match="CO2 budget"):
        parse_co2(text)


@pytest.mark.parametrize(
    "joules, text",
    [(0, "0 J"), (12.34, "12.3 J"), (4560, "4.56 kJ"), (1.2e6, "1.2 MJ"), (0.5, "500 mJ"),
     (999.96, "1 kJ"), (3.4e9, "3.4 GJ"), (-2000, "-2 kJ"), (1, "1 J")],
)
def test_format_joules(joules, text):
    assert format_joules(joules) == text


def test_kwh_conversions_round_trip():
    assert joules_to_kwh(3.6e6) == 1.0
    assert math.isclose(kwh_to_joules(joules_to_kwh(1234.5)), 1234.5)
