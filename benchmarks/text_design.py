"""How should the families see a free-text column? The measurements behind kiss_automl/text.

    python benchmarks/text_design.py --seeds 0,1,2      # writes benchmarks/TEXT_DESIGN.md

On each table of shared/datasets/text, with the suite's split (75/25, stratified, seed s),
it compares, by test accuracy and CPU-seconds of the text step:

- `lgbm, no text`: LightGBM (defaults, one thread) on the other columns;
- `lgbm + oof(nb)`: the same plus a naive-Bayes-on-TF-IDF out-of-fold score and 5 text
  statistics;
- `lgbm + oof(nb) + top terms`: and the TF-IDF of the 32 most frequent n-grams as columns
  (what the tree families get: `output="score"`), with LightGBM on native categoricals and on
  category codes (what the forests get);
- `lgbm + oof(lr)`: the same with logistic regression as the text model;
- `linear + tfidf`: logistic regression on the one-hot columns and the sparse TF-IDF, rows
  weighted x1 and x2 (what the linear family gets: `output="sparse"`, SPARSE_WEIGHT);
- `text only lr`: logistic regression on the TF-IDF alone.

Everything is kiss-automl's own code (ColumnTyper, TextFeatures, build_preprocessor) but for
the scorer swapped in for `oof(lr)`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402

TEXT_DIR = suite_data.DEFAULT_DATA_DIR / "text"


def _accuracy(y, pred) -> float:
    import numpy as np

    return float(np.mean(np.asarray(y) == np.asarray(pred)))


def measure(name: str, row: dict, seed: int) -> dict:
    import lightgbm
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from kiss_automl.columns import ColumnTyper
    from kiss_automl.preprocess import build_preprocessor
    from kiss_automl.text import features as tf

    X, y = suite_data.load(row)
    X_train, X_test, y_train, y_test = suite_data.split(X, y, row["task"], seed)
    classes = sorted(y.astype(str).unique())
    code = {c: i for i, c in enumerate(classes)}
    y_train = y_train.astype(str).map(code).to_numpy()
    y_test = y_test.astype(str).map(code).to_numpy()
    typer = ColumnTyper()
    train, test = typer.fit_transform(X_train), typer.transform(X_test)
    task = "binary" if len(classes) == 2 else "multiclass"
    text = typer.text_columns_
    out = {"dataset": name, "seed": seed, "text_columns": ",".join(text)}

    def lgbm(prep_kind: str, features):
        tf.clear_cache()
        prep = build_preprocessor(prep_kind, typer.numeric_columns_, typer.categorical_columns_, text, features)
        started = time.process_time()
        A = prep.fit_transform(train, y_train)
        B = prep.transform(test)
        text_s = time.process_time() - started
        model = lightgbm.LGBMClassifier(n_jobs=1, verbose=-1, random_state=seed).fit(A, y_train)
        return _accuracy(y_test, model.predict(B)), text_s

    others = typer.numeric_columns_ + typer.categorical_columns_
    out["lgbm, no text"] = lgbm("native", None)[0] if others else float("nan")  # no column but the text
    top_terms = tf.TOP_TERMS
    tf.TOP_TERMS = 0
    out["lgbm + oof(nb)"], out["cpu_s oof(nb)"] = lgbm("native", tf.TextFeatures(text, output="score", task=task))
    tf.TOP_TERMS = top_terms
    out["lgbm + oof(nb) + top terms"], out["cpu_s top terms"] = lgbm(
        "native", tf.TextFeatures(text, output="score", task=task))
    out["lgbm codes + oof(nb) + top terms"], _ = lgbm("ordinal", tf.TextFeatures(text, output="score", task=task))

    class LogisticScore(tf.TextFeatures):
        def _scorer(self):
            return LogisticRegression(C=4.0, max_iter=1000)

    tf.TOP_TERMS = 0
    out["lgbm + oof(lr)"], out["cpu_s oof(lr)"] = lgbm("native", LogisticScore(text, output="score", task=task))
    tf.TOP_TERMS = top_terms
    for weight in (1.0, 2.0):
        tf.SPARSE_WEIGHT = weight
        tf.clear_cache()
        prep = build_preprocessor("onehot", typer.numeric_columns_, typer.categorical_columns_, text,
                                  tf.TextFeatures(text, output="sparse", task=task))
        model = LogisticRegression(C=1.0, max_iter=300).fit(prep.fit_transform(train, y_train), y_train)
        out[f"linear + tfidf x{weight:g}"] = _accuracy(y_test, model.predict(prep.transform(test)))
    tf.SPARSE_WEIGHT = 2.0
    tf.clear_cache()
    only = tf.TextFeatures(text, output="sparse", task=task)
    model = LogisticRegression(C=4.0, max_iter=1000).fit(only.fit_transform(train[text], y_train), y_train)
    out["text only lr"] = _accuracy(y_test, model.predict(only.transform(test[text])))
    return out


def _markdown(frame) -> str:
    """A pipe table (pandas' to_markdown needs tabulate, which the core install lacks)."""
    def cell(value) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    rows = [list(map(str, frame.columns)), ["---"] * frame.shape[1]]
    rows += [[cell(v) for v in values] for values in frame.itertuples(index=False)]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main(argv=None) -> int:
    import warnings

    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(HERE / "TEXT_DESIGN.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    for name, row in suite_data.manifest(TEXT_DIR).items():
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(measure(name, row, seed))
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    mean = frame.drop(columns=["seed", "text_columns"]).groupby("dataset").mean().T
    lines = ["# How the families see free text (benchmarks/text_design.py)", "",
             f"Test accuracy, mean over seeds {args.seeds} (the suite's 75/25 split), and CPU-seconds of "
             "the text step (vectorizing, out-of-fold scores, applying to the test rows). Command: "
             f"`python benchmarks/text_design.py --seeds {args.seeds}`.", "",
             _markdown(mean.reset_index(names="")), "", "Per seed:", "", _markdown(frame), ""]
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
