"""benchmarks/TEXT.md from a text-benchmark run of benchmarks/run.py.

    python benchmarks/run.py --data-dir ../shared/datasets/text \\
        --systems kiss,kiss-notext,tfidf-lr,flaml,autogluon --seeds 0,1,2 --out benchmarks/out/text --no-report
    python benchmarks/text_report.py benchmarks/out/text/results.csv     # writes benchmarks/TEXT.md
    cp benchmarks/out/text/results.csv benchmarks/TEXT_results.csv     # the rows, kept with the table

Per table: each system's test accuracy (mean and spread over the seeds) and energy (the
whole process, CPU-time model); then the issue's checks on the 3-seed means: kiss-automl with
text against `--no-text`, against the better of TF-IDF + logistic regression and AutoGluon
(within 0.5 points), and the energy text adds.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEMS = ["kiss", "kiss-notext", "kiss-embed", "tfidf-lr", "flaml", "autogluon"]


def _fmt(x: float, digits: int = 4) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main(argv=None) -> int:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default=str(HERE / "out" / "text" / "results.csv"))
    parser.add_argument("--out", default=str(HERE / "TEXT.md"))
    args = parser.parse_args(argv)
    rows = pd.read_csv(args.results)
    seeds = sorted(rows["seed"].unique())
    ok = rows[rows["status"] == "ok"]
    lines = ["# Free text: kiss-automl against --no-text, TF-IDF + logistic regression, FLAML and AutoGluon", "",
             f"Test accuracy on the suite's 75/25 split, seeds {', '.join(map(str, seeds))}; energy of each "
             "system's whole process (CPU-time model, 4 W per core), every system alone on this 2-core "
             "machine; FLAML and AutoGluon at 60 s. Produced by the commands at the top of "
             "`benchmarks/text_report.py`.", ""]
    lines += ["| table | system | accuracy (mean ± sd) | per seed | energy J (mean) | CPU-s (mean) | runs ok |",
              "|---|---|---|---|---:|---:|---:|"]
    means = {}
    for name in sorted(rows["dataset"].unique()):
        for system in SYSTEMS:
            mine = rows[(rows["dataset"] == name) & (rows["system"] == system)]
            if mine.empty:
                continue
            good = mine[mine["status"] == "ok"]
            mean = good["score"].mean() if len(good) else float("nan")
            sd = good["score"].std(ddof=1) if len(good) > 1 else float("nan")
            means[(name, system)] = (mean, good["energy_j"].mean() if len(good) else float("nan"), len(good))
            per_seed = " ".join(_fmt(v) for v in good.sort_values("seed")["score"]) or "-"
            errors = mine[mine["status"] != "ok"]
            note = f" ({errors['error'].iloc[0].split(':')[0]})" if len(errors) else ""
            lines.append(f"| {name} | {system} | {_fmt(mean)} ± {_fmt(sd)} | {per_seed} | "
                         f"{_fmt(good['energy_j'].mean(), 1)} | {_fmt(good['cpu_s'].mean(), 1)} | "
                         f"{len(good)}/{len(mine)}{note} |")
    lines += ["", "## The issue's checks (3-seed means)", ""]
    for name in sorted(rows["dataset"].unique()):
        kiss, kiss_j, _ = means.get((name, "kiss"), (float("nan"),) * 3)
        notext, notext_j, notext_n = means.get((name, "kiss-notext"), (float("nan"),) * 3)
        tfidf = means.get((name, "tfidf-lr"), (float("nan"),))[0]
        ag = means.get((name, "autogluon"), (float("nan"),))[0]
        flaml, flaml_j, _ = means.get((name, "flaml"), (float("nan"),) * 3)
        bar = max(v for v in (tfidf, ag) if not math.isnan(v)) if not (math.isnan(tfidf) and math.isnan(ag)) else \
            float("nan")
        versus_notext = ("`--no-text` fits no model (no column is left)" if notext_n == 0 else
                         f"with text {_fmt(kiss)} vs `--no-text` {_fmt(notext)}: {100 * (kiss - notext):+.2f} points, "
                         f"energy x{kiss_j / notext_j:.2f}")
        lines.append(f"- **{name}**: {versus_notext}; against the better of TF-IDF+LR and AutoGluon "
                     f"({_fmt(bar)}): {100 * (kiss - bar):+.2f} points (bar: -0.5); against FLAML: "
                     f"{100 * (kiss - flaml):+.2f} points at x{kiss_j / flaml_j:.3f} its energy.")
    lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
