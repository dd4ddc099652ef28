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

    >>> amount(0.0000028391, "kWh"), amount(12.345, "g"), amount(0, "g"), amount(1234.5, "g")
    ('2.84 × 10⁻⁶ kWh', '12.3 g', '0 g', '1,234 g')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if 1e3 <= abs(value) < 1e6:
        return f"{value:,.0f} {unit}"
    if value == 0 or 1e-3 <= abs(value) < 1e3:
        return f"{_significant(value, digits)} {unit}"
    mantissa, exponent = _mantissa_exponent(value, digits)
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)} {unit}"


def latex_amount(value: float | None, unit: str, digits: int = 3) -> str:
    r"""`amount` for LaTeX: ``$2.84\times10^{-6}$\,kWh``.

    >>> latex_amount(0.0000028391, "kWh"), latex_amount(12.345, "g"), latex_amount(2500, "g")
    ('$2.84\\times10^{-6}$\\,kWh', '12.3\\,g', '2{,}500\\,g')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if 1e3 <= abs(value) < 1e6:
        return f"{value:,.0f}".replace(",", "{,}") + f"\\,{unit}"
    if value == 0 or 1e-3 <= abs(value) < 1e3:
        return f"{_significant(value, digits)}\\,{unit}"
    mantissa, exponent = _mantissa_exponent(value, digits)
    return f"${mantissa}\\times10^{{{exponent}}}$\\,{unit}"


def _significant(value: float, digits: int) -> str:
    """`digits` significant digits, never in exponent form (999.96 rounds to "1000")."""
    text = f"{value:.{digits}g}"
    return f"{float(text):.0f}" if "e" in text else text


def duration(seconds: float | None) -> str:
    """'2.4 s', '3 min 5 s', '1 h 02 min'.

    >>> duration(2.44), duration(185), duration(3725), duration(3599.6)
    ('2.4 s', '3 min 5 s', '1 h 02 min', '1 h 00 min')
    """
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 59.95:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s"
    if round(seconds) < 3600:
        whole = int(round(seconds))
        return f"{whole // 60} min {whole % 60} s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


def score(value: float | None) -> str:
    """Four decimals for scores near 1 (accuracy, R²), six significant digits for large
    units (an RMSE in dollars).

    >>> score(0.87101), score(30225.6462), score(float("nan"))
    ('0.8710', '30225.6', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.6g}"
