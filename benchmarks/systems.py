"""The systems compared, each as `run(system, row, seed, budget) -> dict`.

`run` is called inside a fresh child process (benchmarks/child.py), so each
system pays for its own imports. Library imports happen inside the fit
functions: the peers' venv has no kiss-automl, the main venv no FLAML.

Every fit function takes (X_train, y_train, X_test, task, seed, budget) and
returns (predictions, positive-class probabilities or None, info dict).
"""

from __future__ import annotations

import os
import tempfile
import time

import suite_data

SYSTEMS = ["kiss", "kiss-fast", "kiss-notext", "kiss-embed", "lgbm", "lr", "tfidf-lr", "null", "flaml", "flaml5", "autogluon"]
# Nominal seconds of search; None = the system's own default (kiss: its config's time_budget).
DEFAULT_BUDGET = {"kiss": None, "kiss-fast": None, "kiss-notext": None, "kiss-embed": None, "lgbm": None, "lr": None, "tfidf-lr": None, "null": None,
                  "flaml": 60.0, "flaml5": 5.0, "autogluon": 60.0}
# The free-text columns of the text benchmark's tables (shared/datasets/text), for the TF-IDF
# peer; a table not listed has its text columns found by the rule a user would write.
TEXT_COLUMNS = {"fine_foods": ["review"], "bird_strikes": ["remarks"]}
PEER_VENV_SYSTEMS = {"flaml", "flaml5", "autogluon"}
BOARD_KEY = "_leaderboard"


def _positive_proba(proba, classes, task):
    if task != "binary" or proba is None:
        return None
    return proba[:, 1], classes[1]


def fit_kiss(X, y, X_test, task, seed, budget, text_columns=None, config="default"):
    import kiss_automl
    from kiss_automl import KissClassifier, KissRegressor

    cls = KissRegressor if task == "regression" else KissClassifier
    model = cls(time_budget=budget, random_state=seed, text_columns=text_columns, config=config).fit(X, y)
    summary = model.search_summary_
    board = model.leaderboard_
    info = {
        "version": kiss_automl.__version__,
        "stop_reason": model.stop_reason_,
        "best_family": model.best_family_,
        "n_candidates": int(len(board)),
        "search_s": summary["time"]["search_s"],
        "overhead_fraction": summary["time"]["search_overhead_fraction"],
        "own_candidates_j": summary["energy"]["candidates_j"],
        "own_refit_j": summary["energy"]["refit_j"],
        "own_energy_method": summary["energy"]["method"],
        "watts_per_core": summary["energy"]["constants"].get("watts_per_core"),
        "energy_by_family_j": board.groupby("family")["fit_energy_j"].sum().round(4).to_dict(),
        "text": summary.get("text"),
        BOARD_KEY: board,  # saved beside the losses by run(), not printed
    }
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, model.classes_ if proba is not None else None, task), info


def fit_kiss_fast(X, y, X_test, task, seed, budget):
    """kiss-automl with the `fast` preset (--config fast): the cheap families, an earlier stop."""
    return fit_kiss(X, y, X_test, task, seed, budget, config="fast")


def fit_kiss_notext(X, y, X_test, task, seed, budget):
    """kiss-automl as a user with --no-text runs it: free text dropped as before."""
    return fit_kiss(X, y, X_test, task, seed, budget, text_columns=[])


def fit_kiss_embed(X, y, X_test, task, seed, budget):
    """kiss-automl told to try sentence embeddings whatever their cost (text_embeddings: always;
    the text extra's default model)."""
    return fit_kiss(X, y, X_test, task, seed, budget, config={"text_embeddings": "always"})


def fit_tfidf_lr(X, y, X_test, task, seed, budget, dataset=None):
    """The plain text pipeline: TF-IDF (word 1-2-grams, sublinear tf) of each text column beside
    the linear pipeline's one-hot and scaled columns, then logistic regression (ridge)."""
    import sklearn
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    text = TEXT_COLUMNS.get(dataset) or [c for c in X.columns if X[c].dtype.kind not in "biuf"
                                         and X[c].astype(str).str.split().str.len().mean() >= 3]
    X, X_test = X.copy(), X_test.copy()
    for col in X.columns:
        if col in text:
            X[col], X_test[col] = X[col].fillna("").astype(str), X_test[col].fillna("").astype(str)
        elif X[col].dtype.kind not in "biuf":
            X[col] = X[col].astype(object).where(X[col].notna(), None)
            X_test[col] = X_test[col].astype(object).where(X_test[col].notna(), None)
    numeric = [c for c in X.columns if X[c].dtype.kind in "biuf"]
    other = [c for c in X.columns if c not in numeric and c not in text]
    parts = [(f"text_{c}", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), c) for c in text]
    if numeric:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if other:
        parts.append(("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                           OneHotEncoder(handle_unknown="ignore")), other))
    model = Ridge() if task == "regression" else LogisticRegression(max_iter=1000, random_state=seed)
    model = make_pipeline(ColumnTransformer(parts), model).fit(X, y)
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, getattr(model, "classes_", None), task), {
        "version": sklearn.__version__, "text_columns": text}


def _categorical(X, X_test):
    """Object columns as pandas categories (what a LightGBM user does); safe column names."""
    X, X_test = X.copy(), X_test.copy()
    names = suite_data.safe_names(X.columns)
    X.columns = X_test.columns = names
    for col in X.columns:
        if X[col].dtype == object or str(X[col].dtype) in ("str", "string"):
            X[col] = X[col].astype("category")
            X_test[col] = X_test[col].astype("category")
    return X, X_test


def fit_lgbm(X, y, X_test, task, seed, budget):
    import lightgbm

    X, X_test = _categorical(X, X_test)
    # Library defaults, as a user would call it; random_state only fixes the seed.
    cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    model = cls(random_state=seed, verbose=-1).fit(X, y)
    info = {"version": lightgbm.__version__, "n_jobs": str(model.get_params().get("n_jobs"))}
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, getattr(model, "classes_", None), task), info


def _linear_pipeline(X, task, seed):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in X.columns if X[c].dtype.kind in "biuf"]
    other = [c for c in X.columns if c not in numeric]
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")), other),
    ])
    model = Ridge() if task == "regression" else LogisticRegression(max_iter=1000, random_state=seed)
    return make_pipeline(prep, model)


def fit_lr(X, y, X_test, task, seed, budget):
    import sklearn

    X, X_test = X.copy(), X_test.copy()
    for col in X.columns:  # strings and missing values: one dtype for the imputer
        if X[col].dtype.kind not in "biuf":
            X[col] = X[col].astype(object).where(X[col].notna(), None)
            X_test[col] = X_test[col].astype(object).where(X_test[col].notna(), None)
    model = _linear_pipeline(X, task, seed).fit(X, y)
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, getattr(model, "classes_", None), task), {"version": sklearn.__version__}


def fit_null(X, y, X_test, task, seed, budget):
    import sklearn
    from sklearn.dummy import DummyClassifier, DummyRegressor

    model = (DummyRegressor() if task == "regression" else DummyClassifier()).fit(X, y)
    pred = model.predict(X_test)
    proba = model.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, getattr(model, "classes_", None), task), {"version": sklearn.__version__}


def fit_flaml(X, y, X_test, task, seed, budget):
    import flaml

    X, X_test = X.copy(), X_test.copy()
    X.columns = X_test.columns = suite_data.safe_names(X.columns)
    automl = flaml.AutoML()
    flaml_task = "regression" if task == "regression" else "classification"
    automl.fit(X, y, task=flaml_task, time_budget=budget, metric="r2" if task == "regression" else "accuracy",
               seed=seed, verbose=0)
    info = {"version": flaml.__version__, "best_estimator": automl.best_estimator, "time_budget": budget}
    pred = automl.predict(X_test)
    proba = automl.predict_proba(X_test) if task == "binary" else None
    return pred, _positive_proba(proba, getattr(automl, "classes_", None), task), info


def fit_autogluon(X, y, X_test, task, seed, budget):
    import autogluon.tabular
    from autogluon.tabular import TabularPredictor

    label = "__target__"
    train = X.copy()
    train[label] = y.to_numpy()
    problem = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}[task]
    with tempfile.TemporaryDirectory(prefix="kiss-bench-ag-") as path:
        predictor = TabularPredictor(label=label, problem_type=problem, path=path, verbosity=0,
                                     eval_metric="r2" if task == "regression" else "accuracy")
        predictor.fit(train, presets="medium_quality", time_limit=budget)
        pred = predictor.predict(X_test).to_numpy()
        proba = None
        if task == "binary":
            positive = predictor.positive_class
            proba = (predictor.predict_proba(X_test)[positive].to_numpy(), positive)
        info = {"version": autogluon.tabular.__version__, "best_model": predictor.model_best,
                "time_limit": budget}
    return pred, proba, info


FITTERS = {"kiss": fit_kiss, "kiss-fast": fit_kiss_fast, "kiss-notext": fit_kiss_notext, "kiss-embed": fit_kiss_embed, "lgbm": fit_lgbm, "lr": fit_lr,
           "tfidf-lr": fit_tfidf_lr, "null": fit_null,
           "flaml": fit_flaml, "flaml5": fit_flaml, "autogluon": fit_autogluon}


def score(task, y_test, pred, positive) -> dict:
    """Accuracy (R² for regression) and, for binary tasks, ROC AUC of the positive class."""
    import numpy as np
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "regression":
        return {"metric": "r2", "score": float(r2_score(y_test, np.asarray(pred, dtype=float))), "roc_auc": None}
    out = {"metric": "accuracy", "score": float(accuracy_score(np.asarray(y_test), np.asarray(pred))),
           "roc_auc": None}
    if positive is not None:
        proba, label = positive
        out["roc_auc"] = float(roc_auc_score(np.asarray(y_test) == label, proba))
    return out


def row_losses(task, y_test, pred):
    """Per test row: 1 for a wrong class, 0 for a right one; the squared error in regression.
    Two systems' losses on the same rows give the paired standard error of their difference."""
    import numpy as np

    if task == "regression":
        return (np.asarray(y_test, dtype=float) - np.asarray(pred, dtype=float)) ** 2
    return (np.asarray(y_test).astype(str) != np.asarray(pred).astype(str)).astype(np.float32)


def run(system: str, row: dict, seed: int, budget: float | None, losses_dir: str | None = None) -> dict:
    """Load, split, fit, predict and score one (dataset, system, seed); with `losses_dir`,
    save the per-row test losses there (row_losses)."""
    if system not in FITTERS:
        raise ValueError(f"Unknown system {system!r}; choose from {', '.join(SYSTEMS)}")
    if budget is None:
        budget = DEFAULT_BUDGET[system]
    t0 = time.perf_counter()
    X, y = suite_data.load(row)
    X_train, X_test, y_train, y_test = suite_data.split(X, y, row["task"], seed)
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    extra = {"dataset": row["name"]} if system == "tfidf-lr" else {}
    pred, positive, info = FITTERS[system](X_train, y_train, X_test, row["task"], seed, budget, **extra)
    t2 = time.perf_counter()
    result = {"load_s": t1 - t0, "fit_predict_s": t2 - t1, "fit_predict_cpu_s": time.process_time() - cpu1,
              "n_train": len(X_train), "n_test": len(X_test), "budget": budget, "info": info}
    board = info.pop(BOARD_KEY, None)
    result.update(score(row["task"], y_test, pred, positive))
    if losses_dir and board is not None:  # kiss-automl's leaderboard, to see where a fit's energy went
        boards = os.path.join(os.path.dirname(os.path.abspath(losses_dir)), "boards")
        os.makedirs(boards, exist_ok=True)
        board.to_csv(os.path.join(boards, f"{row['name']}__{system}__{seed}.csv"), index=False)
    if losses_dir:
        import numpy as np

        os.makedirs(losses_dir, exist_ok=True)
        np.save(os.path.join(losses_dir, f"{row['name']}__{system}__{seed}.npy"), row_losses(row["task"], y_test, pred))
    return result
