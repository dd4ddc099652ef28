"""Tests of the torch MLP family (CPU; each fit is small, the whole file runs in seconds)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from kiss_automl.families.torch_mlp import TorchMLPClassifier, TorchMLPRegressor

torch = pytest.importorskip("torch")

REPO_ROOT = Path(__file__).resolve().parents[2]

# Small and quick, but enough to pass the accuracy thresholds of sklearn's checks. Pinned to
# the CPU so that the exact-equality checks do not depend on a GPU's kernels.
CHECK_PARAMS = dict(hidden_size=16, max_epochs=20, learning_rate=1e-2, batch_size=64,
                    device="cpu")
CUDA = torch.cuda.is_available()


@parametrize_with_checks(
    [TorchMLPClassifier(**CHECK_PARAMS), TorchMLPRegressor(**CHECK_PARAMS)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def classification_data():
    X, y = make_classification(
        n_samples=1200, n_features=12, n_informative=6, n_redundant=2, n_classes=3,
        class_sep=2.0, random_state=0,
    )
    labels = np.array(["cat", "dog", "eel"])[y]
    return X[:900], labels[:900], X[900:], labels[900:]


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression(n_samples=1000, n_features=8, n_informative=6, noise=5.0,
                           random_state=0)
    y = 3.0 * y + 100.0  # not standardized: the estimator must scale and unscale
    return X[:800], y[:800], X[800:], y[800:]


@pytest.fixture(scope="module")
def fitted_classifier(classification_data):
    X, y, _, _ = classification_data
    return TorchMLPClassifier(hidden_size=32, max_epochs=30, random_state=0).fit(X, y)


def test_classifier_learns_separable_problem_with_string_labels(classification_data,
                                                                fitted_classifier):
    _, _, X_test, y_test = classification_data
    clf = fitted_classifier
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert clf.n_features_in_ == X_test.shape[1]
    pred = clf.predict(X_test)
    assert pred.dtype == clf.classes_.dtype
    assert accuracy_score(y_test, pred) > 0.9
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)), proba, rtol=1e-6)
    assert len(clf.history_) == clf.n_epochs_
    assert set(clf.history_[0]) == {"epoch", "train_loss", "valid_loss"}
    assert 1 <= clf.best_epoch_ <= clf.n_epochs_ <= 30
    assert clf.device_.startswith("cuda" if CUDA else "cpu")  # device="auto"


def test_regressor_learns_linear_target(regression_data):
    X, y, X_test, y_test = regression_data
    reg = TorchMLPRegressor(hidden_size=32, max_epochs=40, learning_rate=3e-3,
                            random_state=0).fit(X, y)
    pred = reg.predict(X_test)
    assert pred.shape == (len(X_test),) and pred.dtype == np.float64
    assert r2_score(y_test, pred) > 0.8
    assert reg.y_mean_ == pytest.approx(y.mean())


def test_sparse_input_matches_dense(classification_data):
    X, y, X_test, _ = classification_data
    X, X_test = X[:300], X_test[:50]
    X[np.abs(X) < 1.0] = 0.0
    X_test = X_test.copy()
    X_test[np.abs(X_test) < 1.0] = 0.0
    params = dict(hidden_size=8, max_epochs=3, random_state=0)
    dense = TorchMLPClassifier(**params).fit(X, y[:300])
    sparse = TorchMLPClassifier(**params).fit(sp.csr_matrix(X), y[:300])
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X_test)),
                               dense.predict_proba(X_test), rtol=1e-6)


def test_early_stopping_stops_and_restores_best_weights():
    # Pure-noise labels: the validation loss stops improving after a few epochs.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 10))
    y = rng.randint(0, 2, size=400)
    params = dict(hidden_size=64, dropout=0.0, learning_rate=1e-2, random_state=0)
    clf = TorchMLPClassifier(max_epochs=100, patience=3, **params).fit(X, y)
    assert clf.n_epochs_ < 100
    assert clf.n_epochs_ == clf.best_epoch_ + 3
    valid = [h["valid_loss"] for h in clf.history_]
    assert min(valid) == pytest.approx(valid[clf.best_epoch_ - 1])
    # The restored weights are those after epoch best_epoch_: a run capped there ends on them.
    capped = TorchMLPClassifier(max_epochs=clf.best_epoch_, patience=100, **params).fit(X, y)
    assert capped.n_epochs_ == clf.best_epoch_
    np.testing.assert_array_equal(clf.predict_proba(X), capped.predict_proba(X))


def test_no_validation_runs_all_epochs():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    reg = TorchMLPRegressor(max_epochs=4, validation_fraction=0.0, random_state=0).fit(X, y)
    assert reg.n_epochs_ == reg.best_epoch_ == 4
    assert all(h["valid_loss"] is None for h in reg.history_)
    tiny = TorchMLPRegressor(max_epochs=3, random_state=0).fit(X[:10], y[:10])  # < 20 rows
    assert tiny.n_epochs_ == 3


def test_reproducible_and_independent_of_global_rng(classification_data):
    X, y, X_test, _ = classification_data
    X, y = X[:300], y[:300]
    params = dict(hidden_size=16, max_epochs=3)
    torch.manual_seed(123)
    first = TorchMLPClassifier(random_state=7, **params).fit(X, y).predict_proba(X_test)
    state_before = torch.get_rng_state()
    torch.manual_seed(999)  # another global state must not change the result...
    state_other = torch.get_rng_state()
    second = TorchMLPClassifier(random_state=7, **params).fit(X, y).predict_proba(X_test)
    # ...and fitting must leave the global torch RNG state as it was.
    assert torch.equal(torch.get_rng_state(), state_other)
    assert not torch.equal(state_before, state_other)
    np.testing.assert_array_equal(first, second)
    other = TorchMLPClassifier(random_state=8, **params).fit(X, y).predict_proba(X_test)
    assert not np.allclose(first, other)


def test_skops_round_trip(fitted_classifier, classification_data, regression_data):
    sio = pytest.importorskip("skops.io")
    _, _, X_test, _ = classification_data
    data = sio.dumps(fitted_classifier)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == ["kiss_automl.families.torch_mlp.TorchMLPClassifier"]
    loaded = sio.loads(data, trusted=untrusted)
    assert "module_" not in vars(loaded)  # rebuilt lazily, on the first prediction
    np.testing.assert_array_equal(loaded.predict_proba(X_test),
                                  fitted_classifier.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.predict(X_test), fitted_classifier.predict(X_test))
    # A loaded model saves again (before and after its module was rebuilt).
    again = sio.loads(sio.dumps(loaded), trusted=untrusted)
    np.testing.assert_array_equal(again.predict(X_test), fitted_classifier.predict(X_test))

    X, y, X_test, _ = regression_data
    reg = TorchMLPRegressor(hidden_size=8, max_epochs=3, random_state=0).fit(X, y)
    data = sio.dumps(reg)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == ["kiss_automl.families.torch_mlp.TorchMLPRegressor"]
    np.testing.assert_array_equal(sio.loads(data, trusted=untrusted).predict(X_test),
                                  reg.predict(X_test))


def test_pickle_round_trip(fitted_classifier, classification_data):
    _, _, X_test, _ = classification_data
    loaded = pickle.loads(pickle.dumps(fitted_classifier))
    np.testing.assert_array_equal(loaded.predict_proba(X_test),
                                  fitted_classifier.predict_proba(X_test))
    # Pickling did not strip the live estimator's module.
    assert "module_" in vars(fitted_classifier)


def test_module_import_does_not_import_torch():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-c",
         "import kiss_automl.families.torch_mlp, sys; print('torch' in sys.modules)"],
        capture_output=True, text=True, check=True, env=env, cwd=REPO_ROOT,
    )
    assert out.stdout.strip() == "False"


def test_threads_restored_after_fit_and_predict():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    before = torch.get_num_threads()
    target = 2 if before == 1 else 1
    reg = TorchMLPRegressor(max_epochs=2, n_threads=target, random_state=0).fit(X, y)
    assert torch.get_num_threads() == before
    reg.predict(X)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "params",
    [dict(hidden_size=0), dict(n_layers=-1), dict(dropout=1.0), dict(learning_rate=0),
     dict(validation_fraction=1.0), dict(patience=0), dict(device="tpu"), dict(n_threads=0)],
)
def test_invalid_parameters_raise_on_fit(params):
    X, y = np.zeros((30, 2)), np.arange(30) % 2
    with pytest.raises(ValueError):
        TorchMLPClassifier(**params).fit(X, y)


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="2 classes"):
        TorchMLPClassifier().fit(np.zeros((30, 2)), np.ones(30))


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_cuda_fit_predict_and_load_on_cpu(classification_data):
    X, y, X_test, y_test = classification_data
    clf = TorchMLPClassifier(hidden_size=32, max_epochs=30, device="cuda", random_state=0)
    rng_before = torch.cuda.get_rng_state()
    clf.fit(X, y)
    assert torch.equal(torch.cuda.get_rng_state(), rng_before)
    assert clf.device_.startswith("cuda")
    proba = clf.predict_proba(X_test)
    assert isinstance(proba, np.ndarray)
    assert accuracy_score(y_test, clf.predict(X_test)) > 0.9
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), proba)
    on_cpu = pickle.loads(pickle.dumps(clf)).set_params(device="cpu")
    np.testing.assert_allclose(on_cpu.predict_proba(X_test), proba, atol=1e-4)
    assert next(on_cpu.module_.parameters()).device.type == "cpu"
