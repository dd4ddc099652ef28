"""How close `kiss-automl estimate` comes to what `kiss-automl fit` then spends.

For each suite dataset (``../shared/datasets``, the suite's 75/25 split at ``--seed``), the
training split is written to a CSV; then, one at a time, each in its own process,
``kiss-automl estimate CSV --target T --seed S --format json`` and
``kiss-automl fit CSV --target T --seed S --quiet`` (default options) run. The fit's measured
energy is run.json's ``energy.process_j`` (the whole command: start-up, imports, reading,
typing, search, refit, saving); ``fit_command_j`` is shown beside it. Results append to
``<out>/results.jsonl`` (a rerun resumes); ``--report`` writes ``benchmarks/ESTIMATE.md``.

    python benchmarks/estimate_accuracy.py                      # all 22, seed 0, then the report
    python benchmarks/estimate_accuracy.py --datasets diabetes,kc1 --no-report
    python benchmarks/estimate_accuracy.py --seed 1 --fits-only  # fits for calibrate_estimate.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402

DEFAULT_OUT = HERE / "out" / "estimate"
REPORT = HERE / "ESTIMATE.md"
KISS = [sys.executable, "-m", "kiss_automl"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", help="comma-separated names from MANIFEST.csv (default: all 22)")
    p.add_argument("--seed", type=int, default=0, help="split and search seed (default 0)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="work folder (CSVs, fit folders, results.jsonl)")
    p.add_argument("--fits-only", action="store_true", help="run the fits only (calibration data)")
    p.add_argument("--redo", action="store_true", help="rerun datasets already in results.jsonl")
    p.add_argument("--no-report", action="store_true", help="do not write benchmarks/ESTIMATE.md")
    p.add_argument("--report-only", action="store_true", help="write the report from results.jsonl")
    p.add_argument("--data-dir", default=str(suite_data.DEFAULT_DATA_DIR))
    return p.parse_args(argv)


def train_csv(row: dict, seed: int, folder: Path) -> Path:
    """The suite's training split of one dataset at `seed`, as a CSV (written once)."""
    path = folder / f"{row['name']}-s{seed}.csv"
    if not path.exists():
        X, y = suite_data.load(row)
        X_train, _, y_train, _ = suite_data.split(X, y, row["task"], seed)
        frame = X_train.copy()
        frame[row["target"]] = y_train
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
    return path


def fit_dir(out: Path, name: str, seed: int) -> Path:
    return out / "fits" / f"{name}-s{seed}"


def run_fit(csv: Path, target: str, seed: int, folder: Path) -> dict:
    """`kiss-automl fit` with default options in its own process; run.json and its wall time."""
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    done = subprocess.run([*KISS, "fit", str(csv), "--target", target, "--seed", str(seed), "--quiet",
                           "--out", str(folder)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"fit failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    run = json.loads((folder / "run.json").read_text())
    return {"run": run, "wall_s": wall}


def run_estimate(csv: Path, target: str, seed: int) -> dict:
    started = time.perf_counter()
    done = subprocess.run([*KISS, "estimate", str(csv), "--target", target, "--seed", str(seed),
                           "--format", "json"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"estimate failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return {"estimate": json.loads(done.stdout), "wall_s": wall}


def read_results(path: Path) -> dict[str, dict]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[row["dataset"]] = row
    return out


def load_snapshot() -> str:
    """The load average and the other busy processes: was anything else running?"""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    busy = []
    try:
        top = subprocess.run(["top", "-bn1", "-c", "-w", "160", "-o", "%CPU"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()
        start = next(i for i, line in enumerate(top) if line.lstrip().startswith("PID")) + 1
        for line in top[start:start + 8]:
            f = line.split(None, 11)
            if len(f) == 12 and int(f[0]) != os.getpid() and float(f[8]) >= 5 and "top -bn1" not in f[11]:
                busy.append(f"{f[11].strip()[:50]} ({f[8]}%)")
    except (OSError, subprocess.SubprocessError, StopIteration, ValueError):
        pass
    return f"load {load}" + (f"; busy: {', '.join(busy[:3])}" if busy else "")


def one(row: dict, args, out: Path) -> dict:
    csv = train_csv(row, args.seed, out / "data")
    result = {"dataset": row["name"], "task": row["task"], "seed": args.seed, "load_before": load_snapshot()}
    if not args.fits_only:
        est = run_estimate(csv, row["target"], args.seed)
        result.update(estimate=est["estimate"], estimate_wall_s=est["wall_s"])
    fit = run_fit(csv, row["target"], args.seed, fit_dir(out, row["name"], args.seed))
    run = fit["run"]
    result.update(fit_wall_s=fit["wall_s"], rows=run["data"]["rows"], columns=run["data"]["columns"],
                  process_j=run["energy"]["process_j"], fit_command_j=run["energy"]["fit_command_j"],
                  candidates_j=run["energy"]["candidates_j"], n_candidates=run["n_candidates"],
                  stop_reason=run["stop_reason"], fit_command_s=run["time"]["fit_command_s"],
                  load_after=load_snapshot())
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / (f"results-s{args.seed}.jsonl" if not args.fits_only else f"fits-s{args.seed}.jsonl")
    rows = suite_data.manifest(args.data_dir)
    names = args.datasets.split(",") if args.datasets else list(rows)
    unknown = [n for n in names if n not in rows]
    if unknown:
        raise SystemExit(f"unknown dataset(s): {', '.join(unknown)}")
    if not args.report_only:
        done = read_results(results_path)
        for name in names:
            if name in done and not args.redo:
                continue
            try:
                result = one(rows[name], args, out)
            except Exception as exc:  # noqa: BLE001 - one dataset's failure is a row, the rest go on
                result = {"dataset": name, "seed": args.seed, "error": str(exc)[:500]}
            with open(results_path, "a") as fh:
                fh.write(json.dumps(result) + "\n")
            print(summary_line(result), flush=True)
    if not args.fits_only and not args.no_report:
        results = read_results(results_path)
        REPORT.write_text(report([results[n] for n in names if n in results], args, argv))
        print(f"wrote {REPORT}")
    return 0


def summary_line(r: dict) -> str:
    if "error" in r:
        return f"{r['dataset']}: ERROR {r['error']}"
    text = f"{r['dataset']}: fit {r['process_j']:.1f} J ({r['n_candidates']} candidates, {r['stop_reason']})"
    if "estimate" in r:
        t = r["estimate"]["total"]["energy_j"]
        text += f"; estimate {t['low']:.1f} / {t['central']:.1f} / {t['high']:.1f} J, " \
                f"ratio {t['central'] / r['process_j']:.2f}; own {own_j(r):.2f} J"
    return text


def own_j(r: dict) -> float:
    return r["estimate"]["own_cost"]["energy_j"]


def report(results: list[dict], args, argv) -> str:
    ok = [r for r in results if "error" not in r and "estimate" in r]
    command = "python benchmarks/estimate_accuracy.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                                          if (argv if argv is not None else sys.argv[1:]) else "")
    lines = ["# Estimate accuracy: `kiss-automl estimate` against the fit it forecasts", "",
             f"Written {datetime.datetime.now():%Y-%m-%d %H:%M} by `{command}`: {len(ok)} datasets of the suite, "
             f"seed {args.seed}, the suite's 75/25 split with its training rows written to a CSV; then "
             "`kiss-automl estimate` and `kiss-automl fit` (default options, `--seed`, `--quiet`), each in its own "
             "process, one at a time. Measured: the fit's run.json `energy.process_j`, the whole fit command "
             "(start-up, imports, reading, typing, search, refit, saving the folder; CPU-time model, 4 W per core); its "
             "`fit_command_j` (typing, search and refit only) is shown beside it. Time: the fit's wall time, "
             "measured outside its process.", "",
             "The estimate's constants (`kiss_automl/estimating/calibration.py`) were measured by "
             "`benchmarks/calibrate_estimate.py` on fits of the same 22 datasets at other seeds (other splits, "
             "other search seeds), never on these fits; its `--leave-one-out` forecasts each dataset with "
             "constants from the other 21 datasets only.", "",
             "| dataset | rows | columns | estimate low / central / high (J) | measured process_j (J) | "
             "fit_command_j (J) | ratio est./meas. | in range | candidates est. / fit | "
             "time est. / meas. (s) | estimate's own J (% of fit) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |"]
    ratios, inside, shares = [], 0, []
    for r in ok:
        t = r["estimate"]["total"]
        e = t["energy_j"]
        ratio = e["central"] / r["process_j"]
        ratios.append(ratio)
        hit = e["low"] <= r["process_j"] <= e["high"]
        inside += hit
        share = own_j(r) / r["process_j"]
        shares.append(share)
        lines.append(
            f"| {r['dataset']} | {r['rows']} | {r['columns']} | {e['low']:.1f} / {e['central']:.1f} / "
            f"{e['high']:.1f} | {r['process_j']:.1f} | {r['fit_command_j']:.1f} | {ratio:.2f} | "
            f"{'yes' if hit else 'no'} | {t['candidates']['central']:.0f} / {r['n_candidates']} | "
            f"{t['time_s']['central']:.1f} / {r['fit_wall_s']:.1f} | {own_j(r):.2f} ({share:.1%}) |")
    n = len(ok)
    if n:
        within2 = sum(0.5 <= x <= 2 for x in ratios)
        worst = max(ok, key=lambda r: own_j(r) / r["process_j"])
        time_ratios = [r["estimate"]["total"]["time_s"]["central"] / r["fit_wall_s"] for r in ok]
        lines += ["", "## Summary", "",
                  f"- Median ratio estimated / measured energy: {statistics.median(ratios):.2f} "
                  f"(geometric mean {math.exp(statistics.fmean(math.log(x) for x in ratios)):.2f}; "
                  f"range {min(ratios):.2f}-{max(ratios):.2f}).",
                  f"- Within x2 of the measured energy: {within2} of {n} ({within2 / n:.0%}); the target is 80%.",
                  f"- Measured energy inside the estimate's [low, high]: {inside} of {n} ({inside / n:.0%}); "
                  f"median width high / low "
                  f"{statistics.median(r['estimate']['total']['energy_j']['high'] / r['estimate']['total']['energy_j']['low'] for r in ok):.1f}x.",
                  f"- Time, estimated / measured: median {statistics.median(time_ratios):.2f}, "
                  f"{sum(0.5 <= x <= 2 for x in time_ratios)} of {n} within x2.",
                  f"- The estimate's own process energy (interpreter start-up included, measured by itself): "
                  f"median {statistics.median(shares):.1%} of the fit's, at most {max(shares):.1%} "
                  f"({worst['dataset']}); under 5% on {sum(x < 0.05 for x in shares)} of {n}.",
                  "- Candidates: the central scenario's expected count (tuning spread over families) against "
                  "the fit's leaderboard rows (a blend's row included)."]
    errors = [r for r in results if "error" in r]
    for r in errors:
        lines.append(f"- {r['dataset']}: error: {r['error']}")
    if ok:
        lines += ["", "## Machine load", "",
                  "The machine has 2 cores and is shared; other work inflates CPU-seconds through cache and "
                  "memory contention even though the CPU-time model counts only a process's own. Load average "
                  "and other busy processes (5% CPU or more) before each dataset's estimate and after its fit:", ""]
        lines += [f"- {r['dataset']}: before: {r.get('load_before', '')}; after: {r.get('load_after', '')}"
                  for r in ok]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
