"""How long `kiss-automl report` takes on a 200-candidate fit (issue 12: under 2 s here).

Fits credit-approval with a search that never plateaus (tol 0, cheap families, 200 trials)
into benchmarks/out/report-speed/fit, once; then runs `kiss-automl report` to HTML and to
Markdown `--repeat` times each, in fresh processes, and prints the median wall time and
CPU-seconds of the whole command (start-up included) and the report's own footer figure.

Usage: ``python benchmarks/report_speed.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "report-speed"
SEARCH = """families: [baseline, linear, lightgbm]
max_trials: 200
tol: 0.0
noise_aware: false
family_patience: 1000
always_probe: []
"""


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiss_automl", *args]


def fit(folder: Path) -> None:
    config = OUT / "search.yaml"
    config.write_text(SEARCH)
    subprocess.run(_command("fit", str(ROOT / "datasets" / "credit-approval.csv"), "--target", "class",
                            "--out", str(folder), "--config", str(config), "--quiet"), check=True)


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU-seconds (user + system) of one command in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    folder = OUT / "fit"
    if not (folder / "run.json").is_file():
        fit(folder)
    rows = sum(1 for _ in (folder / "leaderboard.csv").open()) - 1
    print(f"fit: {folder} ({rows} candidates)")
    for name in ("report.html", "report.md"):
        runs = [timed(_command("report", str(folder), "--output", str(OUT / name))) for _ in range(args.repeat)]
        walls, cpus = zip(*runs)
        footer = re.search(r"Making this report cost [^;]*", (OUT / name).read_text()).group(0)
        print(f"{name}: median {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} CPU-s "
              f"(min {min(walls):.2f} s, max {max(walls):.2f} s, {args.repeat} runs); last footer: {footer}")


if __name__ == "__main__":
    main()
