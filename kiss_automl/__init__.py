"""kiss-automl: simple-first AutoML that measures the energy of every candidate."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["KissClassifier", "KissRegressor", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `kiss-automl --help` does not pay for importing scikit-learn.
    if name in ("KissClassifier", "KissRegressor"):
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'kiss_automl' has no attribute {name!r}")
