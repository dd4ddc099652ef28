"""Numbers as a reader wants them: amounts of any size, durations, and their LaTeX forms."""

from __future__ import annotations

import math

from ..energy import format_joules

__all__ = ["amount", "duration", "format_joules", "latex_amount", "score"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _mantissa_exponent(value: float, digits: int) -> tuple[str, int]:
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return mantissa, int(exponent)


def amount(value: float | None, unit: str, digits: int = 3) -> str:
    """`value` with `digits` significant digits; tiny or huge ones as "2.84 × 10⁻⁶ kWh".

    >>> amount(0.0000028391, "kWh"), amount(12.345, "g"), amount(0, "g")
    ('2.84 × 10⁻⁶ kWh', '12.3 g', '0 g')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}g} {unit}".replace("e+", "e")
    mantissa, exponent = _mantissa_exponent(value, digits)
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)} {unit}"


def latex_amount(value: float | None, unit: str, digits: int = 3) -> str:
    r"""`amount` for LaTeX: ``$2.84\times10^{-6}$\,kWh``.

    >>> latex_amount(0.0000028391, "kWh"), latex_amount(12.345, "g")
    ('$2.84\\times10^{-6}$\\,kWh', '12.3\\,g')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}g}\\,{unit}"
    mantissa, exponent = _mantissa_exponent(value, digits)
    return f"${mantissa}\\times10^{{{exponent}}}$\\,{unit}"


def duration(seconds: float | None) -> str:
    """'2.4 s', '3 min 5 s', '1 h 02 min'.

    >>> duration(2.44), duration(185), duration(3725)
    ('2.4 s', '3 min 5 s', '1 h 02 min')
    """
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s"
    if seconds < 3600:
        whole = int(round(seconds))
        return f"{whole // 60} min {whole % 60} s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


def score(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"
