"""Sequential search against `--scheduler local:1` and `local:2`, on five suite datasets of
different sizes: wall time, total energy (driver and workers), best score. Writes CLUSTER.md.

Each fit is `kiss-automl fit` in its own process, the same command a user runs, so start-up,
reading and the cluster's own start are counted. Total energy is run.json's `process_j`: the
fit process's CPU-seconds and its reaped children's (a local cluster's workers, forked from a
server process that the fit starts and reaps) at this machine's watts per core;
`cluster.total_j` (driver + worker processes, as measured during the fit) is shown beside it
as a check.

    python benchmarks/cluster.py                       # the five datasets, seed 0
    python benchmarks/cluster.py --datasets credit-approval --out /tmp/cluster-check.md

Run it on an otherwise idle machine: two workers on a 2-core machine share it with nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from suite_data import manifest  # noqa: E402

# Sizes from 690 to 48,842 rows: cross-validated small data up to holdout with row rungs.
DATASETS = ["credit-approval", "car", "spambase", "cpu_act", "adult"]
MODES = {"sequential": [], "local:1": ["--scheduler", "local:1"], "local:2": ["--scheduler", "local:2"]}
TARGETS = {"wall_ratio": 0.65, "energy_ratio": 1.15}


def fit(row: dict, mode: str, seed: int, out: Path) -> dict:
    command = [sys.executable, "-m", "kiss_automl", "fit", row["path"], "--target", row["target"], "--out", str(out),
               "--seed", str(seed), "--quiet", *MODES[mode]]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"mode": mode, "status": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}",
                "wall_s": wall}
    run = json.loads((out / "run.json").read_text())
    selected = run["selected"]
    folds = max(run["evaluation"]["splits"], 1)
    cluster = run.get("cluster") or {}
    return {"mode": mode, "status": "ok", "wall_s": wall, "process_j": run["energy"]["process_j"],
            "candidates_j": run["energy"]["candidates_j"], "cluster_total_j": cluster.get("total_j"),
            "workers_idle_j": cluster.get("workers_idle_j"), "driver_j": cluster.get("driver_j"),
            "score": selected["score"], "score_se": (selected["score_std"] or 0.0) / math.sqrt(folds if folds > 1
                                                                                                 else 5),
            "family": selected["family"], "candidates": run["n_candidates"], "stop": run["stop_reason"]}


def table(results: dict[str, list[dict]], rows: dict) -> str:
    lines = ["| dataset | rows | mode | wall s | x seq | total J | x seq | candidates J | idle J (workers) | "
             "best score ± SE | same within SE | selected | candidates | stop |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|"]
    for name, runs in results.items():
        seq = next((r for r in runs if r["mode"] == "sequential" and r["status"] == "ok"), None)
        for r in runs:
            if r["status"] != "ok":
                lines.append(f"| {name} | {rows[name]['rows']:,} | {r['mode']} | {r['wall_s']:.1f} | | | | | | "
                             f"{r['status']} | | | | |")
                continue
            wall_x = f"{r['wall_s'] / seq['wall_s']:.2f}" if seq else ""
            energy_x = f"{r['process_j'] / seq['process_j']:.2f}" if seq else ""
            same = ""
            if seq:
                se = max(r["score_se"], seq["score_se"])
                same = "yes" if abs(r["score"] - seq["score"]) <= se else "no"
            idle = f"{r['workers_idle_j']:.1f}" if r["workers_idle_j"] is not None else ""
            lines.append(f"| {name} | {rows[name]['rows']:,} | {r['mode']} | {r['wall_s']:.1f} | {wall_x} | "
                         f"{r['process_j']:.1f} | {energy_x} | {r['candidates_j']:.1f} | {idle} | "
                         f"{r['score']:.4f} ± {r['score_se']:.4f} | {same} | {r['family']} | {r['candidates']} | "
                         f"{r['stop']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "CLUSTER.md"))
    args = parser.parse_args(argv)
    rows = manifest()
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            results[name] = []
            for mode in MODES:
                result = fit(rows[name], mode, args.seed, Path(tmp) / f"{name}-{mode.replace(':', '')}")
                results[name].append(result)
                print(f"{name} {mode}: {json.dumps(result)}", flush=True)
    text = (f"# kiss-automl on a local Dask cluster against the sequential search\n\n"
            f"Written {datetime.now():%Y-%m-%d %H:%M} by `python benchmarks/cluster.py` (seed {args.seed}, default "
            f"settings, each fit a `kiss-automl fit` process). Targets (issue 15): on the larger datasets, "
            f"`local:2` wall time <= {TARGETS['wall_ratio']}x the sequential's; total energy <= "
            f"{TARGETS['energy_ratio']}x; best score the same within its standard error.\n\n"
            "Total J is run.json's `process_j`: the fit process's CPU-seconds and those of its reaped children "
            "(the local cluster's scheduler runs in the process; its workers are forked from a server process "
            "that the fit starts and reaps, kiss_automl/cluster/forkserver.py) at this machine's watts per core. "
            "Idle J is the workers' processes less the candidates they ran: start-up, Dask's messages, waiting; "
            "the server's imports, made once for all workers, are in Total J only. The window of candidates in "
            "flight is the workers' count, so `local:1` proposes as the sequential search does and `local:2` "
            "differently: scores may differ within noise.\n\n"
            + table(results, rows) + "\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
