"""`kiss-automl estimate`: the forecast's arithmetic, the quick CSV scan, and the verb end to end.

No model is trained here: the forecast is pure arithmetic, the verb reads files only.
"""

import gzip
import json
import re
import subprocess
import sys

import pytest

from kiss_automl import config as config_module
from kiss_automl.cli import main
from kiss_automl.estimating import command, forecast as fc, scan

from .conftest import DATASETS
from .test_cli import BAD_FITS, MALFORMED

DEFAULT = config_module.load("default")
FAMILIES = DEFAULT.families


def _data(rows=1000, columns=10, width=20, n_classes=2):
    return fc.Data(rows, columns, width, n_classes, rows * columns, rows * columns // 2)


def _forecast(data=None, families=FAMILIES, g_per_j=475 / 3.6e6, **settings):
    return fc.forecast(data or _data(), DEFAULT.replace(**settings), families, watts_per_core=4.0, g_per_j=g_per_j)


def _total(f, scenario="central"):
    return f.joules(f.scenarios[scenario].total_cpu_s)


# ---------------------------------------------------------------------------------- forecast

@pytest.mark.parametrize("n_classes", [0, 2, 5])
@pytest.mark.parametrize("scenario", fc.SCENARIOS)
def test_more_rows_cost_more(n_classes, scenario):
    # Within each plan (5-fold CV, 3-fold CV, holdout); across plans the folds change too
    # (5 fits of 400 rows can cost what 3 fits of 2,000 do), so only large gaps are compared.
    for sizes in ((300, 900, 1900), (2000, 5000, 9999), (10000, 40000, 200000)):
        totals = [_total(_forecast(_data(rows, n_classes=n_classes)), scenario) for rows in sizes]
        assert totals == sorted(totals) and totals[0] < totals[-1]
    assert _total(_forecast(_data(200000, n_classes=n_classes)), scenario) > \
        3 * _total(_forecast(_data(300, n_classes=n_classes)), scenario)


def test_more_columns_and_classes_cost_more():
    assert _total(_forecast(_data(columns=40, width=80))) > _total(_forecast(_data(columns=5, width=5)))
    assert _total(_forecast(_data(n_classes=8))) > _total(_forecast(_data(n_classes=2)))


@pytest.mark.parametrize("rows", [800, 5000, 60000])
def test_low_central_high_are_ordered(rows):
    f = _forecast(_data(rows))
    for part in ("total_cpu_s", "candidates_cpu_s", "refit_cpu_s"):
        low, central, high = (getattr(f.scenarios[s], part) for s in fc.SCENARIOS)
        assert low <= central <= high, part
    assert low < high
    counts = [sum(step.count for step in f.scenarios[s].steps) for s in fc.SCENARIOS]
    assert counts == sorted(counts)


def test_the_probes_that_always_run_are_in_every_scenario():
    f = _forecast()
    low = f.scenarios["low"].steps
    assert [s.family for s in low if s.phase == "probe"][:6] == [
        "baseline", "linear", "random_forest", "extra_trees", "lightgbm", "lightgbm"]
    # With a larger always_probe, more probes always run.
    wider = _forecast(always_probe=("baseline", "linear", "random_forest", "lightgbm", "xgboost"))
    assert sum(s.count for s in wider.scenarios["low"].steps) >= 8


@pytest.mark.parametrize("trials", [1, 3, 7, 12])
def test_max_trials_caps_the_candidates(trials):
    free, capped = _forecast(_data(50000)), _forecast(_data(50000), max_trials=trials)
    for s in fc.SCENARIOS:
        n = sum(step.count for step in capped.scenarios[s].steps)
        assert n <= trials + 1e-9
        assert capped.scenarios[s].candidates_cpu_s <= free.scenarios[s].candidates_cpu_s + 1e-12
    assert capped.scenarios["high"].stop == "max_trials"
    rung0 = sum(step.count for step in free.scenarios["high"].steps if step.phase != "promoted")
    if trials < rung0:  # a budget stop skips the promotions to more rows, as the search does
        assert not [step for step in capped.scenarios["high"].steps if step.phase == "promoted"]


def test_an_energy_budget_caps_the_candidates_energy():
    budget = 1.0  # J: a few cheap candidates
    f = _forecast(energy_budget=budget)
    for s in fc.SCENARIOS:
        steps = f.scenarios[s].steps
        assert f.joules(sum(step.cpu_s for step in steps)) <= budget + f.joules(steps[0].cpu_s) + 1e-9
        assert f.scenarios[s].stop == "energy_budget"
    assert _total(f) < _total(_forecast())


def test_a_co2_budget_caps_like_an_energy_budget_at_the_carbon_intensity():
    g_per_j = 475 / 3.6e6
    by_co2 = _forecast(co2_budget=1.0 * g_per_j, g_per_j=g_per_j)
    by_energy = _forecast(energy_budget=1.0, g_per_j=g_per_j)
    assert by_co2.scenarios["central"].stop == "co2_budget"
    assert _total(by_co2) == pytest.approx(_total(by_energy))


def test_a_time_budget_caps_the_search():
    f = _forecast(_data(200000, 30, 60, 5), time_budget=5.0)
    assert f.scenarios["high"].stop == "time_budget"
    clock = fc.cal.SEARCH_WALL_PER_CPU_S  # the search's own clock: the last candidate starts before 5 s
    steps = f.scenarios["high"].steps
    assert f.scenarios["high"].candidates_cpu_s * clock < 5.0 + max(s.cpu_s / s.count for s in steps) * clock
    assert _total(f, "high") < _total(_forecast(_data(200000, 30, 60, 5)), "high")


@pytest.mark.parametrize("rows, mode, splits, rungs", [
    (1500, "cv", 5, (1200,)), (5000, "cv", 3, (3333,)), (9999, "cv", 3, (6666,)),
    (10000, "holdout", 1, (4000, 8000)), (50000, "holdout", 1, (4000, 16000, 40000)),
    (1_000_000, "holdout", 1, (4000, 16000, 64000, 256000, 990000)),
])
def test_the_plan_follows_the_search(rows, mode, splits, rungs):
    plan = fc.make_plan(rows, DEFAULT)
    assert (plan.mode, len(plan.splits), plan.rungs) == (mode, splits, rungs)
    assert sum(valid for _, valid in plan.splits) == (rows if mode == "cv" else min(rows // 5, 10000))


@pytest.mark.parametrize("rows", [20, 699, 1999, 2000, 7001, 10000, 12345, 50000, 123456])
def test_the_plan_matches_evaluation_make_plan(rows):
    import numpy as np

    from kiss_automl.evaluation import make_plan

    plan = fc.make_plan(rows, DEFAULT)
    real = make_plan(np.arange(rows) % 2, "binary", DEFAULT, seed=0)
    assert plan.mode == real.mode and plan.rungs == real.rungs
    assert sorted(plan.splits) == sorted((len(t), len(v)) for t, v in real.splits)


def test_holdout_plans_promote_and_cv_plans_do_not():
    big, small = _forecast(_data(60000)), _forecast(_data(3000))
    promoted = [s for s in big.scenarios["central"].steps if s.phase == "promoted"]
    assert promoted and sum(s.count for s in promoted) == pytest.approx(DEFAULT.promote_top + DEFAULT.promote_top // 2)
    assert not [s for s in small.scenarios["central"].steps if s.phase == "promoted"]


def test_capacity_steps_follow_the_promotions_each_dearer_and_the_refit_follows_the_last(monkeypatch):
    monkeypatch.setattr(fc.cal, "GROWN_STEPS", (0.0, 1.5, 3.0))
    monkeypatch.setattr(fc.cal, "GROWN_COST", (1.0, 1.0, 1.0))
    monkeypatch.setattr(fc.cal, "GROWN_STEP_FACTOR", 2.0)
    monkeypatch.setattr(fc.cal, "GROWN_REFIT", (100.0, 100.0, 100.0))  # large: the refit must follow the steps
    f = _forecast(_data(60000))
    for name, steps in (("low", 0.0), ("central", 1.5), ("high", 3.0)):
        sc = f.scenarios[name]
        grown = [s for s in sc.steps if s.phase == "grown"]
        assert sum(s.count for s in grown) == pytest.approx(steps)
        assert {s.family for s in grown} <= set(fc.GROWING)
        phases = [s.phase for s in sc.steps]
        assert phases[len(phases) - len(grown):] == ["grown"] * len(grown)  # after the promotions
    per_step = {}
    for s in f.scenarios["high"].steps:
        if s.phase == "grown":
            per_step.setdefault(s.family, []).append(s.cpu_s / s.count)
    for costs in per_step.values():  # each step twice the one before
        assert costs == pytest.approx([costs[0] * 2 ** k for k in range(3)])
    last = sum(s.cpu_s for s in f.scenarios["high"].steps[-len(per_step):])  # the third step, all families
    assert f.scenarios["high"].refit_cpu_s == pytest.approx(100.0 * last)
    assert f.scenarios["low"].refit_cpu_s < f.scenarios["central"].refit_cpu_s
    # No step on a cross-validated plan, none without a booster, and a trial budget cuts them.
    assert not [s for s in _forecast(_data(3000)).scenarios["high"].steps if s.phase == "grown"]
    linear_only = _forecast(_data(60000), families=("baseline", "linear", "random_forest"))
    assert not [s for s in linear_only.scenarios["high"].steps if s.phase == "grown"]
    capped = _forecast(_data(60000), max_trials=1)
    assert not [s for s in capped.scenarios["high"].steps if s.phase == "grown"]


def test_a_lone_promotion_goes_on_as_often_as_rows_paid(monkeypatch):
    monkeypatch.setattr(fc.cal, "LONE_PAID", 0.5)
    rows = 400000  # rungs 4k, 16k, 64k, 256k, all: halving leaves one configuration after rung 2
    plan = fc.make_plan(rows, DEFAULT)
    assert len(plan.rungs) == 5
    f = _forecast(_data(rows))

    def promoted(name):
        return sum(s.count for s in f.scenarios[name].steps if s.phase == "promoted")

    halving = DEFAULT.promote_top + DEFAULT.promote_top // 2
    assert promoted("low") == pytest.approx(halving)  # it never pays
    assert promoted("central") == pytest.approx(halving + 0.5 + 0.25)  # each step as often as one paid
    assert promoted("high") == pytest.approx(halving + 2)  # always


def test_too_few_rows_for_the_folds_is_fits_error():
    with pytest.raises(Exception, match="3 rows are too few for 5-fold cross-validation; need at least 10"):
        fc.make_plan(3, DEFAULT)


def test_per_family_figures_sum_to_the_total(tmp_path):
    f = _forecast(_data(30000))
    report = command.to_dict(f, scan.scan(DATASETS / "car.csv", "class"), DEFAULT,
                             _args(DATASETS / "car.csv", "class"), _world(), {}, 0.1)
    for s in fc.SCENARIOS:
        for unit in ("energy_j", "co2_g", "time_s"):
            parts = sum(fam[unit][s] for fam in report["families"]) + report["refit"][unit][s] + \
                report["fixed"][unit][s]
            assert parts == pytest.approx(report["total"][unit][s]), (s, unit)
        assert sum(fam["candidates"][s] for fam in report["families"]) == pytest.approx(report["total"]["candidates"][s])
    assert report["total"]["energy_kwh"]["central"] == pytest.approx(report["total"]["energy_j"]["central"] / 3.6e6)


def test_co2_is_joules_times_intensity_times_pue():
    f = _forecast(g_per_j=300 * 1.4 / 3.6e6)
    report = command.to_dict(f, scan.scan(DATASETS / "car.csv", "class"), DEFAULT,
                             _args(DATASETS / "car.csv", "class"), _world(), {}, 0.1)
    t = report["total"]
    assert t["co2_g"]["central"] == pytest.approx(t["energy_j"]["central"] * 300 * 1.4 / 3.6e6)


def test_a_missing_family_is_not_forecast():
    f = _forecast(families=tuple(x for x in FAMILIES if x != "xgboost"))
    assert "xgboost" not in f.families
    assert not [s for sc in f.scenarios.values() for s in sc.steps if s.family == "xgboost"]


def _world():
    from kiss_automl.energy import carbon_intensity

    return carbon_intensity()


def _args(csv, target, **more):
    import argparse

    return argparse.Namespace(csv=str(csv), target=target, seed=0, **more)


# -------------------------------------------------------------- copies kept equal to the originals

def test_the_start_configurations_are_the_families_own():
    from kiss_automl.families import REGISTRY
    from kiss_automl.rung_steps import MAX_PROMOTED_ROUNDS

    for name, family in REGISTRY.items():
        for task in ("binary", "regression"):
            assert [dict(c) for c in family.start_configs(task)] == [dict(c) for c in fc.starts(name, task)], name
    assert fc.PROBED_FIRST == tuple(n for n, f in REGISTRY.items() if f.probe_first)
    assert fc.TUNABLE == tuple(n for n, f in REGISTRY.items() if f.space("binary"))
    assert fc.EARLY_STOPPING == tuple(n for n, f in REGISTRY.items() if f.early_stopping is not None)
    assert fc.REQUIRES == {n: f.requires[0] for n, f in REGISTRY.items() if f.requires}
    assert fc.MAX_PROMOTED_ROUNDS == MAX_PROMOTED_ROUNDS
    from kiss_automl.rung_steps import MAX_GROWTH_STEPS

    assert fc.MAX_GROWTH_STEPS == MAX_GROWTH_STEPS
    assert fc.GROWING == tuple(n for n, f in REGISTRY.items() if f.grow is not None)
    from kiss_automl.isolation import AUTO_MIN_CELLS

    assert fc.ISOLATION_MIN_CELLS == AUTO_MIN_CELLS


@pytest.mark.parametrize("preset", ["default", "fast", "thorough"])
def test_presets_load_as_config_loads_them(preset):
    # estimate does not read default.yaml: it must hold SearchConfig's own defaults.
    assert command.load_config(preset) == config_module.load(preset)


def test_the_scan_constants_are_data_and_columns_own():
    import pandas._libs.parsers as parsers

    from kiss_automl import columns, data, metrics, preprocess

    assert scan.MISSING == set(data.MISSING_TOKENS) | set(parsers.STR_NA_VALUES)
    assert scan._ID_NAME.pattern == columns._ID_NAME.pattern
    assert scan._FORMATTED_NUMBER.pattern == data._FORMATTED_NUMBER
    assert scan._DECIMAL_COMMA.pattern == data._DECIMAL_COMMA.pattern
    assert scan.MAX_CODED_CLASSES == data.MAX_CODED_CLASSES
    assert scan.MAX_ONEHOT_CATEGORIES == preprocess.MAX_ONEHOT_CATEGORIES
    assert (scan.ID_MIN_ROWS, scan.NUMBER_MIN_SHARE, scan.DATE_MIN_SHARE) == (
        columns.ID_MIN_ROWS, columns.NUMBER_MIN_SHARE, columns.DATE_MIN_SHARE)
    assert command.METRIC_TASKS == {n: "regression" if m.tasks == metrics.REGRESSION else "classification"
                                    for n, m in metrics.METRICS.items()}


# ---------------------------------------------------------------------------------- the scan

@pytest.mark.parametrize("name, target", [("credit-approval.csv", "class"), ("abalone.csv", "Class_Rings"),
                                          ("car.csv", "class")])
def test_the_quick_scan_sees_what_fit_sees(name, target):
    quick, exact = scan.scan(DATASETS / name, target), scan.exact(DATASETS / name, target)
    assert quick.method == "stdlib" and exact.method == "pandas"
    assert (quick.rows, quick.task, quick.n_classes, quick.input_columns) == \
        (exact.rows, exact.task, exact.n_classes, exact.input_columns)
    assert quick.columns.kinds == exact.columns.kinds and quick.columns.dropped.keys() == exact.columns.dropped.keys()
    assert (quick.columns.columns, quick.columns.width) == (exact.columns.columns, exact.columns.width)


def test_the_quick_typing_matches_column_typer_on_messy_columns(tmp_path):
    rows = ["id,when,flag,const,empty,money,city,stamp,x,y"]
    for i in range(120):
        rows.append(f"{i},2021-0{1 + i % 9}-1{i % 10},{'True' if i % 3 else 'False'},7,,\"${1000 + 37 * i:,}\","
                    f"{['Paris', 'Lyon', 'Nice'][i % 3]},2020-01-01 1{i % 10}:30:00,{i * 0.5 % 7},{'a' if i % 2 else 'b'}")
    path = tmp_path / "messy.csv"
    path.write_text("\n".join(rows) + "\n")
    quick, exact = scan.scan(path, "y"), scan.exact(path, "y")
    assert quick.method == "stdlib"
    assert quick.columns.kinds == exact.columns.kinds
    assert quick.columns.dropped.keys() == exact.columns.dropped.keys() == {"id", "const", "empty"}
    assert (quick.columns.columns, quick.columns.width) == (exact.columns.columns, exact.columns.width)


def test_gzip_and_large_files_are_counted(tmp_path, monkeypatch):
    text = (DATASETS / "abalone.csv").read_bytes()
    gz = tmp_path / "abalone.csv.gz"
    gz.write_bytes(gzip.compress(text))
    assert scan.scan(gz, "Class_Rings").rows == 4177
    monkeypatch.setattr(scan, "FULL_PARSE_BYTES", 20_000)  # the sampled path: lines counted
    monkeypatch.setattr(scan, "CHUNK_BYTES", 8_192)
    sampled = scan.scan(gz, "Class_Rings")
    assert sampled.rows == 4177 and not sampled.exact_rows and sampled.task == "regression"
    assert sampled.columns.columns == 8


def test_rows_without_a_target_are_dropped_as_fit_drops_them(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{'p' if i % 2 else 'q' if i % 5 else ''}\n"
                                        for i in range(100)))
    assert scan.scan(path, "y").rows == scan.exact(path, "y").rows == 90


def test_unusual_files_take_fits_own_path(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,y\ncafé,1\nthé,0\nbière,1\n".encode("cp1252"))
    result = scan.scan(path, "y")
    assert result.method == "pandas" and result.task == "binary" and result.rows == 3


# --------------------------------------------------------------------------------- the verb

@pytest.mark.parametrize("name, target, task", [("credit-approval.csv", "class", "binary"),
                                                ("abalone.csv", "Class_Rings", "regression")])
def test_the_verb_prints_json_with_every_family(name, target, task, capsys):
    assert main(["estimate", str(DATASETS / name), "--target", target, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == task and report["rows"] == {"credit-approval.csv": 690, "abalone.csv": 4177}[name]
    assert [f["family"] for f in report["families"]] == list(FAMILIES)
    t = report["total"]
    assert 0 < t["energy_j"]["low"] <= t["energy_j"]["central"] <= t["energy_j"]["high"]
    assert t["co2_g"]["central"] > 0 and t["time_s"]["central"] > 0
    assert report["own_cost"]["energy_j"] > 0 and report["own_cost"]["cpu_s"] > 0
    assert report["evaluation"]["mode"] == "cv" and report["read"]["method"] == "stdlib"


def test_the_table_names_families_total_and_its_own_cost(capsys):
    assert main(["estimate", str(DATASETS / "car.csv"), "--target", "class", "--country", "FRA", "--pue", "1.2"]) == 0
    out = capsys.readouterr().out
    for word in ("baseline", "lightgbm", "refit on all rows", "total: central (low-high)", "This estimate used", "FRA",
                 "PUE 1.2"):
        assert word in out
    assert re.search(r"total: central \(low-high\)\s+[\d.]+ \([\d.]+-[\d.]+\)\s+[\d.]+ \([\d.]+-[\d.]+\)", out)


def test_a_fit_command_pastes_and_what_is_not_forecast_is_said(capsys):
    fit_only = ["--out", "runs/x", "--quiet", "--resume", "--cross-check", "--trial-timeout", "2"]
    assert main(["estimate", str(DATASETS / "car.csv"), "--target", "class", *fit_only]) == 0
    out = capsys.readouterr().out
    assert "--trial-timeout 2 is not forecast" in out and "--cross-check adds" in out and "--resume replays" in out
    assert main(["estimate", str(DATASETS / "car.csv"), "--target", "class"]) == 0
    assert "Note: --" not in capsys.readouterr().out


def test_the_candidates_range_runs_from_fewest_to_most(capsys):
    assert main(["estimate", str(DATASETS / "abalone.csv"), "--target", "Class_Rings", "--energy-budget", "3J"]) == 0
    fewest, most = map(float, re.search(r"total: central \(low-high\)\s+[\d.]+ \(([\d.]+)-([\d.]+)\)",
                                       capsys.readouterr().out).groups())
    assert fewest <= most


def test_options_cap_the_estimate(capsys):
    def total(*options):
        assert main(["estimate", str(DATASETS / "abalone.csv"), "--target", "Class_Rings", "--format", "json",
                     *options]) == 0
        return json.loads(capsys.readouterr().out)["total"]

    free, three, energy = total(), total("--max-trials", "3"), total("--energy-budget", "1J")
    assert three["candidates"]["high"] <= 3 and three["stop"]["central"] == "max_trials"
    assert three["energy_j"]["high"] < free["energy_j"]["high"]
    assert energy["stop"]["central"] == "energy_budget" and energy["energy_j"]["high"] < free["energy_j"]["high"]


def test_estimate_does_not_import_model_libraries():
    code = ("import sys, io, contextlib\n"
            "from kiss_automl.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['estimate', {str(DATASETS / 'credit-approval.csv')!r}, '--target', 'class'])\n"
            "heavy = ('torch', 'lightgbm', 'xgboost', 'optuna', 'skops', 'sklearn', 'pandas', 'numpy')\n"
            "print(rc, [m for m in heavy if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "0 []"


@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_input_gets_fits_own_line_and_exit_2(case, tmp_path, capsys):
    make_path, options, _ = BAD_FITS[case]
    path = str(make_path(tmp_path))
    fit = main(["fit", path, *options, "--out", str(tmp_path / "out"), "--quiet"])
    fit_err = capsys.readouterr().err.strip().splitlines()
    code = main(["estimate", path, *options])
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert code == fit == 2 and not captured.out
    assert err[-1] == fit_err[-1] and err[-1].startswith("kiss-automl: error:")
    assert len(err) == 1 and "Traceback" not in captured.err


@pytest.mark.parametrize("options", [
    ["--max-trials", "0"], ["--country", "Atlantis"], ["--region", "CA"], ["--country", "USA", "--region", "Mars"],
    ["--pue", "0.5"], ["--n-jobs", "0"], ["--trial-timeout", "-1"], ["--memory-limit", "0"],
    ["--metric", "rmse", "--country", "Atlantis"], ["--task", "regression"], ["--task", "binary"],
    ["--config", "LIST.yaml"], ["--config", "BROKEN.yaml"],
])
def test_bad_options_get_fits_own_line(options, tmp_path, capsys):
    (tmp_path / "LIST.yaml").write_text("- tol\n- 0.1\n")
    (tmp_path / "BROKEN.yaml").write_text("tol: [0.1\n")
    options = [str(tmp_path / o) if o.endswith(".yaml") else o for o in options]
    args = [str(DATASETS / "car.csv"), "--target", "class", *options]
    fit = main(["fit", *args, "--out", str(tmp_path / "out"), "--quiet"])
    fit_err = capsys.readouterr().err.strip().splitlines()
    code = main(["estimate", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == fit == 2 and err == fit_err[-1:]


@pytest.mark.parametrize("name", sorted(p.name for p in MALFORMED.iterdir() if p.is_file()))
def test_every_malformed_file_gets_fits_own_line(name, tmp_path, capsys):
    path = str(MALFORMED / name)
    fit = main(["fit", path, "--target", "a", "--out", str(tmp_path / "out"), "--quiet"])
    fit_err = capsys.readouterr().err.strip().splitlines()
    code = main(["estimate", path, "--target", "a"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == fit == 2 and err[-1] == fit_err[-1]


@pytest.mark.parametrize("options, words", [(["--seed", "-1"], "seed must be from 0"), ([], "required: --target"),
                                            (["--target", "class", "--format", "xml"], "invalid choice")])
def test_bad_options_exit_2_with_one_line(options, words, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["estimate", str(DATASETS / "car.csv"), *options])
    err = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2 and len(err) == 1 and words in err[0]


def test_one_class_and_missing_target_in_a_subprocess(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("a,y\n1,k\n2,k\n3,k\n")
    for csv, target in ((one, "y"), (DATASETS / "car.csv", "nope"), (tmp_path / "absent.csv", "y")):
        done = subprocess.run([sys.executable, "-m", "kiss_automl", "estimate", str(csv), "--target", target],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and not done.stdout
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
