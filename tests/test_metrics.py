import numpy as np

from kiss_automl.metrics import get_metric


def test_binary_f1_scores_the_rarer_class():
    f1 = get_metric("f1", "binary")
    y_true = np.array([0] * 90 + [1] * 10)  # class 1 rare: sklearn's positive label
    always_majority = np.zeros(100, dtype=int)
    assert f1.score(y_true, always_majority, None) == 0.0
    assert f1.score(1 - y_true, 1 - always_majority, None) == 0.0  # class 0 rare: still the rare one


def test_an_undefined_roc_auc_is_nan_without_warnings(recwarn):
    auc = get_metric("roc_auc", "binary")
    assert np.isnan(auc.score(np.zeros(5, dtype=int), None, np.full((5, 2), 0.5)))
    assert not recwarn.list


def test_log_loss_accepts_probabilities_rounded_off_one(recwarn):
    proba = np.array([[0.3, 0.7], [0.6, 0.4]], dtype=np.float32) * np.float32(1.001)
    assert get_metric("log_loss", "binary").score(np.array([1, 0]), None, proba) > 0
    assert not recwarn.list
