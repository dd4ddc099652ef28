"""Linear models: logistic regression for classification, ridge for regression."""

from __future__ import annotations

from optuna.distributions import FloatDistribution

from .base import BuildContext, Family


def build(params: dict, context: BuildContext):
    if context.task == "regression":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=params.get("alpha", 1.0), random_state=context.random_state)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=params.get("C", 1.0), max_iter=300, random_state=context.random_state)


LINEAR = Family(
    name="linear",
    group="linear",
    preprocessing="onehot",
    text_input="sparse",
    build=build,
    imports=("sklearn.linear_model",),
    spaces={
        "classification": {"C": FloatDistribution(1e-3, 1e2, log=True)},
        "regression": {"alpha": FloatDistribution(1e-3, 1e3, log=True)},
    },
    starts={"classification": ({"C": 1.0},), "regression": ({"alpha": 1.0},)},
)
