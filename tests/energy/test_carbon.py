"""Offline carbon intensity from codecarbon's tables."""

import pytest

from kiss_automl.energy import carbon_intensity, grams_co2
from kiss_automl.energy.carbon import CarbonIntensity
from kiss_automl.errors import ConfigError


def test_known_country_positive_with_source():
    ci = carbon_intensity("FRA")
    assert ci.g_per_kwh > 0
    assert ci.country == "FRA" and ci.region is None
    assert "global_energy_mix.json" in ci.source


@pytest.mark.parametrize("spelling", ["FRA", "fra", "FR", "fr", "France", "FRANCE", " france "])
def test_iso2_iso3_and_name_are_equivalent(spelling):
    assert carbon_intensity(spelling) == carbon_intensity("FRA")


@pytest.mark.parametrize("name, iso3", [("United States", "USA"), ("US", "USA"), ("Russia", "RUS"),
                                        ("South Korea", "KOR"), ("UK", "GBR"), ("GB", "GBR")])
def test_other_names(name, iso3):
    assert carbon_intensity(name).country == iso3


def test_default_is_codecarbon_world_average():
    ci = carbon_intensity()
    assert ci.country == "World"
    assert ci.g_per_kwh == 475.0
    assert "world average" in ci.source


@pytest.mark.parametrize("bad", ["Atlantis", "XX", "ZZZ", "12"])
def test_unknown_country_raises(bad):
    with pytest.raises(ConfigError, match=f"Unknown country '{bad}'"):
        carbon_intensity(bad)


@pytest.mark.parametrize(
    "country, region, expected, name",
    [
        ("USA", "California", 394.769 * 0.45359237, "california"),  # eGRID, lbs/MWh -> g/kWh
        ("US", "CA", 394.769 * 0.45359237, "california"),  # state code
        ("USA", "new  York", 466.616 * 0.45359237, "new york"),
        ("China", "Beijing", 555.4, "beijing"),
        ("CN", "Inner Mongolia Autonomous Region", 647.9, "inner mongolia"),
        ("SE", "SE3", 27.0, "se3"),
        ("Finland", "fi", 72.0, "fi"),
    ],
)
def test_regions(country, region, expected, name):
    ci = carbon_intensity(country, region)
    assert ci.g_per_kwh == pytest.approx(expected)
    assert ci.region == name


def test_canada_province_uses_fossil_share():
    ci = carbon_intensity("CAN", "Quebec")
    assert 0 < ci.g_per_kwh < carbon_intensity("CAN", "Alberta").g_per_kwh


@pytest.mark.parametrize("country, region", [("USA", "Narnia"), ("FRA", "Bretagne"), ("SWE", "NO1")])
def test_unknown_region_raises(country, region):
    with pytest.raises(ConfigError, match=f"Unknown region '{region}'"):
        carbon_intensity(country, region)


def test_region_without_country_raises():
    with pytest.raises(ConfigError, match="without a country"):
        carbon_intensity(region="California")


def test_grams_co2():
    ci = CarbonIntensity(500.0, "X", None, "test")
    assert grams_co2(3.6e6, ci) == pytest.approx(500.0)
    assert grams_co2(3.6e3, 100.0) == pytest.approx(0.1)
