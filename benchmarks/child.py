"""One (dataset, system, seed) in a fresh process: load, split, fit, predict, print one JSON line.

Usage: ``python benchmarks/child.py --dataset diabetes --system kiss --seed 0 [--budget 60]``

The result is the last stdout line that starts with ``BENCH_RESULT ``; the
runner (benchmarks/run.py) measures this process from outside.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

_STARTED = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import suite_data  # noqa: E402
import systems  # noqa: E402

MARKER = "BENCH_RESULT "


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--system", required=True, choices=systems.SYSTEMS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=None, help="seconds of search (AutoML systems)")
    parser.add_argument("--data-dir", default=str(suite_data.DEFAULT_DATA_DIR))
    parser.add_argument("--losses-dir", default=None,
                        help="write the per-row test losses here (DATASET__SYSTEM__SEED.npy), for paired errors")
    args = parser.parse_args(argv)
    out = {"dataset": args.dataset, "system": args.system, "seed": args.seed, "python": sys.executable}
    try:
        row = suite_data.manifest(args.data_dir)[args.dataset]
        out["task"] = row["task"]
        out.update(systems.run(args.system, row, args.seed, args.budget, args.losses_dir))
        out["status"] = "ok"
    except Exception as exc:  # the runner records it as a row and goes on
        traceback.print_exc()
        out.update(status="error", error=f"{type(exc).__name__}: {exc}"[:500])
    out["child_wall_s"] = time.perf_counter() - _STARTED
    sys.stdout.flush()
    print(MARKER + json.dumps(out, default=str), flush=True)
    return 0 if out["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
