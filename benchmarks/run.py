"""Benchmark suite: kiss-automl against LightGBM, a linear pipeline, a null model, FLAML and AutoGluon.

Each (dataset, system, seed) runs in its own child process (benchmarks/child.py),
measured from outside (wall, CPU-seconds of the process tree, peak RSS, joules).
Results append to <out>/results.jsonl, so an interrupted suite resumes where it
stopped; then <out>/results.csv and <out>/RESULTS.md are written.

    python benchmarks/run.py --quick
    python benchmarks/run.py --datasets blood-transfusion,diabetes --systems kiss,lgbm,lr,null
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import suite_data  # noqa: E402
from systems import DEFAULT_BUDGET, PEER_VENV_SYSTEMS, SYSTEMS  # noqa: E402

# The quick variant's systems: FLAML at 60 s on five datasets is most of its ten minutes.
QUICK_SYSTEMS = ("kiss", "lgbm", "lr", "null", "flaml")

FLAML_PY = os.path.join(os.environ.get("KISS_BENCH_VENV", "/work/bench-venv"), "bin", "python")
AG_PY = os.path.join(os.environ.get("KISS_BENCH_VENV_AG", "/work/bench-venv-ag"), "bin", "python")
PEER_PYTHONS = {"flaml": [FLAML_PY], "flaml5": [FLAML_PY], "autogluon": [AG_PY, FLAML_PY]}
PEER_MODULE = {"flaml": "flaml", "flaml5": "flaml", "autogluon": "autogluon.tabular"}
KISS_DEFAULT_BUDGET = 600.0  # kiss-automl's default config time_budget, only used for the timeout
KEY = ("dataset", "system", "seed")
FIRST_COLUMNS = ["dataset", "task", "system", "seed", "status", "metric", "score", "roc_auc", "energy_j",
                 "energy_method", "watts_per_core", "cpu_s", "wall_s", "peak_rss_mib", "budget", "error"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = p.add_mutually_exclusive_group()
    which.add_argument("--datasets", help="comma-separated names from MANIFEST.csv (default: all 22)")
    which.add_argument("--quick", action="store_true", help="five small datasets: " + ",".join(suite_data.QUICK))
    p.add_argument("--systems", default=None,
                   help="comma-separated, from: " + ",".join(SYSTEMS) + " (default: all; with --quick: "
                   + ",".join(QUICK_SYSTEMS) + ", to stay under 10 minutes)")
    p.add_argument("--seeds", default="0", help="comma-separated split/model seeds")
    p.add_argument("--out", default=str(HERE / "out" / "suite"), help="output folder")
    p.add_argument("--python-for", action="append", default=[], metavar="SYSTEM=PATH",
                   help="interpreter for a system (default: this one; flaml/autogluon: /work/bench-venv*)")
    p.add_argument("--flaml-budget", type=float, default=DEFAULT_BUDGET["flaml"], help="FLAML time_budget, s")
    p.add_argument("--autogluon-budget", type=float, default=DEFAULT_BUDGET["autogluon"], help="time_limit, s")
    p.add_argument("--kiss-budget", type=float, default=None, help="kiss time_budget (default: its config's)")
    p.add_argument("--timeout", type=float, default=None, help="per child, s (default: 3 x budget + 120)")
    p.add_argument("--meter", choices=["auto", "cpu-time"], default="auto",
                   help="auto: RAPL when readable, else the CPU-time model")
    p.add_argument("--retry-failed", action="store_true", help="rerun rows whose status is not ok")
    p.add_argument("--data-dir", default=str(suite_data.DEFAULT_DATA_DIR))
    p.add_argument("--no-report", action="store_true", help="skip writing RESULTS.md")
    return p.parse_args(argv)


def module_imports(python: str, module: str) -> bool:
    try:
        done = subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def pick_pythons(systems: list[str], overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """{system: interpreter} for the systems that can run, and notes on those skipped."""
    given = dict(item.split("=", 1) for item in overrides)
    chosen, notes = {}, []
    for system in systems:
        if system in given:
            chosen[system] = given[system]
        elif system not in PEER_VENV_SYSTEMS:
            chosen[system] = sys.executable
        else:
            found = [p for p in PEER_PYTHONS[system] if Path(p).exists() and module_imports(p, PEER_MODULE[system])]
            if found:
                chosen[system] = found[0]
            else:
                notes.append(f"{system} skipped: no interpreter importing {PEER_MODULE[system]} "
                             f"(tried {', '.join(PEER_PYTHONS[system])}; pass --python-for {system}=PATH)")
    return chosen, notes


def budget_for(system: str, args) -> float | None:
    return {"flaml": args.flaml_budget, "autogluon": args.autogluon_budget,
            "kiss": args.kiss_budget}.get(system, DEFAULT_BUDGET[system])


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a crash
            continue
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """results.csv: the last row per (dataset, system, seed); `info` flattened to info_* columns."""
    import pandas as pd

    latest = {tuple(r.get(k) for k in KEY): r for r in rows}
    flat = []
    for row in latest.values():
        row = dict(row)
        for name, val in (row.pop("info", None) or {}).items():
            row[f"info_{name}"] = json.dumps(val, sort_keys=True) if isinstance(val, (dict, list)) else val
        flat.append(row)
    frame = pd.DataFrame(flat)
    cols = [c for c in FIRST_COLUMNS if c in frame] + sorted(c for c in frame if c not in FIRST_COLUMNS)
    frame[cols].to_csv(path, index=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    table = suite_data.manifest(args.data_dir)
    names = suite_data.QUICK if args.quick else (args.datasets.split(",") if args.datasets else list(table))
    unknown = [n for n in names if n not in table]
    wanted = (args.systems or ",".join(QUICK_SYSTEMS if args.quick else SYSTEMS)).split(",")
    bad = [s for s in wanted if s not in SYSTEMS]
    if unknown or bad:
        sys.exit(f"Unknown dataset(s) {unknown} / system(s) {bad}")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pythons, notes = pick_pythons(wanted, args.python_for)
    if notes:
        with open(out / "notes.txt", "a") as fh:
            fh.writelines(n + "\n" for n in notes)
    for note in notes:
        print("note:", note, flush=True)
    charger = measure.Charger(args.meter)
    print(f"energy: {charger.method}", flush=True)
    jsonl = out / "results.jsonl"
    done = {tuple(r.get(k) for k in KEY): r.get("status") for r in read_jsonl(jsonl)}
    jobs = [(d, s, seed) for d in names for seed in seeds for s in wanted if s in pythons]
    for i, (name, system, seed) in enumerate(jobs, 1):
        status = done.get((name, system, seed))
        if status == "ok" or (status and not args.retry_failed):
            continue
        budget = budget_for(system, args)
        nominal = budget if budget is not None else (KISS_DEFAULT_BUDGET if system.startswith("kiss") else 60.0)
        timeout = args.timeout or 3 * nominal + 120
        cmd = [pythons[system], str(HERE / "child.py"), "--dataset", name, "--system", system,
               "--seed", str(seed), "--data-dir", args.data_dir, "--losses-dir", str(out / "losses")]
        if budget is not None:
            cmd += ["--budget", str(budget)]
        log = out / "logs" / f"{name}__{system}__{seed}.log"
        row = measure.spawn(cmd, timeout, log, charger, cwd=str(HERE.parent))
        row.update(dataset=name, system=system, seed=seed, task=table[name]["task"], python=pythons[system],
                   finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
        row.setdefault("budget", budget)
        with open(jsonl, "a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
        score = f"{row['score']:.4f}" if isinstance(row.get("score"), float) else "-"
        print(f"[{i}/{len(jobs)}] {name:18s} {system:9s} seed={seed} {row['status']:8s} score={score} "
              f"energy={row['energy_j']:.1f} J cpu={row['cpu_s']:.1f} s wall={row['wall_s']:.1f} s "
              f"rss={row['peak_rss_mib']:.0f} MiB" + (f"  {row.get('error')}" if row["status"] != "ok" else ""),
              flush=True)
    rows = read_jsonl(jsonl)
    if not rows:
        print("nothing ran")
        return 1
    write_csv(rows, out / "results.csv")
    print(f"wrote {out / 'results.csv'}")
    if not args.no_report:
        import report

        report.main([str(out / "results.csv")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
