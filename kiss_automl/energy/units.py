"""Parse and format energy and CO2 quantities given by users.

Energy is kept in joules everywhere inside kiss-automl; this module converts
at the edges (configuration in, reports out).
"""

from __future__ import annotations

import logging
import math
import re

from kiss_automl.errors import ConfigError

logger = logging.getLogger(__name__)

JOULES_PER_WH = 3600.0
JOULES_PER_KWH = 3.6e6

# Units are matched case-sensitively so that "mJ" (milli) is never read as
# "MJ" (mega). Lower-case spellings are accepted only where unambiguous:
# "mj"/"mwh" could be either, so they are refused.
_ENERGY_UNITS: dict[str, float] = {
    "": 1.0,
    "J": 1.0,
    "j": 1.0,
    "kJ": 1e3,
    "kj": 1e3,
    "KJ": 1e3,
    "MJ": 1e6,
    "Wh": JOULES_PER_WH,
    "wh": JOULES_PER_WH,
    "kWh": 1e3 * JOULES_PER_WH,
    "kwh": 1e3 * JOULES_PER_WH,
    "KWh": 1e3 * JOULES_PER_WH,
    "MWh": 1e6 * JOULES_PER_WH,
}

# Grams. "Mg" (megagram) vs "mg" (milligram) is the same trap as mJ/MJ.
_CO2_UNITS: dict[str, float] = {
    "": 1.0,
    "mg": 1e-3,
    "g": 1.0,
    "kg": 1e3,
    "Kg": 1e3,
    "KG": 1e3,
    "t": 1e6,
    "T": 1e6,
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*$")
# "5 gCO2", "0.2 kg CO2e", "1t co2eq": the gas name after the unit is optional.
_CO2_SUFFIX = re.compile(r"\s*co2(?:e|eq)?\s*$", re.IGNORECASE)

_ENERGY_HINT = "expected joules or a unit such as 500J, 2kJ, 0.01kWh"
_CO2_HINT = "expected grams or a unit such as 5g, 0.2kg, 1t"


def _parse_quantity(
    value: str | float | int, units: dict[str, float], what: str, hint: str
) -> float:
    """Parse ``value`` as a positive finite number with an optional unit."""
    error = ConfigError(f"Cannot read {what} '{value}': {hint}")
    # bool is an int subclass; "True" as a budget is a mistake, not 1 J.
    if isinstance(value, bool):
        raise error
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None or match.group(2) not in units:
            raise error
        number = float(match.group(1)) * units[match.group(2)]
    else:
        raise error
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"The {what} must be a positive, finite amount, got '{value}'")
    return number


def parse_energy(value: str | float | int) -> float:
    """Read an energy quantity and return it in joules.

    Parameters
    ----------
    value : str or float or int
        A bare number (joules) or a string with a unit: ``J``, ``kJ``, ``MJ``,
        ``Wh``, ``kWh``, ``MWh`` (and the unambiguous lower-case forms
        ``j``, ``kj``, ``wh``, ``kwh``), e.g. ``"500 J"``, ``"0.01kWh"``.

    Returns
    -------
    float
        Joules, strictly positive and finite.

    Raises
    ------
    ConfigError
        If the value cannot be read, or is zero, negative, NaN or infinite.
    """
    return _parse_quantity(value, _ENERGY_UNITS, "energy budget", _ENERGY_HINT)


def parse_co2(value: str | float | int) -> float:
    """Read a CO2 quantity and return it in grams.

    Parameters
    ----------
    value : str or float or int
        A bare number (grams) or a string with a unit ``mg``, ``g``, ``kg`` or
        ``t``, optionally followed by ``CO2``/``CO2e``/``CO2eq``, e.g.
        ``"5 g"``, ``"0.2kg"``, ``"1t"``, ``"3 gCO2e"``.

    Returns
    -------
    float
        Grams, strictly positive and finite.

    Raises
    ------
    ConfigError
        If the value cannot be read, or is zero, negative, NaN or infinite.
    """
    if isinstance(value, str):
        value_no_gas = _CO2_SUFFIX.sub("", value)
        # Keep the user's original text in the error message.
        try:
            return _parse_quantity(value_no_gas, _CO2_UNITS, "CO2 budget", _CO2_HINT)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(f"'{value_no_gas}'", f"'{value}'")) from None
    return _parse_quantity(value, _CO2_UNITS, "CO2 budget", _CO2_HINT)


_PREFIXES = ((1e9, "GJ"), (1e6, "MJ"), (1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"))


def format_joules(joules: float) -> str:
    """Format joules for humans with three significant digits.

    Parameters
    ----------
    joules : float
        Energy in joules.

    Returns
    -------
    str
        E.g. ``"12.3 J"``, ``"4.56 kJ"``, ``"1.2 MJ"``, ``"500 mJ"``.
    """
    if not math.isfinite(joules):
        return f"{joules} J"
    if joules == 0:
        return "0 J"
    magnitude = abs(joules)
    # Largest prefix not above the value; the smallest one catches tiny values.
    index = next((i for i, (f, _) in enumerate(_PREFIXES) if magnitude >= f), len(_PREFIXES) - 1)
    factor, unit = _PREFIXES[index]
    text = f"{joules / factor:.3g}"
    # Rounding can reach the next prefix (999.95 J -> "1e+03 J"): move up.
    if abs(float(text)) >= 1000 and index > 0:
        factor, unit = _PREFIXES[index - 1]
        text = f"{joules / factor:.3g}"
    return f"{text} {unit}"


def joules_to_kwh(joules: float) -> float:
    """Convert joules to kilowatt-hours.

    Parameters
    ----------
    joules : float
        Energy in joules.

    Returns
    -------
    float
        Energy in kWh.
    """
    return joules / JOULES_PER_KWH


def kwh_to_joules(kwh: float) -> float:
    """Convert kilowatt-hours to joules.

    Parameters
    ----------
    kwh : float
        Energy in kWh.

    Returns
    -------
    float
        Energy in joules.
    """
    return kwh * JOULES_PER_KWH
