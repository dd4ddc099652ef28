"""What a small fit costs end to end: the CLI's `fit` + `predict` against the logistic/ridge peer.

For every suite dataset under 2,000 rows, on each seed's 75/25 split: the training rows and
the test rows are written as CSVs, then `kiss-automl fit` and `kiss-automl predict` run as
a user runs them, each in its own process, measured from outside (os.wait4: the process and
the children it reaped). The peer is the suite's `lr` system (benchmarks/child.py: imports,
CSV load, a scaled logistic or ridge regression, predict) in one process. Issue 16's target:
kiss CPU-s / peer CPU-s at most 2.5, as a median over the datasets.

Run it with the Python of a core install (the README's first command, `pip install .`): both
sides then import what a user's would. scikit-learn imports dask's array support when dask is
installed, as in the test environment: ~0.3 CPU-s a process, charged twice to kiss.

    python -m venv /tmp/core && /tmp/core/bin/pip install .
    /tmp/core/bin/python benchmarks/small_data_cost.py --seeds 0,1,2   # -> benchmarks/SMALL_DATA_COST.md
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import suite_data  # noqa: E402

SMALL_ROWS = 2000
TARGET = 2.5


def _run(cmd: list[str], log: Path) -> dict:
    row = measure.spawn(cmd, 900, log, measure.Charger("cpu-time"), cwd=str(HERE.parent))
    if row["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: see {log}")
    return row


def measure_one(row: dict, seed: int, work: Path, data_dir: str) -> dict:
    X, y = suite_data.load(row)
    X_train, X_test, y_train, _ = suite_data.split(X, y, row["task"], seed)
    train, test = work / "train.csv", work / "test.csv"
    X_train.assign(kiss_target=np.asarray(y_train)).to_csv(train, index=False)
    X_test.to_csv(test, index=False)
    kiss = str(Path(sys.executable).with_name("kiss-automl"))
    out = work / "model"
    logs = work / "logs"
    fit = _run([kiss, "fit", str(train), "--target", "kiss_target", "--seed", str(seed), "--out", str(out), "--quiet"],
               logs / "fit.log")
    predict = _run([kiss, "predict", str(out), str(test), "--output", str(work / "pred.csv")], logs / "predict.log")
    peer = _run([sys.executable, str(HERE / "child.py"), "--dataset", row["name"], "--system", "lr", "--seed",
                 str(seed), "--data-dir", data_dir], logs / "lr.log")
    shutil.rmtree(out, ignore_errors=True)
    return {"dataset": row["name"], "seed": seed, "rows": int(row["rows"]), "fit_cpu_s": fit["cpu_s"],
            "predict_cpu_s": predict["cpu_s"], "kiss_cpu_s": fit["cpu_s"] + predict["cpu_s"],
            "lr_cpu_s": peer["cpu_s"], "ratio": (fit["cpu_s"] + predict["cpu_s"]) / peer["cpu_s"]}


def _environment() -> str:
    import importlib.util

    extras = [name for name in ("dask", "sentence_transformers") if importlib.util.find_spec(name)]
    return f"`{sys.executable}`, " + (f"with {', '.join(extras)} installed" if extras else "a core install")


def report(df: pd.DataFrame, command: str) -> str:
    per = df.groupby("dataset", sort=False).agg(rows=("rows", "first"), fit=("fit_cpu_s", "mean"),
                                                predict=("predict_cpu_s", "mean"), kiss=("kiss_cpu_s", "mean"),
                                                lr=("lr_cpu_s", "mean"))
    per["ratio"] = per.kiss / per.lr
    median = float(per.ratio.median())
    lines = ["# Small data: what a fit costs end to end (benchmarks/small_data_cost.py)\n\n",
             f"Command: `{command}`, {time.strftime('%Y-%m-%d')}. CPU-seconds of whole processes, measured from "
             "outside (os.wait4), means over seeds; kiss = `kiss-automl fit` + `kiss-automl predict` (two "
             "processes, as a user runs them), lr = the suite's logistic/ridge peer in one process. "
             f"Python: {_environment()}.\n\n",
             f"**Median ratio {median:.2f}** (target at most {TARGET}: "
             f"{'met' if median <= TARGET else 'missed'}).\n\n",
             "| dataset | rows | fit CPU-s | predict CPU-s | kiss CPU-s | lr CPU-s | ratio |\n",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"]
    for name, r in per.iterrows():
        lines.append(f"| {name} | {r.rows} | {r.fit:.2f} | {r.predict:.2f} | {r.kiss:.2f} | {r.lr:.2f} | "
                     f"{r.ratio:.2f} |\n")
    return "".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data-dir", default=str(suite_data.DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE / "SMALL_DATA_COST.md"))
    args = parser.parse_args(argv)
    rows = []
    small = [r for r in suite_data.manifest(args.data_dir).values() if int(r["rows"]) < SMALL_ROWS]
    for row in small:
        for seed in (int(s) for s in args.seeds.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(measure_one(row, seed, Path(tmp), args.data_dir))
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(Path(args.out).with_suffix(".csv"), index=False)
    command = "python benchmarks/small_data_cost.py " + " ".join(argv if argv is not None else sys.argv[1:])
    Path(args.out).write_text(report(df, command.strip()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
