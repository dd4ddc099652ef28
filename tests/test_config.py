import pytest

from kiss_automl import config
from kiss_automl.errors import ConfigError


@pytest.mark.parametrize("name", ["default", "fast", "thorough"])
def test_presets_load_and_validate(name):
    settings = config.load(name)
    assert settings.families[0] == "baseline"
    assert settings.tol >= 0


def test_default_preset_matches_the_dataclass_defaults():
    assert config.load("default") == config.SearchConfig()


def test_yaml_file_overrides_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("families: [lightgbm, linear]\nmax_trials: 7\n")
    settings = config.load(path)
    assert settings.families == ("linear", "lightgbm")  # cost order, whatever the file's order
    assert settings.max_trials == 7


@pytest.mark.parametrize("values, words", [
    ({"tol": -1}, "'tol' must be between"),
    ({"max_trials": 0}, "'max_trials'"),
    ({"max_trials": 2.5}, "whole number"),
    ({"time_budget": -5}, "'time_budget' must be"),
    ({"families": ["catboost"]}, "Unknown model families"),
    ({"selection": "cheapest"}, "'selection' must be one of"),
    ({"cv": 1}, "'cv' must be"),
    ({"colour": "red"}, "Unknown setting(s) colour"),
    ({"patience": "two"}, "'patience' must be a number"),
    ({"ensemble": "maybe"}, "'ensemble' must be true, false or auto"),
    ({"ensemble": 1}, "'ensemble' must be true, false or auto"),
    ({"noise_aware": "yes"}, "'noise_aware' must be true or false"),
    ({"tol": None}, "'tol' must be a number, got None"),
    ({"pue": 0.9}, "'pue' must be between 1 and 5"),
    ({"folds": None}, "'folds' must be a number"),
    ({"max_trials": float("inf")}, "'max_trials' must be a whole number"),
    ({"small_data_rows": float("inf")}, "whole number"),
    ({"time_budget": float("nan")}, "'time_budget' must be a number, got nan"),
])
def test_bad_values_get_one_clear_message(values, words):
    with pytest.raises(ConfigError) as info:
        config.load(values)
    assert words in str(info.value)


def test_unknown_preset_or_file(tmp_path):
    with pytest.raises(ConfigError, match="neither a preset"):
        config.load("no-such-preset")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        config.load(bad)


def test_an_infinite_budget_or_timeout_means_no_limit():
    settings = config.load({"time_budget": float("inf"), "trial_timeout": float("inf"), "max_trials": None})
    assert settings.time_budget is None and settings.trial_timeout is None and settings.max_trials is None


def test_replace_ignores_none_and_validates():
    settings = config.SearchConfig().replace(max_trials=None, time_budget=30)
    assert settings.time_budget == 30 and settings.max_trials == config.SearchConfig().max_trials
    with pytest.raises(ConfigError):
        config.SearchConfig().replace(n_jobs=0)


@pytest.mark.parametrize("value", [True, False, "auto"])
def test_ensemble_takes_true_false_or_auto(value):
    assert config.load({"ensemble": value}).ensemble == value
