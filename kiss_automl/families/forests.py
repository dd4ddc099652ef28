"""Bagged trees: random forest and extra trees (scikit-learn), single-threaded per fit."""

from __future__ import annotations

from optuna.distributions import FloatDistribution, IntDistribution

from .base import BuildContext, Family

SPACE = {
    "n_estimators": IntDistribution(16, 256, log=True),
    "max_features": FloatDistribution(0.1, 1.0),
    "min_samples_leaf": IntDistribution(1, 32, log=True),
}
# Few trees first: a forest's score rises fast with its first trees, then flattens.
LOW_COST = {"n_estimators": 32, "max_features": 0.5, "min_samples_leaf": 1}


def _build(classifier_name: str, regressor_name: str):
    def build(params: dict, context: BuildContext):
        from sklearn import ensemble

        name = regressor_name if context.task == "regression" else classifier_name
        return getattr(ensemble, name)(
            n_estimators=params.get("n_estimators", LOW_COST["n_estimators"]),
            max_features=params.get("max_features", LOW_COST["max_features"]),
            min_samples_leaf=params.get("min_samples_leaf", LOW_COST["min_samples_leaf"]),
            n_jobs=context.n_threads,
            random_state=context.random_state,
        )

    return build


def _family(name: str, classifier: str, regressor: str):
    return Family(
        name=name,
        group="forest",
        preprocessing="ordinal",
        build=_build(classifier, regressor),
        imports=("sklearn.ensemble",),
        spaces={"classification": SPACE, "regression": SPACE},
        starts={"classification": (LOW_COST,), "regression": (LOW_COST,)},
    )


RANDOM_FOREST = _family("random_forest", "RandomForestClassifier", "RandomForestRegressor")
EXTRA_TREES = _family("extra_trees", "ExtraTreesClassifier", "ExtraTreesRegressor")
