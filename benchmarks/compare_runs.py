"""What a change to the search did to the suite: two runs of one system, dataset by dataset.

    python benchmarks/compare_runs.py BEFORE/results.csv AFTER/results.csv [--system kiss] [--out FILE.md]

Per dataset: the mean test score over the seeds both runs hold (points: accuracy x100, R²
x50) and the mean energy; the change is after minus before. Then the median and worst change,
the median energy ratio, and which datasets moved by more than 0.5 points.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

POINTS = {"binary": 100.0, "multiclass": 100.0, "regression": 50.0}
MOVED = 0.5


def compare(before: pd.DataFrame, after: pd.DataFrame, system: str) -> pd.DataFrame:
    rows = []
    b, a = (df[(df.system == system) & (df.status == "ok")] for df in (before, after))
    for name in sorted(set(b.dataset) & set(a.dataset)):
        seeds = sorted(set(b[b.dataset == name].seed) & set(a[a.dataset == name].seed))
        if not seeds:
            continue
        pb, pa = (df[(df.dataset == name) & df.seed.isin(seeds)] for df in (b, a))
        scale = POINTS[pb.task.iloc[0]]
        rows.append({"dataset": name, "seeds": len(seeds), "before": pb.score.mean(), "after": pa.score.mean(),
                     "change_pts": (pa.score.mean() - pb.score.mean()) * scale,
                     "before_j": pb.energy_j.mean(), "after_j": pa.energy_j.mean(),
                     "energy_ratio": pa.energy_j.mean() / pb.energy_j.mean()})
    return pd.DataFrame(rows)


def render(table: pd.DataFrame, before: str, after: str) -> str:
    moved = table[table.change_pts.abs() > MOVED]
    worst = table.loc[table.change_pts.idxmin()]
    lines = [f"Before: `{before}`; after: `{after}`; {len(table)} datasets, means over the seeds both hold.\n\n",
             f"- median change {table.change_pts.median():+.2f} pts, mean {table.change_pts.mean():+.2f}, "
             f"worst {worst.change_pts:+.2f} ({worst.dataset})\n",
             f"- median energy ratio after/before {table.energy_ratio.median():.2f}; total "
             f"{table.after_j.sum():.0f} J against {table.before_j.sum():.0f} J\n",
             f"- moved by more than {MOVED} pts: " + (", ".join(f"{r.dataset} {r.change_pts:+.2f}"
                                                         for r in moved.itertuples()) or "none") + "\n\n",
             "| dataset | seeds | before | after | change (pts) | before J | after J | ratio |\n",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"]
    for r in table.itertuples():
        lines.append(f"| {r.dataset} | {r.seeds} | {r.before:.4f} | {r.after:.4f} | {r.change_pts:+.2f} | "
                     f"{r.before_j:.0f} | {r.after_j:.0f} | {r.energy_ratio:.2f} |\n")
    return "".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--system", default="kiss")
    parser.add_argument("--out", default=None, help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    read = lambda path: pd.read_csv(path, keep_default_na=False, na_values=[""])  # noqa: E731
    table = compare(read(args.before), read(args.after), args.system)
    if table.empty:
        print("No dataset is in both runs", file=sys.stderr)
        return 1
    text = render(table, args.before, args.after)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
