"""kiss-automl: simple-first AutoML that measures the energy of every candidate."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["KissClassifier", "KissRegressor", "__version__", "report"]


def __getattr__(name: str):
    # Lazy, so that `kiss-automl --help` does not pay for importing scikit-learn.
    if name in ("KissClassifier", "KissRegressor"):
        from . import estimator

        return getattr(estimator, name)
    if name == "report":  # the function; its package is kiss_automl.reporting
        from .reporting import report

        return report
    raise AttributeError(f"module 'kiss_automl' has no attribute {name!r}")
