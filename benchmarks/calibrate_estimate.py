"""Measure the constants of `kiss-automl estimate` (kiss_automl/estimating/calibration.py)
from real fits, and show how the forecast then compares with them.

The fits come from `benchmarks/estimate_accuracy.py --seed S --fits-only`: the suite's
datasets, their training split at seed S written to a CSV, `kiss-automl fit` with default
options. From each fit's run.json and journal.jsonl (every candidate with its parameters,
rung, phase and measured joules) this script takes:

- FAMILY_FACTOR: measured / cost-model CPU-seconds of every probe (start configuration),
  per family; quantiles q20, q50, q80 (mlp, never probed: its tuned candidates);
- EXTRA_CANDIDATES: candidates after those that always run (the probes up to the last
  `always_probe` family's), per evaluation mode: the other probes and the tuning;
- TUNED_SHARE, TUNED_COST: which families tuning went to, and a tuned candidate's measured
  cost over its family's mean probe forecast;
- PROMOTED_SHARE, PROMOTED_COST: the same for promoted candidates (holdout plans), against
  the family's probes at the rung's rows with their rounds scaled as search._scaled_rounds does;
- GROWN_STEPS, GROWN_SHARE, GROWN_COST, GROWN_STEP_FACTOR: the capacity steps on all the rows
  (search._grow) of fits with more than one rung: how many, of which family, and the k-th
  step's cost over the family's promoted forecast at the top rung times the factor ** k;
  LONE_PAID: the share of those fits that took a step (its rows had paid), which stands for
  the chance that a lone promotion goes on; GROWN_REFIT: the refit after capacity steps over
  the last step's measured cost;
- REFIT_COST: the refit's measured CPU-s over the mean start configuration on all rows, for a
  blend (CV with `best`) and a single model;
- the fixed costs of the command from run.json's `process_cpu_s_parts`, `typing_j`,
  `search_j - candidates_j` and the rest of the fit part, by least squares on size where
  they grow with it;
- WALL_PER_CPU_S: the fit command's wall time (measured outside it) per CPU-second.

    python benchmarks/calibrate_estimate.py --seeds 1,2           # print the constants
    python benchmarks/calibrate_estimate.py --seeds 1,2 --check   # and the in-sample fit
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402
from estimate_accuracy import DEFAULT_OUT, fit_dir  # noqa: E402

from kiss_automl import config as config_module  # noqa: E402
from kiss_automl.estimating import forecast as fc  # noqa: E402
from kiss_automl.estimating import scan as scan_module  # noqa: E402

QUANTILES = (0.2, 0.5, 0.8)
# The settings that decide how long tuning goes on: recorded with the constants, so that a
# forecast under other values says it extrapolates.
TUNING_SETTINGS = ("tol", "patience", "family_patience", "noise_aware", "decision_energy")
# How the promoted rounds grow with the rung's rows: (rows / first rung's rows) ** exponent,
# the exponent whose ratios measured / forecast spread least (early stopping uses few of the
# rounds search._scaled_rounds allows).
ROUNDS_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
# How much dearer each capacity step is than the one before: the factor whose ratios spread least.
STEP_FACTORS = (1.5, 2.0, 2.5, 3.0)


def quantiles(values, qs=None) -> tuple[float, ...]:
    qs = qs or QUANTILES
    values = sorted(values)
    if not values:
        return tuple(1.0 for _ in qs)
    out = []
    for q in qs:
        pos = q * (len(values) - 1)
        lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
        out.append(values[lo] + (values[hi] - values[lo]) * (pos - lo))
    return tuple(round(v, 4) for v in out)


def log_spread(values) -> float:
    logs = [math.log(v) for v in values if v > 0]
    return statistics.pstdev(logs) if len(logs) > 1 else 0.0


def load_fits(out: Path, seeds: list[int], names: list[str]) -> list[dict]:
    fits = []
    for seed in seeds:
        walls = {}
        jsonl = out / f"fits-s{seed}.jsonl"
        if jsonl.exists():
            for line in jsonl.read_text().splitlines():
                row = json.loads(line)
                if "error" not in row:
                    walls[row["dataset"]] = row["fit_wall_s"]
        for name in names:
            folder = fit_dir(out, name, seed)
            if not (folder / "run.json").exists():
                continue
            run = json.loads((folder / "run.json").read_text())
            lines = (folder / "journal.jsonl").read_text().splitlines()
            candidates = [json.loads(line) for line in lines[1:]]
            fits.append({"name": name, "seed": seed, "run": run, "candidates": candidates,
                         "csv": out / "data" / f"{name}-s{seed}.csv", "wall_s": walls.get(name)})
    return fits


def data_of(fit: dict) -> fc.Data:
    s = scan_module.scan(fit["csv"], fit["run"]["data"]["target"])
    return fc.Data(s.rows, s.columns.columns, s.columns.width, s.n_classes, s.cells, s.text_cells)


def measured_cpu_s(candidate: dict, watts: float) -> float:
    e = candidate["evaluation"]
    return (e["fit_joules"] + e["predict_joules"]) / watts


def regression(xs: list[list[float]], ys: list[float]) -> list[tuple[float, ...]]:
    """Least squares of ys on xs, relative (coefficients clipped at 0), each coefficient times the
    q20, q50, q80 of the measured/fitted ratios: the low, central and high constants."""
    import numpy as np

    # Relative errors: the small fits (most of them) weigh as much as the large ones.
    weights = 1.0 / np.maximum(np.array(ys, float), 1e-6)
    coef, *_ = np.linalg.lstsq(np.array(xs, float) * weights[:, None], np.array(ys, float) * weights, rcond=None)
    coef = [max(0.0, float(c)) for c in coef]
    fitted = [max(1e-9, sum(c * x for c, x in zip(coef, row))) for row in xs]
    spread = quantiles([y / f for y, f in zip(ys, fitted)])
    return [tuple(round(c * r, 6) for r in spread) for c in coef]


def calibrate(fits: list[dict]) -> dict:
    settings = config_module.load("default")
    families = settings.families
    probe_ratio = {mode: {f: [] for f in families} for mode in ("cv", "holdout")}
    fc.cal.FAMILY_FACTOR = {mode: {f: (1.0, 1.0, 1.0) for f in families} for mode in probe_ratio}  # until measured
    extra = {"small": [], "cv": [], "holdout": []}
    tuned_count, tuned_ratio, promoted_count, promoted_ratio = {}, [], {}, {}
    refit = {"blend": [], "single": []}
    grown_counts, grown_family, grown_steps, grown_ratio, grown_refit = [], {}, [], {}, []
    fixed = {"startup": [], "read": [], "typing": [], "loop": [], "other": [], "save": [], "wall": [],
             "search_wall": []}
    for fit in fits:
        run, watts = fit["run"], fit["run"]["energy"]["constants"]["watts_per_core"]
        data = fit["data"]
        plan = fc.make_plan(data.rows, settings)
        assert plan.mode == run["evaluation"]["mode"] and list(plan.rungs) == run["evaluation"]["rungs"], fit["name"]
        cands = [c for c in fit["candidates"] if c["family"] != "ensemble"]
        probes, must = fc._probes(plan, data, settings, families, "central")
        rung0 = [c for c in cands if c["rung"] == 0]
        extra[fc.regime(plan, data, settings)].append(max(0, len(rung0) - must))
        for c in rung0:
            if c["phase"] == "start" or c["family"] == "mlp":
                raw = fc.model_cpu_s(c["family"], c["search_params"], fc.shapes(plan, 0, data, c["family"], settings))
                probe_ratio[plan.mode][c["family"]].append(measured_cpu_s(c, watts) / raw)
        fit["rung0"], fit["plan"] = rung0, plan
        fit["measured_candidates_cpu_s"] = sum(measured_cpu_s(c, watts) for c in cands)
        fit["n"] = len(cands)
    # Per evaluation mode: a holdout probe trains on a 4,000-row rung and scores up to 10,000
    # validation rows each boosting round; CV probes see other shapes. A family without data
    # in one mode (mlp) takes the other's.
    pooled = {f: probe_ratio["cv"][f] + probe_ratio["holdout"][f] for f in families}
    factors = {mode: {f: quantiles(v if len(v) >= 3 else pooled[f]) for f, v in by.items() if pooled[f]}
               for mode, by in probe_ratio.items()}
    fc.cal.FAMILY_FACTOR = factors  # the tuned, promoted and refit ratios are taken against corrected figures
    for fit in fits:
        run, watts, data, plan = fit["run"], fit["run"]["energy"]["constants"]["watts_per_core"], fit["data"], fit["plan"]
        for c in fit["rung0"]:
            if c["phase"] == "tuned":
                tuned_count[c["family"]] = tuned_count.get(c["family"], 0) + 1
                corrected, _ = fc._family_cost(c["family"], plan, 0, data, settings, "central")
                tuned_ratio.append(measured_cpu_s(c, watts) / corrected)
        grown = [c for c in fit["candidates"] if c["phase"] == "grown"]
        if plan.mode == "holdout" and len(plan.rungs) > 1:
            grown_counts.append(len(grown))
        for k, c in enumerate(grown, start=1):
            grown_family[c["family"]] = grown_family.get(c["family"], 0) + 1
            grown_steps.append((fit, k, c))
        for c in fit["candidates"]:
            if c["rung"] > 0 and c["phase"] != "grown":
                promoted_count[c["family"]] = promoted_count.get(c["family"], 0) + 1
                for exponent in ROUNDS_EXPONENTS:
                    growth = (plan.rungs[c["rung"]] / plan.rungs[0]) ** exponent
                    corrected, _ = fc._family_cost(c["family"], plan, c["rung"], data, settings, "central", growth)
                    promoted_ratio.setdefault(exponent, []).append(measured_cpu_s(c, watts) / corrected)
        e = run["energy"]
        blend = plan.mode == "cv"
        fc.cal.REFIT_COST = {"blend": (1.0,) * 3, "single": (1.0,) * 3}
        proxy = fc._refit("central", plan, data, settings, families)
        if grown:  # the refit follows the capacity the steps reached
            grown_refit.append(e["refit_j"] / watts / measured_cpu_s(grown[-1], watts))
        else:
            refit["blend" if blend else "single"].append(e["refit_j"] / watts / proxy)
        parts = e["process_cpu_s_parts"]
        number_cells, text_cells = (data.cells - data.text_cells) / 1e6, data.text_cells / 1e6
        fixed["startup"].append(parts["startup_and_imports"])
        fixed["read"].append(([1.0, number_cells, text_cells], parts["read_and_check"]))
        fixed["typing"].append(([number_cells, text_cells], e["typing_j"] / watts))
        fixed["loop"].append(([fit["n"], fit["n"] * data.rows / 1e6], (e["search_j"] - e["candidates_j"]) / watts))
        other = parts["fit"] - (e["typing_j"] + e["search_j"] + e["refit_j"]) / watts
        fixed["other"].append(([1.0, data.cells / 1e6], other))
        if "save" in parts:  # fits since run.json counts saving the folder (older ones did not)
            fixed["save"].append(([1.0, data.rows / 1e6], parts["save"]))
        if fit["wall_s"]:
            fixed["wall"].append(fit["wall_s"] / e["process_cpu_s"])
        fixed["search_wall"].append(run["time"]["search_s"] / (e["search_j"] / watts))
    total_tuned = sum(tuned_count.values()) or 1
    total_promoted = sum(promoted_count.values()) or 1
    exponent = min(promoted_ratio, key=lambda x: log_spread(promoted_ratio[x])) if promoted_ratio else 0.0
    for fit, k, c in grown_steps:  # against the promoted forecast at the top rung, with the exponent chosen
        plan, watts = fit["plan"], fit["run"]["energy"]["constants"]["watts_per_core"]
        top = len(plan.rungs) - 1
        growth = (plan.rungs[top] / plan.rungs[0]) ** exponent
        corrected, _ = fc._family_cost(c["family"], plan, top, fit["data"], settings, "central", growth)
        for factor in STEP_FACTORS:
            grown_ratio.setdefault(factor, []).append(measured_cpu_s(c, watts) / (corrected * factor ** k))
    step_factor = min(grown_ratio, key=lambda x: log_spread(grown_ratio[x])) if grown_ratio else 2.0
    total_grown = sum(grown_family.values()) or 1
    read = regression(*zip(*fixed["read"]))
    typing = regression(*zip(*fixed["typing"]))
    loop = regression(*zip(*fixed["loop"]))
    other = regression(*zip(*fixed["other"]))
    save = regression(*zip(*fixed["save"])) if fixed["save"] else [(0.0,) * 3, (0.0,) * 3]
    return {
        "FAMILY_FACTOR": factors,
        "EXTRA_CANDIDATES": {m: quantiles(v) for m, v in extra.items() if v},
        "TUNED_SHARE": {f: round(n / total_tuned, 3) for f, n in sorted(tuned_count.items())},
        "TUNED_COST": quantiles(tuned_ratio),
        "PROMOTED_SHARE": {f: round(n / total_promoted, 3) for f, n in sorted(promoted_count.items())},
        "PROMOTED_ROUNDS_EXPONENT": exponent,
        "PROMOTED_COST": quantiles(promoted_ratio.get(exponent, [])),
        "GROWN_STEPS": quantiles(grown_counts),
        "GROWN_SHARE": {f: round(n / total_grown, 3) for f, n in sorted(grown_family.items())},
        "GROWN_STEP_FACTOR": step_factor,
        "GROWN_COST": quantiles(grown_ratio.get(step_factor, [])),
        "LONE_PAID": round(sum(n > 0 for n in grown_counts) / max(1, len(grown_counts)), 3),
        "REFIT_COST": {k: quantiles(v) for k, v in refit.items() if v},
        "GROWN_REFIT": quantiles(grown_refit),
        "STARTUP_CPU_S": quantiles(fixed["startup"]),
        "READ_CPU_S": read[0],
        "READ_CPU_S_PER_MCELL": read[1],
        "READ_CPU_S_PER_TEXT_MCELL": read[2],
        "TYPING_CPU_S_PER_MCELL": typing[0],
        "TYPING_CPU_S_PER_TEXT_MCELL": typing[1],
        "LOOP_CPU_S_PER_CANDIDATE": loop[0],
        "LOOP_CPU_S_PER_CANDIDATE_MROW": loop[1],
        "OTHER_CPU_S": other[0],
        "OTHER_CPU_S_PER_MCELL": other[1],
        "SAVE_CPU_S": save[0],
        "SAVE_CPU_S_PER_MROW": save[1],
        "CALIBRATED_SETTINGS": {k: fits[0]["run"]["config"][k] for k in TUNING_SETTINGS},
        "WALL_PER_CPU_S": quantiles(fixed["wall"])[1],
        "SEARCH_WALL_PER_CPU_S": quantiles(fixed["search_wall"])[1],
        "_counts": {"fits": len(fits), "probes": {m: {f: len(v) for f, v in by.items()} for m, by in probe_ratio.items()},
                    "tuned": total_tuned, "promoted": total_promoted, "grown": sum(grown_family.values()),
                    "refits": {k: len(v) for k, v in refit.items()}, "saves": len(fixed["save"])},
    }


def check(fits: list[dict], reload: bool = True, show: bool = True) -> list[tuple[float, bool, float]]:
    """Forecast (with the constants in calibration.py) against each fit's process_j:
    (central / measured, measured within [low, high], high / low) per fit."""
    import importlib

    if reload:
        importlib.reload(fc.cal)
    settings = config_module.load("default")
    if show:
        print(f"{'fit':24s} {'low':>7s} {'central':>7s} {'high':>7s} {'measured':>8s} ratio in  cand.est/meas")
    out = []
    for fit in fits:
        f = fc.forecast(fit["data"], settings, settings.families, watts_per_core=4.0)
        lo, ce, hi = (f.joules(f.scenarios[s].total_cpu_s) for s in fc.SCENARIOS)
        measured = fit["run"]["energy"]["process_j"]
        out.append((ce / measured, lo <= measured <= hi, hi / lo))
        n = sum(s.count for s in f.scenarios["central"].steps)
        if show:
            print(f"{fit['name'] + '-s' + str(fit['seed']):24s} {lo:7.1f} {ce:7.1f} {hi:7.1f} {measured:8.1f} "
                  f"{ce / measured:5.2f} {'y' if lo <= measured <= hi else 'n'}  {n:4.1f}/"
                  f"{sum(c['family'] != 'ensemble' for c in fit['candidates'])}")
    if show:
        print(summary(out))
    return out


def summary(results) -> str:
    ratios = [r for r, _, _ in results]
    within = sum(0.5 <= r <= 2 for r in ratios)
    inside = sum(i for _, i, _ in results)
    return (f"median ratio {statistics.median(ratios):.2f}; within x2 {within}/{len(ratios)}; in range "
            f"{inside}/{len(ratios)}; median high/low {statistics.median(w for _, _, w in results):.2f}")


def leave_one_dataset_out(fits: list[dict], show: bool = True) -> list:
    """Each dataset forecast with constants measured on the other datasets' fits only."""
    import importlib

    results = []
    for name in sorted({f["name"] for f in fits}):
        importlib.reload(fc.cal)
        constants = calibrate([f for f in fits if f["name"] != name])
        for key, value in constants.items():
            if not key.startswith("_"):
                setattr(fc.cal, key, value)
        results += check([f for f in fits if f["name"] == name], reload=False, show=show)
    importlib.reload(fc.cal)
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--datasets", help="comma-separated (default: all 22)")
    p.add_argument("--check", action="store_true", help="compare the current calibration.py with the fits")
    p.add_argument("--write", action="store_true", help="write kiss_automl/estimating/calibration.py")
    p.add_argument("--range-quantiles", help="low,high percentiles of the ranges (default 0.2,0.8)")
    p.add_argument("--choose-range", action="store_true",
                   help="leave-one-dataset-out coverage and width for several range percentiles")
    p.add_argument("--leave-one-out", action="store_true",
                   help="forecast each dataset with constants measured on the others only")
    args = p.parse_args(argv)
    names = args.datasets.split(",") if args.datasets else list(suite_data.manifest())
    fits = load_fits(Path(args.out), [int(s) for s in args.seeds.split(",")], names)
    for fit in fits:
        fit["data"] = data_of(fit)
    if args.check:
        check(fits)
        return 0
    global QUANTILES
    if args.range_quantiles:
        low, high = (float(x) for x in args.range_quantiles.split(","))
        QUANTILES = (low, 0.5, high)
    if args.leave_one_out:
        print("leave-one-dataset-out:", summary(leave_one_dataset_out(fits)))
        return 0
    if args.choose_range:
        # The narrowest range whose leave-one-dataset-out coverage reaches 80%.
        for low, high in ((0.3, 0.7), (0.25, 0.75), (0.2, 0.8), (0.15, 0.85), (0.1, 0.9)):
            QUANTILES = (low, 0.5, high)
            print(f"q{low:.2f}-q{high:.2f}: leave-one-dataset-out", summary(leave_one_dataset_out(fits, show=False)))
        return 0
    constants = calibrate(fits)
    for name, value in constants.items():
        print(f"{name} = {value!r}")
    if args.write:
        CALIBRATION.write_text(calibration_module(constants, args))
        print(f"wrote {CALIBRATION}")
    return 0


CALIBRATION = HERE.parent / "kiss_automl" / "estimating" / "calibration.py"
COMMENTS = {
    "FAMILY_FACTOR": "measured / cost-model CPU-s of each probe (start configuration), per evaluation mode and "
                     "family (mlp, never probed: its tuned candidates; fewer than 3 in a mode: both modes pooled)",
    "EXTRA_CANDIDATES": "candidates after those that always run (the probes up to the last always_probe "
                        "family's), per regime (forecast.regime): the other probes, then the tuning",
    "TUNED_SHARE": "which families the tuned candidates went to",
    "TUNED_COST": "a tuned candidate's measured CPU-s over its family's mean (corrected) probe forecast",
    "PROMOTED_SHARE": "which families the promoted candidates (holdout plans) belonged to",
    "PROMOTED_ROUNDS_EXPONENT": "boosting rounds of a promoted candidate grow as (rung rows / first rung rows) ** "
                                "this: the exponent whose ratios spread least",
    "PROMOTED_COST": "a promoted candidate's measured CPU-s over its family's mean (corrected) probe forecast at "
                     "its rung",
    "GROWN_STEPS": "capacity steps on all the rows (search._grow) per fit with more than one rung",
    "GROWN_SHARE": "which families the capacity steps belonged to",
    "GROWN_STEP_FACTOR": "how much dearer each capacity step is than the one before: the factor whose ratios "
                         "spread least",
    "GROWN_COST": "the k-th capacity step's measured CPU-s over its family's promoted forecast at the top rung "
                  "times GROWN_STEP_FACTOR ** k",
    "LONE_PAID": "the share of fits with more than one rung that took a capacity step (their rows had paid): "
                 "the chance taken that a lone promotion goes on (no suite file has rungs enough to measure it)",
    "REFIT_COST": "the refit's measured CPU-s over the mean start configuration on all rows: a blend (CV, best) "
                  "or a single model (fits without capacity steps)",
    "GROWN_REFIT": "after capacity steps, the refit's measured CPU-s over the last step's",
    "STARTUP_CPU_S": "run.json process_cpu_s_parts.startup_and_imports: the interpreter and the fit's imports",
    "READ_CPU_S": "process_cpu_s_parts.read_and_check = a + b x number cells + c x text cells (least squares)",
    "TYPING_CPU_S_PER_MCELL": "typing_j / W per core = b x number cells + c x text cells (least squares)",
    "LOOP_CPU_S_PER_CANDIDATE": "(search_j - candidates_j) / W per core = candidates x (a + b x rows) "
                                "(least squares): optuna, bookkeeping, the meter",
    "OTHER_CPU_S": "the fit part's rest (process_cpu_s_parts.fit - typing - search - refit: the families' "
                   "imports, target encoding, the blend's selection, the summary) = a + b x cells",
    "SAVE_CPU_S": "process_cpu_s_parts.save = a + b x rows (least squares): writing the model folder (skops), "
                  "from the fits whose run.json counts it",
    "CALIBRATED_SETTINGS": "the fits' settings that decide how long tuning goes on",
    "WALL_PER_CPU_S": "the fit command's wall time, measured outside its process, per CPU-second of process_j "
                      "(median): saving the model folder and the interpreter's exit included",
    "SEARCH_WALL_PER_CPU_S": "run.json time.search_s per CPU-second of search_j (median): the clock the "
                             "time budget reads",
}


def calibration_module(constants: dict, args) -> str:
    import datetime

    counts = constants["_counts"]
    lines = ['"""Constants of the forecast, measured on real fits: written by',
             f"`python benchmarks/calibrate_estimate.py --seeds {args.seeds}"
             f"{' --range-quantiles ' + args.range_quantiles if args.range_quantiles else ''} --write` on "
             f"{datetime.date.today().isoformat()}.",
             "",
             f"Source: {counts['fits']} fits (`kiss-automl fit`, default options) of the suite's 22 datasets, the "
             f"training split at seeds {args.seeds}",
             "(benchmarks/estimate_accuracy.py --fits-only), on the reference machine: a 2-core x86 VM, CPU-time "
             "meter at 4 W",
             f"per core. {counts['tuned']} tuned, {counts['promoted']} promoted, {counts['grown']} grown candidates and "
             f"{sum(counts['refits'].values())} refits are behind their ratios ({counts.get('saves', 0)} fits count "
             "saving the folder). Seed 0, which",
             "benchmarks/estimate_accuracy.py evaluates the estimate on (benchmarks/ESTIMATE.md), is kept out.",
             "",
             f"Every tuple is (low, central, high): the {QUANTILES[0]:.0%}, 50% and {QUANTILES[2]:.0%} percentiles "
             "of the measured ratio",
             "(for a least-squares fit: its coefficients times those percentiles of measured / fitted). CPU-seconds",
             "are of one core, at the reference machine's speed.",
             '"""', ""]
    for name, value in constants.items():
        if name.startswith("_"):
            continue
        if name in COMMENTS:
            lines.append(f"# {COMMENTS[name]}")
        lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
