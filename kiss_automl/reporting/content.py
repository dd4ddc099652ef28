"""The report's sections, in reading order, as a format-free document."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from . import analysis, carbon, plots, words
from .document import Code, Document, Figure, Items, Section, Table, Text
from .folder import FitRecord
from .numbers import amount, duration, format_joules, score


def build(record: FitRecord) -> Document:
    sections = [_summary(record), _front(record), _search(record), _energy(record), _leaderboard(record),
                _statement(record), _regions(record), _notes(record)]
    data = record.run.get("data") or {}
    name = Path(data["csv"]).name if data.get("csv") else record.folder.name
    return Document(f"kiss-automl report: {name}", words.task_phrase(record), sections)


def _summary(record: FitRecord) -> Section:
    run = record.run
    footprint = carbon.footprint(record)
    best = analysis.best_row(record)
    selected = record.board[record.board["selected"]]
    chosen = selected.iloc[0] if len(selected) else best
    energy = run["energy"]
    refit = (f"the refit {format_joules(analysis.finite_or_zero(energy.get('refit_j')))}"
             if analysis.rows_kept(record) is None else "no refit (the search's model was kept: see the notes)")
    rows = [
        ["Task", words.task_phrase(record)],
        ["Evaluation", words.evaluation_phrase(record)],
        ["Selected", words.selected_phrase(record)],
        ["Score", words.score_phrase(record, chosen) if chosen is not None else "n/a"],
        ["Candidates", _candidates_phrase(record)],
        ["Settings", words.settings_phrase(record)],
        ["Stop", words.stop_sentence(record)],
        ["Energy", f"{format_joules(footprint.joules)} ({amount(footprint.kwh, 'kWh')}): {footprint.scope}; "
                   f"the candidates {format_joules(analysis.finite_or_zero(energy.get('candidates_j')))}, {refit}"],
        ["CO2", f"{amount(footprint.grams, 'g CO2e')} at {footprint.g_per_kwh:.4g} gCO2e/kWh "
                f"({footprint.place}) and PUE {footprint.pue:g}"],
        ["Time", duration(footprint.seconds)],
        ["Measured by", f"{energy.get('method', '?')}: {carbon.method_phrase(record)}"],
    ]
    if run.get("command"):
        rows.append(["Command", str(run["command"])])
    return Section("summary", "Summary", [Table(["", ""], rows, id="summary-table")])


def _candidates_phrase(record: FitRecord) -> str:
    """'12 trained (2 timed out) and a blend of them', from the leaderboard's statuses."""
    board = record.board
    trained = board[board["family"] != "ensemble"]
    statuses = trained["status"].value_counts()
    parts = [f"{statuses[s]} {label}" for s, label in (("failed", "failed"), ("timeout", "timed out"))
             if statuses.get(s)]
    replayed = int(analysis.finite_or_zero(record.run.get("n_replayed")))
    if replayed:
        parts.append(f"{replayed} replayed from the journal of a stopped fit (--resume)")
    text = f"{len(trained)} trained" + (f" ({'; '.join(parts)})" if parts else ", none failed")
    if len(trained) > 1 and statuses.get("ok", 0) <= 1:
        text += ": only one candidate scored, see the leaderboard's errors"
    return text + (" and a blend of the best" if len(trained) < len(board) else "")


def _front(record: FitRecord) -> Section:
    blocks: list = [Figure("score_vs_energy", plots.score_vs_energy(record),
                           "Every successful candidate. Left: score against the energy of its fits over the "
                           "folds; right: against the energy of predicting 1,000 rows. The line is the Pareto "
                           "front (no candidate is both cheaper and better); the star is the selected model, the "
                           "diamond the cheapest to run within one standard error of the best, by the cost "
                           "model's estimate of inference energy (what --selection simplest reads). Faded points "
                           "were scored on fewer rows (a lower rung).")]
    failed = record.board[record.board["status"] != "ok"]
    if len(failed):
        blocks.append(Text("Not plotted (no score):"))
        blocks.append(Items([f"trial {int(r.trial)} ({r.family}): {r.status}: {r.error}"
                             for r in failed.itertuples()]))
    return Section("front", "Score against energy", blocks)


def _search(record: FitRecord) -> Section:
    curve = analysis.search_curve(record)
    firsts = ", ".join(f"{p.family} at {format_joules(p.joules)}" for p in analysis.first_of_each_family(curve))
    shaded = "; shaded: the doubling of energy the plateau rule compared last" if (
        record.run.get("stop_detail") or {}).get("doublings") else ""
    return Section("search", "The search", [
        Figure("search_curve", plots.search_curve(record),
               "The best score so far against the energy the search had spent, on the axis the stop rule "
               f"reads. Dotted lines: each family's first candidate{shaded}; dashed: where the search stopped."),
        Text(words.stop_sentence(record)),
        Text(f"Families in the order the search reached them: {firsts}.", muted=True),
    ])


def _energy(record: FitRecord) -> Section:
    families = analysis.energy_by_family(record)
    spent = families["total_j"].sum()
    family_rows = [[r.family, str(r.candidates), str(r.failed), format_joules(r.fit_j), format_joules(r.predict_j),
                    format_joules(r.total_j), f"{100 * r.total_j / spent:.0f}%" if spent else "", score(r.best_score)]
                   for r in families.itertuples()]
    phases = analysis.energy_by_phase(record)
    total = sum(p.joules for p in phases)
    phase_rows = [[p.name, format_joules(p.joules), f"{100 * p.joules / total:.1f}%" if total else "", p.what]
                  for p in phases]
    blocks = [
        Figure("energy", plots.energy_breakdown(record),
               "Left: the candidates' energy by family (fits, then their predictions on held-out rows); "
               "right: the whole fit by phase."),
        Table(["family", "candidates", "failed", "fit", "predict", "total", "share", "best score"], family_rows,
              numeric=frozenset(range(1, 8)), id="energy-by-family"),
        Table(["phase", "energy", "share", "what"], phase_rows, numeric=frozenset({1, 2}), id="energy-by-phase"),
    ]
    codecarbon = record.run["energy"].get("codecarbon_whole_run_j")
    if codecarbon is not None:
        blocks.append(Text(f"Cross-check (--cross-check): codecarbon's tracker, run around the fit in process "
                           f"mode, measured {format_joules(float(codecarbon))}; this meter read "
                           f"{format_joules(total)} for the phases above."))
    return Section("energy", "Where the energy went", blocks)


LEADERBOARD_HEADER = ["rank", "trial", "family", "rung", "rows", "score ± std", "fit J", "predict J/1k",
                      "CO2 mg", "fit s", "status", "params or error"]


def _leaderboard(record: FitRecord) -> Section:
    board = record.board.sort_values(["rank", "trial"], na_position="last", kind="stable")
    rows, classes = [], []
    for r in board.itertuples():
        rank = "" if pd.isna(r.rank) else str(int(r.rank))
        blend = r.family == "ensemble"  # nothing new was fit: its cost is its members'
        rows.append([rank, str(int(r.trial)), r.family, str(int(r.rung)), f"{int(r.n_rows):,}",
                     f"{score(r.score)} ± {score(r.score_std)}" if r.status == "ok" else "",
                     "members'" if blend else _short(r.fit_energy_j), _short(r.predict_energy_j_per_1k),
                     "" if blend else _short(_float(r.co2_g) * 1000), "" if blend else f"{_float(r.fit_time_s):.2f}",
                     r.status, words.params_phrase(r.params) if r.status == "ok" else r.error])
        classes.append("selected" if r.selected else ("failed" if r.status != "ok" else ""))
    return Section("leaderboard", "The leaderboard", [
        Text("Every candidate, best first; failed and timed-out ones last, with their error. Energy is what the "
             "meter read, the fits summed over the folds; CO2 uses the fit's carbon intensity and PUE. A blend "
             "predicts with every member: its fits are its members' rows."),
        Table(LEADERBOARD_HEADER, rows, numeric=frozenset(range(0, 10)) - {2}, row_classes=classes,
              id="leaderboard-table"),
    ])


def _short(value) -> str:
    """Three significant digits, never an exponent: a table cell stays narrow."""
    number = _float(value)
    if not math.isfinite(number):
        return ""
    return f"{number:.3g}" if 1e-3 <= abs(number) < 1e4 or number == 0 else f"{number:.1e}"


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _statement(record: FitRecord) -> Section:
    text = carbon.statement(record)
    return Section("carbon-statement", "Carbon statement", [
        Text("To cite this fit's footprint, e.g. in a paper's appendix. The fields are those the ML CO2 Impact "
             "calculator and Green Algorithms ask for, with how the energy was measured."),
        Table(["", ""], [[k, v] for k, v in text.fields], id="statement-fields"),
        Code(text.text, "Plain text"),
        Code(text.latex, "LaTeX", language="latex"),
    ])


_GROUPS = {"your fit": "this fit's location", "lowest": "lowest-carbon countries",
           "highest": "highest-carbon countries", "cloud": "cloud region"}


def _regions(record: FitRecord) -> Section:
    rows = carbon.other_regions(record)
    own, footprint = rows[0].place, carbon.footprint(record)

    def table(picked, **extra) -> Table:
        def yours(r) -> bool:  # the fit's own country may also be among the extremes
            return r.group == "your fit" or (r.place.code == own.code and r.place.g_per_kwh == own.g_per_kwh)

        return Table(["where", "", "gCO2e/kWh", "this fit's CO2", "× yours"],
                     [[r.place.name, _GROUPS[r.group] + (" (yours)" if yours(r) and r.group != "your fit" else ""),
                       f"{r.place.g_per_kwh:.4g}", amount(r.grams, "g"), f"{r.ratio:.2f}"] for r in picked],
                     numeric=frozenset({2, 3, 4}), row_classes=["yours" if yours(r) else "" for r in picked],
                     **extra)

    countries = [r for r in rows if r.group != "cloud"]
    cloud = [r for r in rows if r.group == "cloud"]
    blocks: list = [
        Text(f"The same energy ({format_joules(footprint.joules)}, PUE "
             f"{footprint.pue:g}) on other grids, from codecarbon's offline tables. Countries "
             f"are those generating at least {carbon.MIN_COUNTRY_TWH:g} TWh a year."),
        table(countries, id="regions-table"),
    ]
    if cloud:
        providers = sorted({r.place.provider for r in cloud})
        blocks.append(table(cloud, id="cloud-regions", collapsed=True,
                            caption=f"{len(cloud)} cloud regions ({', '.join(providers)}: the providers "
                                    "codecarbon's offline table lists)"))
    return Section("regions", "The same fit elsewhere", blocks)


def _notes(record: FitRecord) -> Section:
    run = record.run
    notes = list(run.get("notes") or [])
    notes += [f"Family {name} skipped: {why}" for name, why in (run.get("skipped_families") or {}).items()]
    if run.get("n_replayed"):
        notes.append(f"{run['n_replayed']} candidates were replayed from the journal of a stopped fit (--resume): "
                     "their energy was spent by that fit, and is counted in the candidates' figures but not in "
                     "this process's.")
    if not notes:
        return Section("notes", "Notes", [Text("The data needed no notes: no column was dropped or changed.",
                                               muted=True)])
    return Section("notes", "Notes", [Items(notes)])
