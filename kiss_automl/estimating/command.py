"""`kiss-automl estimate`: the options as `fit` reads them, the forecast, a table or JSON.

Options and data are checked as `fit` checks them, in the same order and with the same
errors (a KissError: one line and exit 2, from cli.main). The process imports neither
pandas, scikit-learn, optuna nor any model library on the way (see scan.py for why), and
says what it cost itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json

from .. import config as config_module
from ..errors import ConfigError
from . import forecast as fc
from .scan import Scan, scan

# metrics.METRICS: names and the tasks they serve, in its order (tests keep the two equal).
METRIC_TASKS = {"accuracy": "classification", "balanced_accuracy": "classification", "f1": "classification",
                "roc_auc": "classification", "log_loss": "classification", "r2": "regression",
                "rmse": "regression", "mae": "regression"}


def estimate_command(args: argparse.Namespace) -> int:
    from ..energy import parse_co2, parse_energy
    from ..energy.cputime import process_cpu_seconds

    energy_budget = parse_energy(args.energy_budget) if args.energy_budget is not None else None
    co2_budget = parse_co2(args.co2_budget) if args.co2_budget is not None else None
    data = scan(args.csv, args.target, args.task)
    settings = settings_from(args, energy_budget, co2_budget)
    from ..energy import carbon_intensity
    from ..energy.cpu_power import cpu_power

    intensity = carbon_intensity(args.country, args.region)  # fit looks it up before the metric
    check_metric(settings.metric, data.task)
    g_per_j = intensity.g_per_kwh * settings.pue / 3.6e6
    watts = cpu_power().watts_per_core
    families, skipped = available_families(settings)
    # A sample is searched on its rows, but the whole file is still read (cells) to draw it.
    rows = data.rows if args.sample_rows is None else min(data.rows, args.sample_rows)
    result = fc.forecast(fc.Data(rows, data.columns.columns, data.columns.width, data.n_classes, data.cells,
                                 data.text_cells), settings, families, watts_per_core=watts, g_per_j=g_per_j)
    own_cpu_s = process_cpu_seconds()  # this process from its start: interpreter, imports, reading, forecast
    report = to_dict(result, data, settings, args, intensity, skipped, own_cpu_s)
    report["notes"] += not_forecast(args) + ([] if args.no_text else text_notes(data, watts))
    if rows < data.rows:
        report["notes"].append(f"--sample-rows: the search runs on a uniform sample of {rows:,} of the file's "
                               f"{data.rows:,} rows")
    report["notes"] += memory_notes(args.csv, args.sample_rows, checked=not args.no_memory_check)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(render(report), end="")
    return 0


def memory_notes(csv: str, sample_rows: int | None, checked: bool = True) -> list[str]:
    """What `fit`'s memory check will find, for files large enough to be checked (reading
    their head takes pandas, ~0.4 CPU-s: nothing against a fit on 32 MiB of CSV)."""
    import os

    from .. import memory_check

    if os.path.getsize(csv) < memory_check.CHECK_FROM_BYTES:
        return []
    from ..data import table_size

    table = table_size(csv)
    if table is None:
        return []
    available = memory_check.available_bytes()
    found = memory_check.verdict(table, sample_rows, available)
    note = (f"memory: a fit on ~{found.rows:,} rows ({table.bytes_per_row:.0f} bytes a row in pandas) peaks near "
            f"{found.peak / 2**30:.3g} GiB; {available / 2**30:.3g} GiB is available")
    if not found.fits:
        note += (f": fit will refuse it; --sample-rows {found.sample_that_fits} fits" if checked
                 else ": --no-memory-check, so fit will read it whole anyway")
    return [note]


def settings_from(args: argparse.Namespace, energy_budget: float | None, co2_budget: float | None):
    """The SearchConfig `fit` would search with: the CLI's overrides, then the estimator's."""
    base = load_config(args.config).replace(co2_budget=co2_budget, trial_timeout=args.trial_timeout,
                                            selection=args.selection, memory_limit=args.memory_limit, pue=args.pue)
    return base.replace(time_budget=args.time_budget, energy_budget=energy_budget, max_trials=args.max_trials,
                        metric=args.metric, n_jobs=args.n_jobs)


def load_config(name: str):
    """config.load, for less: the `default` preset holds SearchConfig's own defaults (a test
    keeps them equal), so it is not read, which spares importing and running PyYAML (~15% of
    this command); other YAML is read with libyaml where it is there. Any problem is left to
    config.load, for its own error."""
    from pathlib import Path

    if name == "default":
        return config_module.validate(config_module.SearchConfig())
    path = Path(name)
    if not path.suffix and (config_module.PRESETS_DIR / f"{name}.yaml").is_file():
        path = config_module.PRESETS_DIR / f"{name}.yaml"
    try:
        import yaml

        values = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # noqa: BLE001 - a missing or unreadable file, bad YAML: config.load says what
        return config_module.load(name)
    if not isinstance(values, dict) and values is not None:
        return config_module.load(name)
    return config_module.from_mapping(values or {}, source=str(path))


def not_forecast(args: argparse.Namespace) -> list[str]:
    """What the given options change in a fit that the forecast leaves out, in words."""
    notes = []
    if args.trial_timeout is not None:
        notes.append(f"--trial-timeout {args.trial_timeout:g} is not forecast: candidates that run past it stop "
                     "early and cost less than shown")
    if args.cross_check:
        notes.append("--cross-check adds codecarbon's start-up, ~1.5 CPU-s (~6 J at 4 W per core), not included")
    if args.resume:
        notes.append("--resume replays the candidates a stopped fit journaled without training them: the fit "
                     "costs less than shown by what they cost")
    return notes


def text_notes(data: Scan, watts_per_core: float) -> list[str]:
    """Free text: what its steps add, by the cost model's per-character rates (not calibrated
    as the forecast is)."""
    from ..cost_model import TFIDF_FIT_J_PER_CHAR, embedding_joules

    if not data.columns.free_text:
        return []
    chars = sum(data.columns.free_text.values())
    scale = watts_per_core / 4.0  # the rates were measured at 4 W per core
    tfidf = 2 * data.rows * chars * TFIDF_FIT_J_PER_CHAR * scale  # the search's folds and the refit
    names = ", ".join(f"'{c}'" for c in data.columns.free_text)
    return [f"Free text in {names} ({chars:.0f} characters a row): its TF-IDF step adds about {_num(tfidf)} J, "
            f"not in the figures above; sentence embeddings, if the search tries them, about "
            f"{_num(embedding_joules(data.rows, chars) * scale)} J more"]


def check_metric(name: str | None, task: str) -> None:
    """metrics.get_metric's check, in its words, without importing scikit-learn."""
    kind = "regression" if task == "regression" else "classification"
    if name is not None and METRIC_TASKS.get(name) != kind:
        valid = ", ".join(m for m, k in METRIC_TASKS.items() if k == kind)
        raise ConfigError(f"Unknown metric '{name}' for a {task} task; choose one of: {valid}")


def available_families(settings) -> tuple[tuple[str, ...], dict[str, str]]:
    """engine.available_families without importing: a family whose library is not installed is skipped."""
    families, skipped = [], {}
    for name in settings.families:
        module = fc.REQUIRES.get(name)
        if module and importlib.util.find_spec(module) is None:
            skipped[name] = f"missing {module}"
            continue
        families.append(name)
    return tuple(families), skipped


# ------------------------------------------------------------------------------- the report

def to_dict(f: fc.Forecast, data: Scan, settings, args, intensity, skipped: dict, own_cpu_s: float) -> dict:
    sc = f.scenarios

    def energy(cpu: dict[str, float], candidates: bool = False) -> dict:
        joules = {k: f.joules(v) for k, v in cpu.items()}
        return {"energy_j": joules, "co2_g": {k: j * f.g_per_j for k, j in joules.items()},
                "time_s": {k: f.seconds(v, candidates) for k, v in cpu.items()}}

    families = []
    per = {s: f.by_family(s) for s in fc.SCENARIOS}
    for name in f.families:
        families.append({"family": name, "candidates": {s: per[s][name][0] for s in fc.SCENARIOS},
                         **energy({s: per[s][name][1] for s in fc.SCENARIOS}, candidates=True)})
    total_cpu = {s: sc[s].total_cpu_s for s in fc.SCENARIOS}
    total = {"candidates": {s: sum(step.count for step in sc[s].steps) for s in fc.SCENARIOS},
             **energy(total_cpu), "stop": {s: sc[s].stop for s in fc.SCENARIOS}}
    total["time_s"] = {s: f.total_seconds(s) for s in fc.SCENARIOS}
    total["energy_kwh"] = {s: j / 3.6e6 for s, j in total["energy_j"].items()}
    own_j = own_cpu_s * f.watts_per_core
    return {
        "csv": str(args.csv), "target": args.target, "task": data.task, "rows": data.rows,
        "columns": data.input_columns, "typed_columns": data.columns.columns,
        "one_hot_width": data.columns.width, "classes": data.n_classes or None,
        "read": {"method": data.method, "rows_exact": data.exact_rows, "bytes": data.bytes,
                 "dropped_columns": data.columns.dropped, "notes": data.notes},
        "evaluation": {"mode": f.plan.mode, "splits": len(f.plan.splits), "rungs": list(f.plan.rungs)},
        "budgets": {"time_s": settings.time_budget, "energy_j": settings.energy_budget,
                    "co2_g": settings.co2_budget, "max_trials": settings.max_trials},
        "selection": settings.selection, "n_jobs": settings.n_jobs, "seed": args.seed,
        "skipped_families": skipped,
        "carbon_intensity": {"g_per_kwh": intensity.g_per_kwh, "country": intensity.country,
                             "region": intensity.region, "source": intensity.source},
        "pue": settings.pue,
        "energy_method": f"cost model fitted to the cpu-time-model meter, priced at {f.watts_per_core:.3g} W/core",
        "calibration": " ".join((fc.cal.__doc__ or "").split("\n\n")[0].split()),
        "families": families,
        "refit": energy({s: sc[s].refit_cpu_s for s in fc.SCENARIOS}),
        "fixed": {**energy({s: sum(sc[s].fixed_cpu_s.values()) for s in fc.SCENARIOS}),
                  "parts_j": {k: v * f.watts_per_core for k, v in sc["central"].fixed_cpu_s.items()}},
        "total": total,
        "own_cost": {"cpu_s": own_cpu_s, "energy_j": own_j, "co2_g": own_j * f.g_per_j,
                     "share_of_central": own_j / max(total["energy_j"]["central"], 1e-12)},
        "notes": f.notes,
    }


def _num(x: float) -> str:
    """Three significant figures, no exponent for everyday sizes."""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 0.01:
        return f"{x:.3g}"
    return f"{x:.2g}"


def _count(x: float) -> str:
    """Expected candidates: whole, or to a tenth (tuning is spread over the families it may go to)."""
    return f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def _range(d: dict[str, float]) -> str:
    return f"{_num(d['central'])} ({_num(d['low'])}-{_num(d['high'])})"


def render(r: dict) -> str:
    ev = r["evaluation"]
    how = f"{ev['splits']}-fold CV" if ev["mode"] == "cv" else \
        f"holdout, row rungs {', '.join(f'{n:,}' for n in ev['rungs'])}"
    ci = r["carbon_intensity"]
    where = ci["country"] + (f"/{ci['region']}" if ci["region"] else "")
    t = r["total"]
    # CO2 in mg for small fits (most of them), else g.
    co2_unit, co2_scale = ("mg", 1e3) if t["co2_g"]["high"] < 1 else ("g", 1.0)
    lines = [f"Estimate for {r['csv']}: {r['rows']:,} rows x {r['columns']} columns "
             f"({r['typed_columns']} typed, one-hot width {r['one_hot_width']}), {r['task']}"
             + (f" ({r['classes']} classes)" if r["classes"] and r["classes"] > 2 else "") + f"; {how}",
             f"Carbon intensity {ci['g_per_kwh']:.0f} g/kWh ({where}), PUE {r['pue']:g}; {r['energy_method']}", ""]
    header = ("", "candidates", "energy J", f"CO2 {co2_unit}", "time s")

    def row(label, part, count=""):
        return (label, count, _num(part["energy_j"]["central"]), _num(part["co2_g"]["central"] * co2_scale),
                _num(part["time_s"]["central"]))

    rows = [header]
    for fam in r["families"]:
        rows.append(row(fam["family"], fam, _count(fam["candidates"]["central"])))
    rows.append(row("refit on all rows", r["refit"]))
    rows.append(row("start-up, reading, typing, loop", r["fixed"]))
    scaled = {k: v * co2_scale for k, v in t["co2_g"].items()}
    # The scenarios are energy scenarios: a budget can cut the costlier one's candidates shorter.
    fewest, most = min(t["candidates"].values()), max(t["candidates"].values())
    rows.append(("total: central (low-high)", f"{_count(t['candidates']['central'])} ({_count(fewest)}-{_count(most)})",
                 _range(t["energy_j"]), _range(scaled),
                 _range(t["time_s"])))
    widths = [max(len(x[i]) for x in rows) for i in range(len(header))]
    for i, cells in enumerate(rows):
        if i in (1, len(rows) - 1):
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(c.ljust(widths[0]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(cells)))
    kwh = t["energy_kwh"]
    stops = sorted(set(t["stop"].values()))
    lines += ["", f"Total energy {_num(t['energy_j']['central'])} J = {kwh['central']:.2g} kWh "
                  f"(range {kwh['low']:.2g}-{kwh['high']:.2g} kWh); the search is expected to stop on "
                  f"{' or '.join(stops)}."]
    if r["skipped_families"]:
        lines.append("Skipped (not installed): " + ", ".join(f"{k} ({v})" for k, v in r["skipped_families"].items()))
    for note in r["read"]["notes"] + r["notes"]:
        lines.append(f"Note: {note}")
    own = r["own_cost"]
    lines.append(f"This estimate used {_num(own['energy_j'])} J ({own['cpu_s']:.2f} CPU-s), "
                 f"{own['share_of_central']:.1%} of the fit it forecasts.")
    return "\n".join(lines) + "\n"
