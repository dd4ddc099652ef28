"""How the boosters see categoricals: native below MAX_NATIVE_LEVELS levels, codes above (issue 16)."""

import numpy as np
import pandas as pd
import pytest

from kiss_automl import KissRegressor
from kiss_automl.columns import ColumnTyper
from kiss_automl.preprocess import MAX_NATIVE_LEVELS, NativeFrame


def _zip_table(n: int = 3000, levels: int = 400, seed: int = 0) -> pd.DataFrame:
    """A zip-code-like column of `levels` levels whose neighbouring codes have neighbouring
    effects (as zip codes, tail numbers and product codes do), beside a small categorical."""
    rng = np.random.default_rng(seed)
    code = rng.integers(0, levels, size=n)
    return pd.DataFrame({
        "zip": [f"Z{c:05d}" for c in code],
        "kind": rng.choice(["a", "b", "c"], size=n),
        "size": rng.normal(size=n),
        "price": np.sin(code / levels * 6) + 0.3 * rng.normal(size=n),
    })


def test_a_categorical_above_the_threshold_goes_to_the_boosters_as_its_codes():
    table = _zip_table()
    typer = ColumnTyper(text_columns=[])
    typed = typer.fit_transform(table.drop(columns="price"))
    prep = NativeFrame(max_levels=MAX_NATIVE_LEVELS).fit(typed)
    out = prep.transform(typed)
    zip_out, kind_out = out[f"f{list(typed.columns).index('zip')}"], out[f"f{list(typed.columns).index('kind')}"]
    assert prep.coded_ == ["zip"]
    assert zip_out.dtype == np.float32
    # The codes follow the sorted levels: Z00000 < Z00001 < ...
    assert np.array_equal(zip_out.to_numpy(), typed["zip"].cat.codes.to_numpy().astype(np.float32))
    assert isinstance(kind_out.dtype, pd.CategoricalDtype)
    # An unseen level at predict time is missing, never a made-up code.
    later = typer.transform(pd.DataFrame({"zip": ["Z99999", "Z00001"], "kind": ["a", "b"], "size": [0.0, 1.0]}))
    coded = prep.transform(later)[f"f{list(typed.columns).index('zip')}"].to_numpy()
    assert np.isnan(coded[0]) and coded[1] == list(typed["zip"].cat.categories).index("Z00001")


@pytest.mark.parametrize("levels, coded", [(MAX_NATIVE_LEVELS, False), (MAX_NATIVE_LEVELS + 1, True)])
def test_the_threshold_is_a_count_of_levels(levels, coded):
    frame = pd.DataFrame({"c": pd.Categorical([f"v{i % levels}" for i in range(200)])})
    assert NativeFrame(max_levels=MAX_NATIVE_LEVELS).fit(frame).coded_ == (["c"] if coded else [])
    assert NativeFrame().fit(frame).coded_ == []  # None: every categorical native


@pytest.mark.parametrize("cv, coded", [("holdout", ["zip"]), (3, [])])
def test_the_codes_are_used_where_early_stopping_sets_the_rounds(cv, coded, tmp_path):
    from skops import io as skops_io

    table = _zip_table()
    model = KissRegressor(config={"families": ["lightgbm"], "max_trials": 3, "ensemble": False, "cv": cv},
                          random_state=0).fit(table.drop(columns="price"), table.price)
    if coded:
        path = tmp_path / "model.skops"
        skops_io.dump(model.model_, path)
        again = skops_io.load(path, trusted=skops_io.get_untrusted_types(file=path))
        X = table.drop(columns="price").head(50)
        assert np.allclose(again.predict(X), model.model_.predict(X))
    assert model.model_.named_steps["model"].named_steps["prep"].coded_ == coded
    if coded:  # the zip carries the signal (noise 0.3 on a unit sine): through its codes it is found
        assert model.best_score_ > 0.6

