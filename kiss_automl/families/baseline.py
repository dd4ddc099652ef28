"""Baseline: predict the majority class (class priors) or the mean. The floor to beat."""

from __future__ import annotations

from .base import BuildContext, Family


def build(params: dict, context: BuildContext):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if context.task == "regression":
        return DummyRegressor(strategy="mean")
    return DummyClassifier(strategy="prior")


BASELINE = Family(name="baseline", group="baseline", preprocessing="ordinal", text_input="none", build=build,
                  imports=("sklearn.dummy",))
