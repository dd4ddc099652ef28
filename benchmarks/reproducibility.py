"""Does the same data, seed and budget give the same leaderboard? Fit each dataset several times
with `kiss-automl fit` and compare the leaderboards (family, rung, params, score, status).

    python benchmarks/reproducibility.py                        # QUICK datasets, 3 runs, default settings
    python benchmarks/reproducibility.py --max-trials 25 --runs 3 --datasets car,phoneme

Writes `<out>/REPRODUCIBILITY.md` (default out: benchmarks/out/reproducibility) and keeps every
run's folder. Decisions that read measured joules (the plateau rule, the family order) can flip
when two options sit within the meter's noise: this counts how often that happens.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_data import DEFAULT_DATA_DIR, QUICK, manifest  # noqa: E402

COMPARED = ["family", "rung", "params", "score", "status"]
EXE = shutil.which("kiss-automl") or str(Path(sys.executable).parent / "kiss-automl")


def fit(row: dict, data_dir: Path, out: Path, seed: int, extra: list[str]) -> pd.DataFrame:
    command = [EXE, "fit", str(data_dir / row["file"]), "--target", row["target"], "--out", str(out),
               "--seed", str(seed), "--quiet", *extra]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return pd.read_csv(out / "leaderboard.csv")[COMPARED].astype(str)


def first_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} candidates"
    for i in range(len(a)):
        if not a.iloc[i].equals(b.iloc[i]):
            return f"rank {i + 1}: {a.iloc[i]['family']} vs {b.iloc[i]['family']}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(QUICK))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-trials", type=int)
    parser.add_argument("--energy-budget")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/reproducibility"))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)

    extra = (["--max-trials", str(args.max_trials)] if args.max_trials else []) + \
            (["--energy-budget", args.energy_budget] if args.energy_budget else [])
    setting = " ".join(extra) or "default settings"
    rows = manifest(args.data_dir)
    lines = [f"# Reproducibility: {args.runs} runs per dataset, seed {args.seed}, {setting}", "",
             "| dataset | candidates per run | runs identical to run 1 | first difference |", "|---|---|---|---|"]
    identical_total = compared_total = 0
    for name in args.datasets.split(","):
        boards = [fit(rows[name], args.data_dir, args.out / f"{name}-{i}", args.seed, extra)
                  for i in range(1, args.runs + 1)]
        same = [b.equals(boards[0]) for b in boards[1:]]
        differences = [first_difference(boards[0], b) for b in boards[1:] if not b.equals(boards[0])]
        identical_total += sum(same)
        compared_total += len(same)
        lines.append(f"| {name} | {', '.join(str(len(b)) for b in boards)} | {sum(same)}/{len(same)} | "
                     f"{'; '.join(differences)} |")
        print(lines[-1], flush=True)
    lines += ["", f"Identical: {identical_total}/{compared_total} repeat runs (compared: {', '.join(COMPARED)})."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "REPRODUCIBILITY.md").write_text("\n".join(lines) + "\n")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
