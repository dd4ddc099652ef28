"""The scikit-learn contract: estimator checks, pipelines, clone, CV and grid search."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from kiss_automl import KissClassifier, KissRegressor
from kiss_automl.errors import DataError

from .conftest import TINY


@parametrize_with_checks([KissClassifier(config=TINY, random_state=0), KissRegressor(config=TINY, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_fits_a_real_frame_with_categoricals_and_missing_values(credit, fake_meter):
    X, y = credit
    clf = KissClassifier(config=TINY, random_state=0).fit(X, y, meter=fake_meter)
    assert set(clf.classes_) == {"+", "-"}
    proba = clf.predict_proba(X.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(X.head(20))) <= {"+", "-"}
    assert isinstance(clf.leaderboard_, pd.DataFrame) and len(clf.leaderboard_) == TINY["max_trials"]
    assert clf.stop_reason_ == "max_trials"
    assert clf.score(X, y) > 0.8


def test_regressor_on_real_data(abalone, fake_meter):
    X, y = abalone
    reg = KissRegressor(config=TINY, random_state=0).fit(X, y, meter=fake_meter)
    assert reg.best_score_ > 0.4
    assert reg.predict(X.head(5)).dtype == np.float64


def test_works_in_pipeline_cross_val_score_clone_and_grid_search(credit):
    X, y = credit
    numeric = X.select_dtypes("number").fillna(0)
    pipe = make_pipeline(FunctionTransformer(), KissClassifier(config=TINY, random_state=0))
    scores = cross_val_score(pipe, numeric, y, cv=2)
    assert scores.shape == (2,) and (scores > 0.6).all()
    assert clone(pipe).get_params()["kissclassifier__config"] == TINY
    grid = GridSearchCV(KissClassifier(config=TINY, random_state=0), {"max_trials": [2, 3]}, cv=2).fit(numeric, y)
    assert grid.best_params_["max_trials"] in (2, 3)


def test_parameters_are_keyword_only_after_time_budget():
    assert KissClassifier(30).time_budget == 30
    with pytest.raises(TypeError):
        KissClassifier(30, None)  # noqa


def test_one_class_is_a_clear_error():
    X = pd.DataFrame({"a": range(20)})
    with pytest.raises(DataError, match="one class only"):
        KissClassifier(config=TINY).fit(X, ["x"] * 20)


def test_a_target_with_missing_values_is_a_clear_error():
    X = pd.DataFrame({"a": range(20)})
    with pytest.raises(DataError, match="The target has 2 missing value"):
        KissClassifier(config=TINY).fit(X, ["x", "y"] * 9 + [None, np.nan])


def test_an_array_after_fitting_a_frame_is_read_in_the_fit_column_order(credit, fake_meter):
    X, y = credit
    clf = KissClassifier(config=TINY, random_state=0).fit(X, y, meter=fake_meter)
    with pytest.warns(UserWarning, match="feature names"):
        proba = clf.predict_proba(X.head(30).to_numpy())
    assert np.allclose(proba, clf.predict_proba(X.head(30)))


def test_unknown_metric_for_the_task_is_a_clear_error(credit):
    from kiss_automl.errors import ConfigError

    X, y = credit
    with pytest.raises(ConfigError, match="Unknown metric 'r2' for a binary task"):
        KissClassifier(config=TINY, metric="r2").fit(X, y)


def test_library_does_not_touch_global_logging(credit, fake_meter):
    import logging

    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("kiss_automl").level)
    X, y = credit
    KissClassifier(config=TINY, random_state=0).fit(X, y, meter=fake_meter)
    assert (root.level, list(root.handlers), logging.getLogger("kiss_automl").level) == before
