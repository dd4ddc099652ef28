"""Tests of kiss_automl.columns.ColumnTyper."""

from __future__ import annotations

import logging
import math
import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone

from kiss_automl.errors import DataError
from kiss_automl.columns import ColumnTyper

N = 100


@pytest.fixture
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    numbers = rng.normal(size=N).round(3)
    return pd.DataFrame({
        "row": np.arange(N),  # a row counter
        "num": rng.normal(size=N),
        "num_text": pd.Series([None if i % 10 == 0 else str(x) for i, x in enumerate(numbers)],
                              dtype="str"),
        "flag": np.tile([True, False], N // 2),
        "flag_na": pd.Series(np.tile([True, False, None, True], N // 4), dtype=object),
        "city": pd.Series(rng.choice(["Paris", "Lyon", None], size=N), dtype="str"),
        "day": pd.Series(pd.date_range("2021-01-01", periods=N).strftime("%d/%m/%Y"), dtype="str"),
        "stamp": pd.Series(pd.date_range("2021-01-01", periods=N, freq="7h").astype(str),
                           dtype="str"),
        "const": 7,
        "empty": np.nan,
        "user": pd.Series([f"u{i:04d}" for i in range(N)], dtype="str"),
        "with_inf": np.r_[np.inf, -np.inf, rng.normal(size=N - 2)],
        "measure": rng.normal(size=N),  # all unique floats: a measurement, kept
        "count": rng.integers(0, 50, size=N),
        "month": pd.Series(rng.choice(["March", "April"], size=N), dtype="str"),
    })


def test_kinds_drops_and_dtypes(mixed):
    typer = ColumnTyper().fit(mixed)
    assert typer.kinds_ == {
        "num": "numeric", "num_text": "numeric", "flag": "boolean", "flag_na": "boolean",
        "city": "categorical", "day": "datetime", "stamp": "datetime", "with_inf": "numeric",
        "measure": "numeric", "count": "numeric", "month": "categorical",
    }
    assert set(typer.dropped_) == {"row", "const", "empty", "user"}
    assert "ID-like" in typer.dropped_["row"] and "ID-like" in typer.dropped_["user"]
    assert "constant" in typer.dropped_["const"]
    assert "missing" in typer.dropped_["empty"]
    assert any("Dropped column 'user'" in note for note in typer.notes_)
    assert typer.datetime_formats_["day"] == "%d/%m/%Y"
    assert typer.datetime_parts_["day"] == ["year", "month", "day", "dayofweek"]
    assert typer.datetime_parts_["stamp"][-1] == "hour"
    assert typer.categorical_columns_ == ["city", "month"]
    assert typer.categories_["city"] == ["Lyon", "Paris"]

    out = typer.transform(mixed)
    assert list(out.columns) == typer.numeric_columns_ + typer.categorical_columns_
    assert list(out.columns) == list(typer.get_feature_names_out())
    assert (out[typer.numeric_columns_].dtypes == np.float64).all()
    assert (out[typer.categorical_columns_].dtypes == "category").all()
    assert out["flag_na"].iloc[:2].tolist() == [1.0, 0.0] and np.isnan(out["flag_na"].iloc[2])
    assert out["num_text"].isna().sum() == N // 10
    assert np.isnan(out["with_inf"].iloc[:2]).all()
    assert not np.isinf(out[typer.numeric_columns_].to_numpy()).any()
    assert out["day__day"].iloc[:3].tolist() == [1.0, 2.0, 3.0]
    assert out["day__month"].iloc[0] == 1.0 and out["day__dayofweek"].iloc[0] == 4.0  # a Friday
    assert out["stamp__hour"].iloc[1] == 7.0
    assert "day" not in out.columns


def test_input_frame_is_not_modified(mixed):
    before = mixed.copy()
    ColumnTyper().fit(mixed).transform(mixed)
    pd.testing.assert_frame_equal(mixed, before)


def test_id_rules_keep_measurements():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "PassengerId": rng.permutation(N) + 1000,  # named like an ID
        "year": np.arange(1900, 1900 + N) * 2,  # increasing, but step 2: kept
        "weight": rng.normal(70, 10, size=N),  # unique floats: kept
        "code": pd.Series([f"c{i}" for i in range(N)], dtype="str"),
    })
    typer = ColumnTyper().fit(frame)
    assert set(typer.dropped_) == {"PassengerId", "code"}
    small = ColumnTyper().fit(frame.iloc[:20])  # too few rows to call anything ID-like
    assert small.dropped_ == {}


def test_unseen_category_becomes_missing(caplog):
    train = pd.DataFrame({"c": ["a", "b", "a", "b"], "x": [1.0, 2.0, 3.0, 4.0]})
    typer = ColumnTyper().fit(train)
    with caplog.at_level(logging.INFO, logger="kiss_automl.columns"):
        out = typer.transform(pd.DataFrame({"c": ["a", "z", None], "x": [1.0, 2.0, 3.0]}))
    assert out["c"].tolist()[0] == "a" and out["c"].isna().tolist() == [False, True, True]
    assert list(out["c"].cat.categories) == ["a", "b"]
    assert "'c': 1 value(s) unseen" in caplog.text


def test_text_in_a_numeric_column_becomes_missing_with_a_note(caplog):
    typer = ColumnTyper().fit(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]}))
    with caplog.at_level(logging.INFO, logger="kiss_automl.columns"):
        out = typer.transform(pd.DataFrame({"x": ["1.5", "hello", None, " "], "c": ["a"] * 4}))
    assert out["x"].tolist()[0] == 1.5 and out["x"].isna().tolist() == [False, True, True, True]
    assert "'x': 1 value(s) that are not numbers read as missing" in caplog.text


def test_max_categories_keeps_most_frequent():
    values = ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"]
    typer = ColumnTyper(max_categories=2).fit(pd.DataFrame({"c": values}))
    assert typer.categories_["c"] == ["a", "b"]
    assert any("kept the 2 most frequent" in note for note in typer.notes_)
    assert typer.transform(pd.DataFrame({"c": ["c"]}))["c"].isna().all()


def test_missing_column_names_it():
    typer = ColumnTyper().fit(pd.DataFrame({"age": [1, 2, 3], "size": [3.0, 1.0, 2.0]}))
    with pytest.raises(DataError, match="The column 'age' is missing from the data; "
                                        "the model was trained on: age, size"):
        typer.transform(pd.DataFrame({"size": [1.0]}))


def test_extra_and_dropped_columns_are_not_required(caplog):
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "const": [1, 1, 1]})
    typer = ColumnTyper().fit(train)
    with caplog.at_level(logging.INFO, logger="kiss_automl.columns"):
        out = typer.transform(pd.DataFrame({"extra": ["a"], "x": [5.0]}))
    assert list(out.columns) == ["x"] and out["x"].tolist() == [5.0]
    assert "extra" in caplog.text


def test_numpy_input():
    X = np.array([[1.0, "a"], [2.0, "b"], [3.0, "a"]], dtype=object)
    typer = ColumnTyper().fit(X)
    assert list(typer.feature_names_in_) == ["x0", "x1"] and typer.n_features_in_ == 2
    assert typer.kinds_ == {"x0": "numeric", "x1": "categorical"}
    out = typer.transform(X)
    assert out["x0"].dtype == np.float64 and out["x1"].dtype == "category"
    with pytest.raises(DataError, match="has 1 columns; the model was trained on 2"):
        typer.transform(np.ones((2, 1)))
    # A float array and integer column names work too.
    assert ColumnTyper().fit(pd.DataFrame(np.eye(3))).kinds_ == dict.fromkeys("012", "numeric")


def test_transform_keeps_index_and_handles_no_rows():
    frame = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}, index=[10, 20])
    typer = ColumnTyper().fit(frame)
    assert list(typer.transform(frame).index) == [10, 20]
    empty = typer.transform(frame.iloc[:0])
    assert empty.shape == (0, 2) and empty["c"].dtype == "category"


def test_errors_on_unusable_input():
    with pytest.raises(DataError, match="no rows"):
        ColumnTyper().fit(pd.DataFrame({"x": []}))
    with pytest.raises(DataError, match="No usable feature column"):
        ColumnTyper().fit(pd.DataFrame({"x": [1, 1], "y": [np.nan, np.nan]}))
    with pytest.raises(DataError, match="duplicate column names"):
        ColumnTyper().fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_clone_and_params():
    typer = ColumnTyper(id_like_threshold=0.9, max_categories=5)
    copy = clone(typer)
    assert copy.get_params() == {"id_like_threshold": 0.9, "max_categories": 5, "text_columns": "auto"}
    assert not hasattr(copy, "kinds_")


def test_skops_and_pickle_round_trip(mixed):
    typer = ColumnTyper().fit(mixed)
    expected = typer.transform(mixed)
    data = sio.dumps(typer)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    pd.testing.assert_frame_equal(loaded.transform(mixed), expected)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(typer)).transform(mixed), expected)


def test_codes_read_as_float_match_integer_categories():
    # A mixed code column at fit; at predict time pandas may read the codes as floats.
    typer = ColumnTyper().fit(pd.DataFrame({"code": ["1", "2", "A", None]}))
    out = typer.transform(pd.DataFrame({"code": [2.0, np.nan, 1.0]}))
    assert out["code"].astype(object).tolist()[::2] == ["2", "1"]


def test_a_numeric_column_with_a_few_words_stays_numeric(caplog):
    age = np.round(np.random.default_rng(0).normal(40, 10, 200), 2).astype(object)
    age[[3, 50, 99]] = "unknown"
    with caplog.at_level(logging.INFO, logger="kiss_automl.columns"):
        typer = ColumnTyper()
        out = typer.fit_transform(pd.DataFrame({"age": age, "c": ["a", "b"] * 100}))
    assert typer.kinds_["age"] == "numeric" and int(out["age"].isna().sum()) == 3
    assert "3 value(s) that are not numbers read as missing" in caplog.text
    assert "unseen" not in caplog.text  # fitting rows are not 'unseen'


def test_numbers_as_spreadsheets_write_them_are_numbers():
    frame = pd.DataFrame({"income": ["65,796.74", "1,200.5", "300"] * 20, "price": ["$6,580", "$12", "-$3"] * 20,
                          "pct": ["63.0%", "5%", "100%"] * 20, "code": ["1,5", "2,5", "3,5"] * 20})
    typer = ColumnTyper().fit(frame)
    out = typer.transform(frame.head(3))
    assert out["income"].tolist() == [65796.74, 1200.5, 300.0]
    assert out["price"].tolist() == [6580.0, 12.0, -3.0] and out["pct"].tolist() == [63.0, 5.0, 100.0]
    assert typer.kinds_["code"] == "categorical"  # a decimal comma is not a thousands separator


def test_a_column_named_like_a_date_part_is_a_clear_error():
    frame = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=60).astype(str), "d__year": [2020, 2021] * 30})
    with pytest.raises(DataError, match="'d__year'.*date part"):
        ColumnTyper().fit(frame)


def test_dates_and_booleans_in_another_format_at_predict_time_are_noted(caplog):
    frame = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=60).strftime("%Y-%m-%d"),
                          "b": [True, False] * 30, "x": np.arange(60.0) % 7})
    typer = ColumnTyper().fit(frame)
    with caplog.at_level(logging.INFO, logger="kiss_automl.columns"):
        out = typer.transform(pd.DataFrame({"d": ["03.01.2021", "2021-01-03"], "b": ["maybe", "True"], "x": [1.0, 2.0]}))
    assert out["d__year"].isna().tolist() == [True, False] and out["b"].isna().tolist() == [True, False]
    assert "'d': 1 value(s) that are not dates in the fit's format" in caplog.text
    assert "'b': 1 value(s) that are not true/false values" in caplog.text


def test_a_share_tested_per_distinct_value_equals_the_share_over_every_value():
    from kiss_automl.columns import _share
    from kiss_automl.data import parse_numbers

    sample = pd.Series(["1,200", "x", "3.5", "x", "$4", "1,200", "", "7%"] * 50)
    per_value = parse_numbers(sample).notna().mean()
    assert _share(sample, lambda values: parse_numbers(values).notna()) == per_value == 0.625
    as_string = sample.astype("string")
    assert _share(as_string, lambda values: parse_numbers(values).notna()) == per_value
    assert math.isnan(_share(sample.iloc[:0], lambda values: parse_numbers(values).notna()))
