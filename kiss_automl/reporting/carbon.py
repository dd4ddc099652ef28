"""The carbon statement to cite, and the same fit's CO2 in other places.

The statement carries what the ML CO2 Impact calculator and Green Algorithms ask authors to
report (runtime, hardware, energy, location and its carbon intensity, PUE, footprint), plus
what only a measured fit can say: how the energy was measured, and what the chosen model
costs per million predictions. The wording is kiss-automl's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..energy.carbon import Place, cloud_region_intensities, country_intensities, country_name
from ..energy.units import JOULES_PER_KWH
from . import analysis
from .folder import FitRecord
from .numbers import amount, duration, format_joules, latex_amount

# Countries generating less than this a year (a few plants, often one) are left out of the
# lowest/highest lists: their figure says little about where one could run a computation.
MIN_COUNTRY_TWH = 10.0
EXTREMES = 5


@dataclass(frozen=True)
class Footprint:
    """The figures a statement cites, computed once from the folder."""

    joules: float
    scope: str
    g_per_kwh: float
    pue: float
    pue_source: str
    place: str
    intensity_source: str
    seconds: float | None
    predict_j_per_million: float | None

    @property
    def kwh(self) -> float:
        return self.joules / JOULES_PER_KWH

    @property
    def grams(self) -> float:
        return grams(self.joules, self.g_per_kwh, self.pue)


def grams(joules: float, g_per_kwh: float, pue: float) -> float:
    """CO2e of `joules` used by the computer in a facility of `pue`, on a grid of `g_per_kwh`."""
    return joules * pue / JOULES_PER_KWH * g_per_kwh


def footprint(record: FitRecord) -> Footprint:
    run = record.run
    joules, scope = analysis.total_energy(record)
    intensity = run["carbon_intensity"]
    pue = run.get("pue") or {"value": 1.0, "source": "default"}
    times = run["time"]
    # The wall time of the span the energy covers: the process, else the command, else the search.
    seconds = times.get("process_s") if run["energy"].get("process_j") is not None else None
    if seconds is None:
        seconds = times.get("fit_command_s")
    if seconds is None:
        seconds = (times.get("search_s") or 0.0) + (times.get("refit_s") or 0.0)
    selected = next((row for _, row in record.board.iterrows() if row["selected"]), None)
    per_1k = float(selected["predict_energy_j_per_1k"]) if selected is not None else None
    return Footprint(joules, scope, float(intensity["g_per_kwh"]), float(pue["value"]), str(pue["source"]),
                     place_name(intensity), source_name(str(intensity.get("source", ""))), seconds,
                     per_1k * 1000 if per_1k is not None else None)


def place_name(intensity: dict) -> str:
    """'France', 'United States, california', or the world average when no place was given."""
    country, region = intensity.get("country"), intensity.get("region")
    if not country or country == "World":
        return "World average, no location given"
    name = country_name(country)
    if not region:
        return name
    # codecarbon names regions in lower case: "california", "se3".
    return f"{name}, {region.upper() if len(region) <= 3 else region.title()}"


def source_name(source: str) -> str:
    """A source as a citation shows it: codecarbon's tables by name, not by path in its package.

    >>> source_name("codecarbon private_infra/2023/usa_emissions.json (EPA eGRID)")
    'codecarbon usa emissions table (EPA eGRID)'
    """
    return re.sub(r"(?:private_infra/|cloud/)(?:\d{4}/)?(\w+)\.(?:json|csv)",
                  lambda m: m.group(1).replace("_", " ") + " table", source)


def method_phrase(record: FitRecord) -> str:
    """How the energy was measured, with the constants that make the figure."""
    energy = record.run["energy"]
    method = str(energy.get("method", "unknown"))
    constants = energy.get("constants") or {}
    if method.startswith("cpu-time-model"):
        watts = constants.get("watts_per_core")
        if constants.get("tdp_w") and constants.get("matched_cpu"):
            why = (f"the {constants['tdp_w']:g} W TDP of {constants['matched_cpu']} over {constants.get('threads')} "
                   "hardware threads, from codecarbon's CPU table")
        else:
            why = "codecarbon's default figure, as this CPU is not in its table"
        text = f"the process's CPU time at {watts:g} W per core ({why})"
    elif "rapl" in method:
        text = f"the CPU's RAPL energy counters ({', '.join(constants.get('zones', [])) or 'package'}; whole machine)"
    else:
        text = f"the {method} meter"
    if method.startswith("nvml"):
        text = "NVIDIA's NVML energy counters for the GPU, plus, for the CPU, " + text
    return text


def hardware_phrase(record: FitRecord) -> str:
    hw = record.run.get("hardware") or {}
    cpu = hw.get("cpu_model") or "an unnamed CPU"
    used = hw.get("cores_used")
    cores = f"{used} of {hw.get('logical_cpus')} logical cores used" if used else \
        f"{hw.get('logical_cpus', '?')} logical cores"
    gpus = hw.get("gpus") or []
    return f"{cpu} ({cores})" + (f" and {len(gpus)} GPU(s): {', '.join(gpus)}" if gpus else " and no GPU")


def _pue_phrase(f: Footprint) -> str:
    if f.pue_source == "default":
        return f"a PUE of {f.pue:g} (the default: no data-centre overhead counted)"
    given = "--pue" if f.pue_source == "--pue" else "the configuration's pue"
    return f"a PUE of {f.pue:g} (given with {given})"


@dataclass(frozen=True)
class Statement:
    fields: list[tuple[str, str]]
    text: str
    latex: str


def statement(record: FitRecord) -> Statement:
    """The statement as a table of fields, a plain paragraph and a LaTeX paragraph."""
    f = footprint(record)
    run = record.run
    version = run.get("kiss_automl_version", "?")
    family = _selected_name(run)
    hardware = hardware_phrase(record)
    method = method_phrase(record)
    fields = [
        ("Software", f"kiss-automl {version}"),
        ("Runtime", duration(f.seconds)),
        ("Hardware", hardware),
        ("Energy", f"{amount(f.kwh, 'kWh')} ({format_joules(f.joules)}), {f.scope}"),
        ("Measurement", method),
        ("Location", f.place),
        ("Carbon intensity", f"{f.g_per_kwh:.4g} gCO2e/kWh ({f.intensity_source})"),
        ("PUE", f"{f.pue:g} ({'default' if f.pue_source == 'default' else 'given'})"),
        ("Footprint", amount(f.grams, "g CO2e")),
    ]
    per_million = None
    if f.predict_j_per_million is not None:
        per_million = (f.predict_j_per_million / JOULES_PER_KWH, grams(f.predict_j_per_million, f.g_per_kwh, f.pue))
        fields.append(("Inference", f"{amount(per_million[0], 'kWh')} and {amount(per_million[1], 'g CO2e')} "
                                    f"per million predictions ({family})"))
    words = [version, duration(f.seconds), hardware, f.scope, method, _pue_phrase(f), f.place, f.intensity_source,
             family]
    text = _paragraph(f, per_million, *words, style=PLAIN)
    latex = _paragraph(f, per_million, *words, style=LATEX)
    return Statement(fields, text, latex)


@dataclass(frozen=True)
class _Style:
    """How the paragraph writes its words and figures: as plain text or as LaTeX."""

    words: Callable[[str], str]
    energy: Callable[[float], str]  # kWh
    co2: Callable[[float], str]  # grams
    intensity: str  # the unit after g/kWh figures
    tie: str  # between "kiss-automl" and its version


PLAIN = _Style(str, lambda kwh: amount(kwh, "kWh"), lambda g: amount(g, "g CO2e"), " gCO2e/kWh", " ")
LATEX = _Style(lambda text: _latex_escape(text), lambda kwh: latex_amount(kwh, "kWh"),
               lambda g: latex_amount(g, "g") + " CO$_2$e", "\\,gCO$_2$e/kWh", "~")


def _paragraph(f: Footprint, per_million: tuple[float, float] | None, version: str, runtime: str, hardware: str,
               scope: str, method: str, pue: str, place: str, source: str, family: str, style: _Style) -> str:
    """The statement's paragraph, one wording for both forms."""
    w = style.words
    text = (f"Model selection and training used kiss-automl{style.tie}{w(version)}. The fit ran for {w(runtime)} on "
            f"{w(hardware)}. It used {style.energy(f.kwh)} of electricity ({w(scope)}), measured from {w(method)}, "
            f"with {w(pue)}. At a carbon intensity of {f.g_per_kwh:.4g}{style.intensity} ({w(place)}; source: "
            f"{w(source)}), this is {style.co2(f.grams)}.")
    if per_million is not None:
        text += (f" The selected model ({w(family)}) needs {style.energy(per_million[0])} per million predictions "
                 f"({style.co2(per_million[1])}).")
    return text


def _selected_name(run: dict) -> str:
    selected = run.get("selected") or {}
    members = selected.get("member_families") or []
    family = str(selected.get("family", "?"))
    return f"a blend of {', '.join(members)}" if members else family


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "`": "",
                  "×": r"$\times$", "⁻": "-"}


def _latex_escape(text: str) -> str:
    r"""Plain text made safe for LaTeX.

    >>> _latex_escape("a_b & 50% (R&D)")
    'a\\_b \\& 50\\% (R\\&D)'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


@dataclass(frozen=True)
class RegionRow:
    group: str  # "your fit", "lowest", "highest", "cloud"
    place: Place
    grams: float
    ratio: float  # this place's CO2 over the fit's own


def other_regions(record: FitRecord) -> list[RegionRow]:
    """The fit's energy in its own place, the cleanest and dirtiest grids, and cloud regions."""
    f = footprint(record)
    own = Place(f.place, str(record.run["carbon_intensity"].get("country", "")), f.g_per_kwh, f.intensity_source)

    def row(group: str, place: Place) -> RegionRow:
        emitted = grams(f.joules, place.g_per_kwh, f.pue)
        return RegionRow(group, place, emitted, place.g_per_kwh / f.g_per_kwh if f.g_per_kwh else float("nan"))

    countries = sorted((p for p in country_intensities() if (p.generation_twh or 0) >= MIN_COUNTRY_TWH),
                       key=lambda p: (p.g_per_kwh, p.name))
    rows = [row("your fit", own)]
    rows += [row("lowest", p) for p in countries[:EXTREMES]]
    rows += [row("highest", p) for p in countries[-EXTREMES:]]
    rows += [row("cloud", p) for p in sorted(cloud_region_intensities(), key=lambda p: (p.g_per_kwh, p.name))]
    return rows
