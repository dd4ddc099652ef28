"""LightGBM's scikit-learn models, predicting a large model one block of rounds at a time.

LightGBM predicts row by row, each row through every tree. A model of thousands of trees does
not fit in a core's cache (connect-4's choice: 2,526 rounds x 3 classes of 120-leaf trees), so
every row reads it from memory again: 16 CPU-s for 3,000 rows here. Predicting all the rows
through one block of rounds at a time, and summing the blocks' raw scores, keeps a block in
cache: 1.8 CPU-s, the same raw scores to 1e-13 (the sums run in another order). Probabilities
are then LightGBM's own transforms of the summed score (sigmoid, softmax; none for
regression), for the objectives the search trains; anything else is LightGBM's own predict.
"""

from __future__ import annotations

import lightgbm
import numpy as np

# A block's leaves: ~0.5 MB of trees, held in a core's cache while every row passes through.
LEAVES_PER_BLOCK = 16_384
# Below this many rows, a block's fixed cost (each call reads the frame again) outweighs it.
MIN_ROWS = 128
_OBJECTIVES = ("binary", "multiclass", "regression")


class _BlockedPrediction:
    """The raw scores of a large model's plain predict, summed over blocks of rounds."""

    def _blocked_raw_scores(self, X, args: tuple, options: dict) -> np.ndarray | None:
        """None when LightGBM's own predict is as good or is what was asked for: an option
        beyond the plain predict (each option's default is falsy: False, 0, None), another
        objective, few rows, or a model within one block."""
        if args or any(options.values()) or self.objective_ not in _OBJECTIVES or \
                getattr(X, "shape", (0,))[0] < MIN_ROWS:
            return None
        booster = self.booster_
        if booster.params.get("sigmoid", 1.0) != 1.0:
            return None
        # What a plain predict uses: the best round's trees when early stopping kept them.
        rounds = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        leaves_per_round = booster.num_model_per_iteration() * max(int(self.num_leaves), 2)
        block = max(1, LEAVES_PER_BLOCK // leaves_per_round)
        if rounds <= block:
            return None
        total = None
        for start in range(0, rounds, block):
            part = lightgbm.LGBMModel.predict(self, X, raw_score=True, start_iteration=start,
                                              num_iteration=min(block, rounds - start))
            total = part if total is None else total + part
        return total


class LGBMClassifier(_BlockedPrediction, lightgbm.LGBMClassifier):
    def predict_proba(self, X, *args, **options):
        raw = self._blocked_raw_scores(X, args, options)
        if raw is None:
            return super().predict_proba(X, *args, **options)
        if raw.ndim == 2:  # multiclass: softmax, as LightGBM computes it
            exp = np.exp(raw - raw.max(axis=1, keepdims=True))
            return exp / exp.sum(axis=1, keepdims=True)
        positive = 1.0 / (1.0 + np.exp(-raw))
        return np.column_stack([1.0 - positive, positive])


class LGBMRegressor(_BlockedPrediction, lightgbm.LGBMRegressor):
    def predict(self, X, *args, **options):
        raw = self._blocked_raw_scores(X, args, options)
        # regression's objective has no transform: the raw score is the prediction
        return super().predict(X, *args, **options) if raw is None else raw
