"""How kiss-automl's cost grows with rows: 1k, 10k, 100k, 1M rows, each size in its own child process.

    python benchmarks/scale.py                      # 1k -> 1M rows
    python benchmarks/scale.py --max-rows 10000     # 1k and 10k only

Data (--source fars, the default): the largest real set of the suite, fars
(100,968 rows x 29 integer-coded columns, 8 classes). Sizes up to its size
are random subsamples without replacement; larger sizes resample its rows
with replacement and jitter AGE by -1/0/+1 (clipped, dtypes unchanged, so kiss
types every column the same way at every size; fars has 11% duplicate rows already, a 1M
resample ~90%, which flatters holdout scores but not the cost). --source synthetic uses
sklearn's make_classification(n_features=30, n_informative=12) at every size.
"rows" is the size before the protocol's stratified 75/25 split: kiss fits 75%.

Writes <out>/scale.jsonl (resumable), <out>/scale.csv, <out>/leaderboard_<rows>.csv
and <out>/SCALE.md (copied to benchmarks/SCALE.md when the 1M size is in).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402

SIZES = [1_000, 10_000, 100_000, 1_000_000]


def make_data(rows: int, source: str, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    if source == "synthetic":
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=rows, n_features=30, n_informative=12, random_state=seed)
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(30)]), pd.Series(y, name="target"), "synthetic"
    X, y = suite_data.load(suite_data.manifest()["fars"])
    if rows <= len(X):
        idx, how = rng.choice(len(X), size=rows, replace=False), "subsample"
    else:
        idx, how = rng.integers(0, len(X), size=rows), "bootstrap+AGE jitter"
    X, y = X.iloc[idx].reset_index(drop=True), y.iloc[idx].reset_index(drop=True)
    if how.startswith("bootstrap"):
        lo, hi = X["AGE"].min(), X["AGE"].max()
        X["AGE"] = np.clip(X["AGE"] + rng.integers(-1, 2, size=rows), lo, hi).astype(X["AGE"].dtype)
    counts = y.value_counts()
    keep = y.isin(counts[counts >= 2].index)  # a stratified split needs two rows per class
    return X[keep].reset_index(drop=True), y[keep].reset_index(drop=True), how


def child(args) -> int:
    """Build the data, split, fit kiss, score; print one BENCH_RESULT line."""
    from kiss_automl import KissClassifier

    out = {"rows": args.rows, "source": args.source, "seed": args.seed}
    X, y, how = make_data(args.rows, args.source, args.seed)
    X_train, X_test, y_train, y_test = suite_data.split(X, y, "multiclass", args.seed)
    started = time.perf_counter()
    model = KissClassifier(time_budget=args.kiss_budget, random_state=args.seed).fit(X_train, y_train)
    fit_s = time.perf_counter() - started
    board = model.leaderboard_
    board.to_csv(Path(args.out) / f"leaderboard_{args.rows}.csv", index=False)
    summary = model.search_summary_
    out.update(
        status="ok", sampling=how, n_rows=len(X), n_train=len(X_train), n_classes=int(y.nunique()),
        duplicate_fraction=float(X.duplicated().mean()), fit_s=fit_s,
        accuracy=float((model.predict(X_test) == y_test.to_numpy()).mean()),
        stop_reason=model.stop_reason_, best_family=model.best_family_, n_candidates=len(board),
        search_s=summary["time"]["search_s"], overhead_fraction=summary["time"]["search_overhead_fraction"],
        candidates_j=summary["energy"]["candidates_j"], refit_j=summary["energy"]["refit_j"],
        family_j=board.groupby("family")["fit_energy_j"].sum().to_dict(),
        family_n=board.groupby("family").size().to_dict(),
        rung_j={str(k): v for k, v in board.groupby("n_rows")["fit_energy_j"].sum().items()},
        rung_n={str(k): int(v) for k, v in board.groupby("n_rows").size().items()},
    )
    print("BENCH_RESULT " + json.dumps(out, default=float), flush=True)
    return 0


def slopes(rows: list[dict]) -> dict[str, float]:
    """Log-log slope of each cost vs rows (1 = linear), over the sizes that finished."""
    import numpy as np

    ok = [r for r in rows if r.get("status") == "ok"]
    if len(ok) < 2:
        return {}
    x = np.log([r["rows"] for r in ok])
    return {k: float(np.polyfit(x, np.log([max(r[k], 1e-9) for r in ok]), 1)[0])
            for k in ("wall_s", "cpu_s", "energy_j", "peak_rss_mib")}


def write_report(rows: list[dict], out: Path) -> str:
    import pandas as pd

    rows = sorted(rows, key=lambda r: r["rows"])
    pd.DataFrame(rows).to_csv(out / "scale.csv", index=False)
    ok = [r for r in rows if r.get("status") == "ok"]
    method = rows[0].get("energy_method", "?") if rows else "?"
    lines = ["# kiss-automl: cost vs rows\n\n",
             f"Written {time.strftime('%Y-%m-%d %H:%M')}. Data: {rows[0].get('source', '?') if rows else '?'} "
             "(see benchmarks/scale.py: fars subsampled up to its 100,968 rows, resampled with replacement "
             "and AGE jittered above, so duplicate rows grow there: see dup rows). Each size runs in its own process, measured from outside; "
             f"energy: {method}. rows = size before the 75/25 split.\n\n",
             "| rows | status | sampling | dup rows | n_train | wall s | CPU s | J | peak MiB | accuracy | stop | selected "
             "| candidates | overhead |\n", "|---:|---|---|" + "---:|" * 7 + "---|---|---:|---:|\n"]
    for r in rows:
        lines.append(f"| {r['rows']:,} | {r.get('status')} | {r.get('sampling', '-')} | {r.get('duplicate_fraction', float('nan')):.1%} | "
                     f"{r.get('n_train', '-')} | "
                     f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['energy_j']:.0f} | {r['peak_rss_mib']:.0f} | "
                     f"{r.get('accuracy', float('nan')):.4f} | {r.get('stop_reason', r.get('error', '-'))} | "
                     f"{r.get('best_family', '-')} | {r.get('n_candidates', '-')} | "
                     f"{r.get('overhead_fraction', float('nan')):.1%} |\n")
    if ok:
        families = sorted({f for r in ok for f in r["family_j"]})
        lines += ["\n## Where the energy goes: candidate fit J per family (share of all candidates)\n\n",
                  "| rows | " + " | ".join(families) + " | refit J | outside search J |\n",
                  "|---:|" + "---:|" * (len(families) + 2) + "\n"]
        for r in ok:
            total = sum(r["family_j"].values()) or 1e-12
            cells = [f"{r['family_j'][f]:.1f} ({r['family_j'][f] / total:.0%}, n={r['family_n'][f]})"
                     if f in r["family_j"] else "" for f in families]
            outside = r["energy_j"] - r["candidates_j"] - r["refit_j"]
            lines.append(f"| {r['rows']:,} | " + " | ".join(cells) + f" | {r['refit_j']:.1f} | {outside:.1f} |\n")
        lines += ["\n## Candidate fit J per rung (rows a candidate was fit on)\n\n",
                  "| rows | per rung: fit rows -> J (candidates) |\n", "|---:|---|\n"]
        for r in ok:
            rungs = sorted(r["rung_j"], key=int)
            lines.append(f"| {r['rows']:,} | " + "; ".join(
                f"{int(k):,} -> {r['rung_j'][k]:.1f} J ({r['rung_n'][k]})" for k in rungs) + " |\n")
    fit = slopes(rows)
    if fit:
        lines += ["\n## Log-log slopes vs rows (1.0 = linear)\n\n", "| wall | CPU | joules | peak memory |\n",
                  "|---:|---:|---:|---:|\n",
                  f"| {fit['wall_s']:.2f} | {fit['cpu_s']:.2f} | {fit['energy_j']:.2f} | {fit['peak_rss_mib']:.2f} |\n"]
    text = "".join(lines)
    (out / "SCALE.md").write_text(text)
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated row counts")
    p.add_argument("--max-rows", type=int, default=None, help="skip sizes above this")
    p.add_argument("--source", choices=["fars", "synthetic"], default="fars")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kiss-budget", type=float, default=None, help="kiss time_budget (default: its config's)")
    p.add_argument("--timeout", type=float, default=None, help="per size, s (default: 3 x budget + 120)")
    p.add_argument("--meter", choices=["auto", "cpu-time"], default="auto")
    p.add_argument("--out", default=str(HERE / "out" / "scale"))
    p.add_argument("--force", action="store_true", help="rerun sizes already in scale.jsonl")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        return child(args)
    import measure

    sizes = [int(s) for s in args.sizes.split(",") if not args.max_rows or int(s) <= args.max_rows]
    charger = measure.Charger(args.meter)
    jsonl = out / "scale.jsonl"
    done = {}
    if jsonl.exists():
        for line in jsonl.read_text().splitlines():
            row = json.loads(line)
            done[(row["rows"], row["source"], row["seed"])] = row
    for rows in sizes:
        if (rows, args.source, args.seed) in done and not args.force:
            continue
        cmd = [sys.executable, str(HERE / "scale.py"), "--child", "--rows", str(rows), "--source", args.source,
               "--seed", str(args.seed), "--out", str(out)]
        if args.kiss_budget is not None:
            cmd += ["--kiss-budget", str(args.kiss_budget)]
        timeout = args.timeout or 3 * (args.kiss_budget or 600.0) + 120
        row = measure.spawn(cmd, timeout, out / "logs" / f"scale_{rows}.log", charger, cwd=str(HERE.parent))
        row.update(rows=rows, source=args.source, seed=args.seed)
        done[(rows, args.source, args.seed)] = row
        with open(jsonl, "a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
        print(f"{rows:>9,} rows: {row['status']} wall={row['wall_s']:.1f} s cpu={row['cpu_s']:.1f} s "
              f"energy={row['energy_j']:.0f} J rss={row['peak_rss_mib']:.0f} MiB "
              f"{row.get('stop_reason', row.get('error', ''))}", flush=True)
    rows = [r for r in done.values() if r["source"] == args.source and r["seed"] == args.seed]
    print(write_report(rows, out))
    if any(r["rows"] >= 1_000_000 and r.get("status") == "ok" for r in rows) and out.resolve() != HERE:
        shutil.copy(out / "SCALE.md", HERE / "SCALE.md")
        print(f"published to {HERE / 'SCALE.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
