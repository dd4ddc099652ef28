"""Which final model generalises best on cross-validated (small) data: the best single candidate,
a Caruana blend led by the metric (accuracy / R²), or one led by log-likelihood (squared error)?

For each dataset and seed (the suite's 75/25 split) this runs kiss-automl's default search
without blending, refits every candidate on the training rows and scores it on the test rows,
then replays three rules on the candidates' out-of-fold predictions:

- `best`: the best single candidate (ensemble: false);
- `blend_metric`: greedy selection on the metric, kept when it beats the best by `tol`
  (kiss-automl's blend before 2026-11-27);
- `blend_likelihood`: greedy selection on log-likelihood / squared error, kept when its mean
  fold score is at least the best's (`ensemble.select` and the engine's rule today).

It also fits a default LightGBM and the logistic/ridge pipeline (benchmarks/systems.py) on the
same split: issue 2's bar is the better of the two. Scores are in points: accuracy x100, R² x50.

    python benchmarks/ensemble_objective.py                      # datasets under 10,000 training rows, seeds 0-4
    python benchmarks/ensemble_objective.py --datasets kc1,car --seeds 0,1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402
import systems  # noqa: E402

RULES = ("best", "blend_metric", "blend_likelihood")


def candidates_on_test(name: str, seed: int) -> dict:
    """Fit kiss-automl (no blend); every candidate's out-of-fold and test predictions."""
    from threadpoolctl import threadpool_limits

    from kiss_automl import KissClassifier, KissRegressor, engine

    row = suite_data.manifest()[name]
    task = row["task"]
    X, y = suite_data.load(row)
    X_train, X_test, y_train, y_test = suite_data.split(X, y, task, seed)
    seen = {}
    original = engine._select_and_refit

    def spy(result, search, typer, data, config, seed_, *args, **kwargs):
        seen.update(result=result, typer=typer, data=data, config=config)
        return original(result, search, typer, data, config, seed_, *args, **kwargs)

    engine._select_and_refit = spy
    try:
        cls = KissRegressor if task == "regression" else KissClassifier
        model = cls(random_state=seed, config={"ensemble": False}).fit(X_train, y_train)
    finally:
        engine._select_and_refit = original
    result, data = seen["result"], seen["data"]
    X_test_typed = seen["typer"].transform(X_test)
    classify = task != "regression"
    y_test_coded = np.searchsorted(model.classes_, np.asarray(y_test)) if classify else np.asarray(y_test, float)
    best = result.selected
    pool = sorted((c for c in result.candidates if c.ok and c.rung == best.rung),
                  key=lambda c: (-c.signed, c.trial))[:10]
    test_predictions = []
    with threadpool_limits(limits=1):
        for candidate in pool:
            fitted = engine._refit(candidate, data, seen["config"], seed)
            test_predictions.append(fitted.predict_proba(X_test_typed) if classify else fitted.predict(X_test_typed))
    peers = {}
    for system in ("lgbm", "lr"):
        pred, _, _ = getattr(systems, f"fit_{system}")(X_train, y_train, X_test, task, seed, None)
        peers[system] = _score(np.asarray(y_test), np.asarray(pred), task)
    return {"task": task, "pool": pool, "test": test_predictions, "y_test": y_test_coded, "data": data,
            "plan": result.plan, "tol": seen["config"].tol, "peers": peers}


def _score(y, pred, task) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(r2_score(y, pred) if task == "regression" else accuracy_score(y, pred))


def _test_score(case: dict, members, weights) -> float:
    from kiss_automl import ensemble

    blend = ensemble.combine([case["test"][i] for i in members], weights)
    pred = blend.argmax(axis=1) if case["task"] != "regression" else blend
    return _score(case["y_test"], pred, case["task"])


def replay(case: dict) -> dict[str, float]:
    """Each rule's test score."""
    from kiss_automl import ensemble

    pool, data, task = case["pool"], case["data"], case["task"]
    classify = task != "regression"
    folds = [data.y[valid] for _, valid in case["plan"].splits]
    y_oof = np.concatenate(folds)
    oof = [c.evaluation.oof_predictions() for c in pool]
    best = pool[0]
    scores = {"best": _test_score(case, [0], [1.0])}
    scores["blend_metric"] = scores["best"]
    scores["blend_likelihood"] = scores["best"]
    if len(pool) < 2:
        return scores
    members, weights, blend_signed = _metric_greedy(oof, y_oof, data.metric, classify)
    if len(members) >= 2 and blend_signed - best.signed >= case["tol"]:
        scores["blend_metric"] = _test_score(case, members, weights)
    blend = ensemble.select(oof, y_oof, classify)
    if len(blend.members) >= 2:
        fold = ensemble.fold_scores([pool[i].evaluation.oof for i in blend.members], blend.weights, folds,
                                    data.metric, classify)
        if data.metric.signed(float(np.mean(fold))) >= best.signed:
            scores["blend_likelihood"] = _test_score(case, blend.members, blend.weights)
    return scores


def _metric_greedy(predictions, y, metric, classify):
    """The blend kiss-automl used before: greedy steps led by the metric itself (pooled out-of-fold)."""
    from kiss_automl import ensemble

    def objective(blend):
        pred = blend.argmax(axis=1) if classify else blend
        return metric.signed(metric.score(y, pred, blend if classify else None))

    blend = ensemble.select(predictions, y, classify, objective=objective)
    return blend.members, blend.weights, objective(ensemble.combine(
        [predictions[i] for i in blend.members], blend.weights))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", help="comma-separated names (default: under 10,000 training rows)")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--out", default=str(HERE / "out" / "ensemble"))
    args = parser.parse_args(argv)
    manifest = suite_data.manifest()
    names = args.datasets.split(",") if args.datasets else [
        n for n, row in manifest.items() if row["rows"] * (1 - suite_data.TEST_SIZE) < 10000]
    seeds = [int(s) for s in args.seeds.split(",")]
    gaps = defaultdict(lambda: defaultdict(list))  # rule -> dataset -> points vs the bar
    gains = defaultdict(lambda: defaultdict(list))  # rule -> dataset -> points vs `best`
    for name in names:
        for seed in seeds:
            started = time.time()
            case = candidates_on_test(name, seed)
            points = 50 if case["task"] == "regression" else 100
            bar = max(case["peers"].values())
            scores = replay(case)
            for rule, value in scores.items():
                gaps[rule][name].append((value - bar) * points)
                gains[rule][name].append((value - scores["best"]) * points)
            print(f"{name:18s} seed={seed} " + " ".join(f"{r}={scores[r]:.4f}" for r in RULES)
                  + f" bar={bar:.4f} ({time.time() - started:.0f} s)", flush=True)
    report = _report(names, seeds, gaps, gains)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ENSEMBLE.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def _report(names, seeds, gaps, gains) -> str:
    lines = [f"# Final model on cross-validated data: {len(names)} datasets x seeds {seeds}", "",
             "Mean test score minus the bar (better of default LightGBM and logistic/ridge), points "
             "(accuracy x100, R² x50); `misses` counts (dataset, seed) pairs more than 0.5 points under it.", "",
             "| dataset | " + " | ".join(RULES) + " |", "| --- |" + " ---: |" * len(RULES)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{np.mean(gaps[r][name]):+.2f}" for r in RULES) + " |")
    lines.append("| **mean over datasets** | " + " | ".join(
        f"**{np.mean([np.mean(gaps[r][n]) for n in names]):+.3f}**" for r in RULES) + " |")
    lines.append("| mean gain over `best` | " + " | ".join(
        f"{np.mean([np.mean(gains[r][n]) for n in names]):+.3f}" for r in RULES) + " |")
    lines.append("| datasets better / worse than `best` | " + " | ".join(
        f"{sum(np.mean(gains[r][n]) > 0 for n in names)} / {sum(np.mean(gains[r][n]) < 0 for n in names)}"
        for r in RULES) + " |")
    lines.append("| misses (dataset, seed) | " + " | ".join(
        str(sum(g < -0.5 for n in names for g in gaps[r][n])) for r in RULES) + " |")
    lines.append("| datasets missing on the seed mean | " + " | ".join(
        str(sum(np.mean(gaps[r][n]) < -0.5 for n in names)) for r in RULES) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
