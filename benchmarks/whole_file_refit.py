"""`fit --sample-rows N` with the refit on the sample, against the same search with
`--scheduler local:2 --refit-whole-file` (the whole file's rung: the finalists tried on the file
less its held-out rows, the best trained on every row, through lightgbm.dask / xgboost.dask), on
the suite's larger datasets: test score, energy, wall time, and each finalist's rounds and
held-out score. Appends its table to benchmarks/CLUSTER.md.

Each fit is `kiss-automl fit` in its own process on the training split written to a CSV (the
suite's 75/25 split at --seed); the test split is scored with `kiss-automl predict`. Energy is
run.json's `process_j` (the fit process and its reaped children: a local cluster's workers).

    python benchmarks/whole_file_refit.py --datasets adult,electricity,fars,connect-4 --sample-rows 10000

Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suite_data  # noqa: E402

MODES = {"sample refit": [], "whole-file refit": ["--scheduler", "local:2", "--refit-whole-file"]}


def run_fit(train: Path, target: str, out: Path, seed: int, sample_rows: int, mode: str) -> dict:
    command = [sys.executable, "-m", "kiss_automl", "fit", str(train), "--target", target, "--out", str(out),
               "--seed", str(seed), "--quiet", "--sample-rows", str(sample_rows), *MODES[mode]]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"status": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}", "wall_s": wall}
    run = json.loads((out / "run.json").read_text())
    refit = run.get("whole_file_refit") or {}
    return {"status": "ok", "wall_s": wall, "process_j": run["energy"]["process_j"],
            "refit_j": run["energy"]["refit_j"], "family": run["selected"]["family"],
            "refit_rows": refit.get("rows", run["data"]["rows"]), "rung": refit.get("rung", [])}


def score(out: Path, test: Path, target: str, task: str, work: Path) -> float:
    import pandas as pd
    from sklearn.metrics import accuracy_score, r2_score

    predictions = work / "pred.csv"
    subprocess.run([sys.executable, "-m", "kiss_automl", "predict", str(out), str(test), "--output",
                    str(predictions)], check=True, capture_output=True)
    truth = pd.read_csv(test)[target]
    predicted = pd.read_csv(predictions).iloc[:, 0]
    if task == "regression":
        return float(r2_score(truth, predicted))
    return float(accuracy_score(truth.astype(str), predicted.astype(str)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="adult,electricity,fars,connect-4")
    p.add_argument("--sample-rows", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=str(HERE / "CLUSTER.md"))
    args = p.parse_args(argv)
    rows = suite_data.manifest()
    lines = []
    for name in args.datasets.split(","):
        row = rows[name]
        X, y = suite_data.load(row)
        task = row["task"]
        X_train, X_test, y_train, y_test = suite_data.split(X, y, task, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            train, test = work / "train.csv", work / "test.csv"
            X_train.assign(**{row["target"]: y_train}).to_csv(train, index=False)
            X_test.assign(**{row["target"]: y_test}).to_csv(test, index=False)
            for mode in MODES:
                out = work / mode.replace(" ", "-")
                result = run_fit(train, row["target"], out, args.seed, args.sample_rows, mode)
                result["score"] = score(out, test, row["target"], task, work) if result["status"] == "ok" else None
                print(name, mode, result, flush=True)
                lines.append((name, len(X_train), mode, result))
    write(lines, args)
    return 0


def write(lines, args) -> None:
    table = ["| dataset | training rows | mode | trained on | selected | test score | process J | refit J | wall s | "
             "whole file's rung: finalist (sample score) rounds trained → kept, held-out score |",
             "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for name, n, mode, r in lines:
        if r["status"] != "ok":
            table.append(f"| {name} | {n} | {mode} | | {r['status']} | | | | {r['wall_s']:.1f} | |")
            continue
        rung = "; ".join(f"{t['family']} ({t['sample_score']:.4f}) {t['rounds_trained']} → {t['rounds_kept']}, "
                         f"{t['score']:.4f}" for t in r.get("rung", []))
        table.append(f"| {name} | {n} | {mode} | {r['refit_rows']} | {r['family']} | {r['score']:.4f} | "
                     f"{r['process_j']:.1f} | {r['refit_j']:.1f} | {r['wall_s']:.1f} | {rung} |")
    text = (f"\n## The whole file's rung and refit (`--refit-whole-file`)\n\nWritten {datetime.now():%Y-%m-%d %H:%M} by "
            f"`python benchmarks/whole_file_refit.py --datasets {args.datasets} --sample-rows {args.sample_rows} "
            f"--seed {args.seed}`: the search on a {args.sample_rows}-row sample of the training split, then the "
            "choice refit on the sample here, or, on `--scheduler local:2`, the finalists tried on the whole file "
            "(less its held-out rows, with rounds grown for its rows) and the best trained on every row "
            "(lightgbm.dask / xgboost.dask); test score on the suite's 25% test split (accuracy, R² for "
            "regression); energy: run.json's process_j (the fit process and its workers).\n\n" + "\n".join(table) + "\n")
    with open(args.report, "a", encoding="utf-8") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
