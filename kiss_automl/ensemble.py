"""Ensemble selection (Caruana et al., 2004) over the candidates' out-of-fold predictions.

Greedy forward selection with replacement: start from the best candidate, then repeatedly
add the candidate whose inclusion improves the averaged prediction most. Cheap (no model is
trained: it reuses the predictions the search already paid for) and robust on small, noisy
data where the single best cross-validation score is partly luck.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .metrics import Metric


@dataclass(frozen=True)
class Blend:
    """Which candidates, with what weights, and the blend's out-of-fold score."""

    members: tuple[int, ...]  # indices into the candidate list given to `select`
    weights: tuple[float, ...]
    signed: float  # the blend's out-of-fold score, signed so that larger is better


def select(predictions: Sequence[np.ndarray], y: np.ndarray, metric: Metric, classify: bool,
           rounds: int = 15, max_members: int = 5) -> Blend:
    """Greedy selection with replacement; `predictions[0]` must be the best single candidate."""
    def score(blend: np.ndarray) -> float:
        pred = blend.argmax(axis=1) if classify else blend
        return metric.signed(metric.score(y, pred, blend if classify else None))

    chosen = [0]
    total = predictions[0].astype(np.float64).copy()
    best = score(total)
    for _ in range(rounds):
        trials = []
        for i, p in enumerate(predictions):
            if i not in chosen and len(set(chosen)) >= max_members:
                continue
            trials.append((score((total + p) / (len(chosen) + 1)), -i, i))
        value, _, pick = max(trials)
        if value <= best:
            break
        best, total = value, total + predictions[pick]
        chosen.append(pick)
    counts = Counter(chosen)
    members = tuple(sorted(counts))
    return Blend(members, tuple(counts[m] / len(chosen) for m in members), best)


class WeightedEnsemble(BaseEstimator):
    """Weighted average of fitted pipelines' probabilities (classification) or predictions."""

    def __init__(self, members: list | None = None, weights: list | None = None, classify: bool = True):
        self.members = members
        self.weights = weights
        self.classify = classify

    def fit(self, X, y):
        for member in self.members:
            member.fit(X, y)
        return self.fit_done()

    def fit_done(self) -> "WeightedEnsemble":
        """Mark as fitted when the members were fit one by one (as the engine does)."""
        self.n_members_ = len(self.members)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        return sum(w * m.predict_proba(X) for m, w in zip(self.members, self.weights))

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        if self.classify:
            return self.predict_proba(X).argmax(axis=1)
        return sum(w * m.predict(X) for m, w in zip(self.members, self.weights))
