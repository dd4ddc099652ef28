"""Ensemble selection: the greedy steps follow log-likelihood, and when a blend is wanted."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from kiss_automl import ensemble
from kiss_automl.metrics import get_metric


def _proba(p_class1):
    p = np.asarray(p_class1, dtype=float)
    return np.column_stack([1 - p, p])


def test_likelihood_not_accuracy_leads_the_greedy_steps():
    y = np.array([0, 0, 1, 1])
    timid = _proba([0.4, 0.4, 0.6, 0.6])  # right on every row, barely
    sure = _proba([0.1, 0.1, 0.9, 0.9])  # right on every row, confidently: no better in accuracy
    blend = ensemble.select([timid, sure], y, classify=True)
    assert blend.members == (0, 1) and sum(blend.weights) == pytest.approx(1.0)
    assert blend.weights[1] > blend.weights[0]


def test_the_best_stays_alone_when_no_blend_improves_it():
    y = np.array([0, 1, 0, 1])
    right = _proba([0.1, 0.9, 0.1, 0.9])
    wrong = _proba([0.9, 0.1, 0.9, 0.1])
    assert ensemble.select([right, wrong], y, classify=True).members == (0,)


def test_regression_blends_by_squared_error():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    high, low = y + 1.0, y - 1.0  # each off by one; their average is exact
    blend = ensemble.select([high, low], y, classify=False)
    assert blend.members == (0, 1) and blend.weights == pytest.approx((0.5, 0.5))


def test_fold_scores_score_each_fold_of_the_weighted_average():
    folds_a = [_proba([0.2, 0.8]), _proba([0.6, 0.6])]
    folds_b = [_proba([0.4, 0.4]), _proba([0.2, 0.2])]
    targets = [np.array([0, 1]), np.array([1, 0])]
    scores = ensemble.fold_scores([folds_a, folds_b], [0.5, 0.5], targets, get_metric("accuracy", "binary"),
                                  classify=True)
    assert scores == [1.0, 0.5]  # fold 1: [0.3, 0.6] -> 0, 1; fold 2: [0.4, 0.4] -> 0, 0


@pytest.mark.parametrize("setting, mode, expected", [
    ("auto", "cv", True), ("auto", "holdout", False), (True, "holdout", True), (True, "cv", True),
    (False, "cv", False), (False, "holdout", False)])
def test_when_a_blend_is_wanted(setting, mode, expected):
    assert ensemble.wanted(setting, mode) is expected


def test_a_weighted_ensemble_of_classifiers_gives_probabilities():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    members = [LogisticRegression(C=c).fit(X, y) for c in (0.1, 10.0)]
    model = ensemble.WeightedEnsemble(members, [0.25, 0.75]).fit_done()
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1)
    expected = 0.25 * members[0].predict_proba(X[:5]) + 0.75 * members[1].predict_proba(X[:5])
    np.testing.assert_allclose(proba, expected)
    assert (model.predict(X[:5]) == expected.argmax(axis=1)).all()
