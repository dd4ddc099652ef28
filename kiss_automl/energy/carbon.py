"""Grid carbon intensity, looked up offline in the tables codecarbon ships.

Sources (inside the installed codecarbon package, ``data/``), read the way
codecarbon's ``core/emissions.py`` reads them, in gCO2e/kWh:

* ``private_infra/global_energy_mix.json``: per country (ISO-3 key),
  ``carbon_intensity``;
* ``private_infra/carbon_intensity_per_source.json``: ``world_average``
  (the default when no country is given, and codecarbon's own fallback);
* regions: ``private_infra/2023/usa_emissions.json`` (US states, lbs/MWh),
  ``private_infra/2023/canada_energy_mix.json`` (provinces, % of generation by
  source), ``private_infra/2023/china_provincial_emissions.json`` (provinces),
  ``private_infra/nordic_emissions.json`` (SE1-SE4, NO1-NO5, FI bidding zones).

No network is used: no Electricity Maps call, no IP geolocation.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from kiss_automl.energy._codecarbon_data import load_codecarbon_json
from kiss_automl.energy.units import JOULES_PER_KWH
from kiss_automl.errors import ConfigError

logger = logging.getLogger(__name__)

GLOBAL_MIX = "private_infra/global_energy_mix.json"
PER_SOURCE = "private_infra/carbon_intensity_per_source.json"
USA_REGIONS = "private_infra/2023/usa_emissions.json"
CANADA_REGIONS = "private_infra/2023/canada_energy_mix.json"
CHINA_REGIONS = "private_infra/2023/china_provincial_emissions.json"
NORDIC_REGIONS = "private_infra/nordic_emissions.json"

# codecarbon's EmissionsPerKWh.LBS_MWH_TO_KG_KWH (0.00045359237) x 1000 g/kg.
_LBS_PER_MWH_TO_G_PER_KWH = 0.45359237
# codecarbon's _region_energy_mix_to_emissions_rate factors (kg/kWh) x 1000;
# only these fossil sources emit in its Canadian model.
_CANADA_SOURCE_G_PER_KWH = {"coal": 995.725971, "petroleum": 816.6885263, "naturalGas": 743.8415916}
_NORDIC_COUNTRIES = {"SWE": "SE", "NOR": "NO", "FIN": "FI"}
_CHINA_SUFFIX = re.compile(r"\s+(autonomous region|municipality|province|sheng|shi|zizhiqu)$")
# Common names that neither pycountry nor codecarbon's table know.
_ALIASES = {"uk": "GBR", "england": "GBR", "great britain": "GBR", "holland": "NLD"}


@dataclass(frozen=True)
class CarbonIntensity:
    """Carbon intensity of electricity at a place.

    Attributes
    ----------
    g_per_kwh : float
        Grams of CO2-equivalent per kWh.
    country : str
        ISO-3 code, or ``"World"`` for the world average.
    region : str or None
        Region used, as codecarbon's tables name it (lower case: ``"california"``
        for ``"CA"``, ``"se3"``...), if any.
    source : str
        Where the figure comes from.
    """

    g_per_kwh: float
    country: str
    region: str | None
    source: str


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Lower-case country name (codecarbon's spelling) -> ISO-3."""
    mix = load_codecarbon_json(GLOBAL_MIX)
    return {str(v.get("country_name", "")).lower(): k for k, v in mix.items()}


def resolve_country(country: str) -> str:
    """Return the ISO-3 code of a country given as ISO-3, ISO-2 or English name.

    Parameters
    ----------
    country : str
        E.g. ``"FRA"``, ``"fr"``, ``"France"``, ``"United States"``.

    Returns
    -------
    str
        Upper-case ISO-3 code.

    Raises
    ------
    ConfigError
        If the country is unknown.
    """
    text = " ".join(str(country).split())
    key = text.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    mix = load_codecarbon_json(GLOBAL_MIX)
    if text.upper() in mix:
        return text.upper()
    if key in _country_names():
        return _country_names()[key]
    import pycountry  # lazy: ~20 ms, only needed for ISO-2 codes and other names

    try:
        return pycountry.countries.lookup(text).alpha_3
    except LookupError:
        raise ConfigError(
            f"Unknown country '{country}': use an ISO 3166 code such as FRA or FR, "
            f"or an English country name such as France"
        ) from None


def country_name(iso3: str) -> str:
    """The country's English name as codecarbon's table spells it ("France" for FRA)."""
    entry = load_codecarbon_json(GLOBAL_MIX).get(str(iso3).upper())
    return str(entry.get("country_name", iso3)) if isinstance(entry, dict) else str(iso3)


def _world_average(note: str = "") -> CarbonIntensity:
    table = load_codecarbon_json(PER_SOURCE)
    source = f"codecarbon world average ({PER_SOURCE}; {table.get('world_average_source', '')})"
    return CarbonIntensity(float(table["world_average"]), "World", None, source + note)


def _region_intensity(iso3: str, region: str) -> tuple[float, str, str]:
    """Return (g/kWh, source, region as codecarbon names it); KeyError if unknown."""
    key = " ".join(region.lower().split())
    if iso3 == "USA":
        states = load_codecarbon_json(USA_REGIONS)
        by_code = {
            str(v.get("regionCode", "")).lower(): k
            for k, v in states.items()
            if not k.startswith("_") and isinstance(v, dict)
        }
        name = key if key in states and not key.startswith("_") else by_code[key]
        grams = states[name]["emissions"] * _LBS_PER_MWH_TO_G_PER_KWH
        return grams, f"codecarbon {USA_REGIONS} (EPA eGRID)", name
    if iso3 == "CAN":
        mix = load_codecarbon_json(CANADA_REGIONS)[key]
        grams = sum(mix[s] / mix["total"] * g for s, g in _CANADA_SOURCE_G_PER_KWH.items())
        return grams, f"codecarbon {CANADA_REGIONS} (energy mix)", key
    if iso3 == "CHN":
        name = _CHINA_SUFFIX.sub("", key)
        for code, entry in load_codecarbon_json(CHINA_REGIONS)["data"].items():
            if name in entry["names"] or name == code.lower():
                source = f"codecarbon {CHINA_REGIONS} (MEE/NBS)"
                return float(entry["emission_factor"]), source, entry["names"][0]
        raise KeyError(region)
    if iso3 in _NORDIC_COUNTRIES and key.upper().startswith(_NORDIC_COUNTRIES[iso3]):
        entry = load_codecarbon_json(NORDIC_REGIONS)["data"][key.upper()]
        return float(entry["emission_factor"]), f"codecarbon {NORDIC_REGIONS} (ENTSO-E)", key
    raise KeyError(region)


def carbon_intensity(country: str | None = None, region: str | None = None) -> CarbonIntensity:
    """Look up the carbon intensity of electricity, offline.

    Parameters
    ----------
    country : str, optional
        ISO-3 (``"FRA"``), ISO-2 (``"FR"``) or English name, any case.
        ``None``: codecarbon's world average.
    region : str, optional
        Only where codecarbon has regional data: US state (name or 2-letter
        code), Canadian or Chinese province, Nordic bidding zone (SE1..SE4,
        NO1..NO5, FI).

    Returns
    -------
    CarbonIntensity
        The intensity and its source.

    Raises
    ------
    ConfigError
        Unknown country or region, or a region without a country.
    """
    if country is None or not str(country).strip():
        if region is not None:
            raise ConfigError(f"Region '{region}' given without a country: give the country too")
        return _world_average()
    iso3 = resolve_country(country)
    if region is not None and str(region).strip():
        try:
            grams, source, name = _region_intensity(iso3, str(region))
        except (KeyError, TypeError, ZeroDivisionError):
            raise ConfigError(
                f"Unknown region '{region}' for country {iso3}: regional data exists for US "
                f"states, Canadian and Chinese provinces, and Nordic bidding zones "
                f"(SE1-SE4, NO1-NO5, FI)"
            ) from None
        return CarbonIntensity(float(grams), iso3, name, source)
    entry: dict[str, Any] | None = load_codecarbon_json(GLOBAL_MIX).get(iso3)
    if entry is None or entry.get("carbon_intensity") is None:
        # A real country codecarbon has no data for: it uses the world average too.
        logger.warning("No carbon intensity for %s in codecarbon's table: using the world average", iso3)
        world = _world_average(f"; no data for {iso3}")
        return CarbonIntensity(world.g_per_kwh, iso3, None, world.source)
    year = entry.get("year")
    source = f"codecarbon {GLOBAL_MIX}" + (f" ({year})" if year else "")
    return CarbonIntensity(float(entry["carbon_intensity"]), iso3, None, source)


def grams_co2(joules: float, intensity: CarbonIntensity | float) -> float:
    """Convert energy to grams of CO2e.

    Parameters
    ----------
    joules : float
        Energy in joules.
    intensity : CarbonIntensity or float
        Intensity, or a bare figure in g/kWh.

    Returns
    -------
    float
        Grams of CO2-equivalent.
    """
    g_per_kwh = intensity.g_per_kwh if isinstance(intensity, CarbonIntensity) else float(intensity)
    return joules / JOULES_PER_KWH * g_per_kwh


CLOUD_REGIONS = "cloud/impact.csv"


@dataclass(frozen=True)
class Place:
    """A place one can run a computation, with its grid's carbon intensity."""

    name: str
    code: str  # ISO-3 for countries; provider:region for cloud regions
    g_per_kwh: float
    source: str
    generation_twh: float | None = None  # countries: electricity generated a year
    provider: str | None = None  # cloud regions: the provider's name


def country_intensities() -> list[Place]:
    """Every country in codecarbon's offline table that has a carbon intensity."""
    places = []
    for iso3, entry in load_codecarbon_json(GLOBAL_MIX).items():
        if not isinstance(entry, dict) or entry.get("carbon_intensity") is None:
            continue
        year = entry.get("year")
        places.append(Place(str(entry.get("country_name", iso3)), iso3, float(entry["carbon_intensity"]),
                            f"codecarbon {GLOBAL_MIX}" + (f" ({year})" if year else ""),
                            entry.get("total_TWh")))
    return places


def cloud_region_intensities() -> list[Place]:
    """Cloud regions with their grid's intensity, as codecarbon's offline table lists them."""
    import csv

    from kiss_automl.energy._codecarbon_data import codecarbon_data_file

    with open(codecarbon_data_file(CLOUD_REGIONS), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    places = []
    for row in rows:
        try:
            grams = float(row["impact"])
        except (KeyError, TypeError, ValueError):
            continue
        where = ", ".join(part for part in (row.get("city"), row.get("country_name")) if part)
        provider = row.get("providerName") or row.get("provider")
        name = f"{provider} {row.get('region')}" + (f" ({where})" if where else "")
        places.append(Place(name, f"{row.get('provider')}:{row.get('region')}", grams,
                            f"codecarbon {CLOUD_REGIONS}" + (f"; {row['source']}" if row.get("source") else ""),
                            provider=provider))
    return places
