"""The search loop, measured by a fake meter (the decisions read the cost model, exact either way)."""

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from kiss_automl import config, engine
from kiss_automl.families import REGISTRY, Family
from kiss_automl.families.boosted import LGBM_STARTS

from .conftest import TINY, FakeMeter


def _encoded(y):
    classes, codes = np.unique(y.astype(str), return_inverse=True)
    return codes.astype(np.int64)


def _run(X, y, task="binary", meter=None, **settings):
    cfg = config.load({**TINY, **settings})
    return engine.run(X, y, task, cfg, seed=0, meter=meter or FakeMeter())


def test_families_are_probed_in_cost_order_with_low_cost_starts_first(credit):
    X, y = credit
    outcome = _run(X, _encoded(y))
    families = [c.family for c in outcome.result.candidates]
    assert families == ["baseline", "linear", "lightgbm", "lightgbm"]
    first_lgbm = outcome.result.candidates[2]
    assert first_lgbm.params == LGBM_STARTS[0]
    assert outcome.result.stop_reason == "max_trials"


def test_every_candidate_is_a_leaderboard_row_with_the_contract_columns(credit):
    X, y = credit
    board = _run(X, _encoded(y)).leaderboard
    for column in ["rank", "family", "rung", "params", "score", "score_std", "fit_energy_j",
                   "predict_energy_j_per_1k", "co2_g", "fit_time_s", "n_rows", "status", "error"]:
        assert column in board.columns
    assert len(board) == 4
    assert board["rank"].tolist() == [1, 2, 3, 4]
    assert board["score"].is_monotonic_decreasing
    # Two folds, each with a fit and a predict block of 1 J.
    assert (board["fit_energy_j"] == 2.0).all()
    assert board["selected"].sum() == 1 and bool(board.loc[0, "selected"])


def test_plateau_stops_the_search_before_the_trial_budget(credit):
    X, y = credit
    outcome = _run(X, _encoded(y), tol=0.5, max_trials=50)
    assert outcome.result.stop_reason == "plateau"
    assert len(outcome.result.candidates) < 50


def test_always_probe_holds_the_plateau_until_those_families_ran(credit):
    X, y = credit
    outcome = _run(X, _encoded(y), tol=0.5, max_trials=50, always_probe=["lightgbm"])
    families = [c.family for c in outcome.result.candidates]
    assert families.count("lightgbm") >= len(LGBM_STARTS)


def test_energy_budget_stops_the_search(credit):
    X, y = credit
    outcome = _run(X, _encoded(y), max_trials=50, energy_budget=10.0)
    assert outcome.result.stop_reason == "energy_budget"
    spent = sum(c.evaluation.joules for c in outcome.result.candidates)
    assert 10.0 <= spent < 10.0 + 4.0  # stops at the first check past the budget
    assert outcome.result.stop_detail == {"limit": 10.0, "used": spent}


def test_the_stop_detail_says_which_budget_and_how_much_was_used(credit):
    X, y = credit
    assert _run(X, _encoded(y)).result.stop_detail == {"limit": 4, "used": 4}  # TINY's max_trials
    early = _run(X, _encoded(y), max_trials=50, energy_budget=0.05, meter=FakeMeter(1e-6)).result.stop_detail
    assert early["limit"] == 0.05 and early["next_family"] == "linear"
    assert early["used"] + early["next_candidate_estimate_j"] > 0.05


def test_a_candidate_whose_estimated_energy_would_overrun_the_budget_is_not_started(credit):
    X, y = credit
    # Metered blocks cost ~nothing here, so only the estimate (linear: ~0.1 J) can stop it.
    outcome = _run(X, _encoded(y), max_trials=50, energy_budget=0.05, meter=FakeMeter(1e-6))
    assert outcome.result.stop_reason == "energy_budget"
    assert [c.family for c in outcome.result.candidates] == ["baseline"]


def test_a_metric_undefined_on_a_split_makes_failed_rows_not_nan_scores():
    from kiss_automl.errors import KissError

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    y = np.array([1] * 4 + [0] * 96)  # 4 positives, 5 folds: some folds have none
    with pytest.raises(KissError, match="roc_auc is undefined on a validation split"):
        _run(X, y, metric="roc_auc", cv=5, max_trials=4)


def test_a_failing_family_becomes_failed_rows_and_the_search_goes_on(credit, monkeypatch):
    def broken(params, context):
        raise RuntimeError("this family is broken")

    monkeypatch.setitem(REGISTRY, "linear", Family(name="linear", group="linear", preprocessing="onehot",
                                                   build=broken))
    X, y = credit
    outcome = _run(X, _encoded(y))
    board = outcome.leaderboard
    failed = board[board["status"] == "failed"]
    assert len(failed) == 1 and "this family is broken" in failed["error"].iloc[0]
    assert failed["rank"].isna().all()
    assert outcome.result.selected.family in ("baseline", "lightgbm")


def test_same_seed_and_trial_budget_give_the_same_leaderboard(credit):
    X, y = credit
    columns = ["family", "params", "score"]
    first = _run(X, _encoded(y), max_trials=8).leaderboard[columns]
    second = _run(X, _encoded(y), max_trials=8).leaderboard[columns]
    assert first.equals(second)


def test_holdout_mode_promotes_the_best_to_more_rows(abalone):
    X, y = abalone
    outcome = _run(X, y.to_numpy(float), task="regression", cv="holdout", min_rung_rows=300, rung_factor=3,
                   max_trials=12, promote_top=3, promote_eta=3, tol=0.0)
    plan = outcome.result.plan
    assert plan.mode == "holdout" and plan.rungs[0] == 300 and plan.rungs[-1] == plan.n_train
    assert outcome.result.stop_reason in ("max_trials", "search_exhausted")
    promoted = [c for c in outcome.result.candidates if c.phase == "promoted"]
    if outcome.result.stop_reason != "max_trials":
        assert promoted and {c.rung for c in promoted} == {1}
    for c in promoted:
        if c.family == "lightgbm":  # more rows, a higher cap on boosting rounds (early stopping decides)
            growth = plan.rungs[1] / plan.rungs[0]
            originals = {c0.search_params["n_estimators"] for c0 in outcome.result.candidates
                         if c0.rung == 0 and c0.family == "lightgbm"}
            assert c.search_params["n_estimators"] in {int(n * growth) for n in originals}
    # The selected candidate comes from the highest rung that was evaluated.
    top = max(c.rung for c in outcome.result.candidates if c.ok)
    assert outcome.result.selected.rung == top


def test_boosting_rounds_come_from_early_stopping_in_holdout_mode(abalone):
    X, y = abalone
    outcome = _run(X, y.to_numpy(float), task="regression", cv="holdout", min_rung_rows=10000, max_trials=4,
                   early_stopping_rounds=5, families=["lightgbm"])
    for candidate in outcome.result.candidates:
        assert candidate.evaluation.rounds_used
        assert candidate.params["n_estimators"] <= candidate.search_params["n_estimators"]


def test_simplest_selection_takes_the_cheapest_predictor_within_one_standard_error(credit):
    X, y = credit
    best = _run(X, _encoded(y), max_trials=6, selection="best").result
    simplest = _run(X, _encoded(y), max_trials=6, selection="simplest").result
    within = [c for c in simplest.candidates if c.ok and c.signed >= best.selected.signed - best.selected.score_std]
    assert simplest.selected in within
    assert simplest.selected.evaluation.predict_joules <= best.selected.evaluation.predict_joules


def test_every_candidate_failing_is_an_error(credit, monkeypatch):
    from kiss_automl.errors import KissError

    def broken(params, context):
        raise RuntimeError("nope")

    for name in ("baseline", "linear", "lightgbm"):
        monkeypatch.setitem(REGISTRY, name, Family(name=name, group="x", preprocessing="ordinal", build=broken))
    X, y = credit
    with pytest.raises(KissError, match="Every candidate failed"):
        _run(X, _encoded(y))


def test_parallel_folds_give_the_same_scores_and_all_the_energy(credit):
    X, y = credit
    serial = _run(X, _encoded(y), max_trials=4)
    meter = FakeMeter(joules_per_block=10.0)
    parallel = _run(X, _encoded(y), max_trials=4, n_jobs=2, meter=meter)
    assert serial.leaderboard["score"].tolist() == parallel.leaderboard["score"].tolist()
    # One batch reading per candidate (10 J), split between its folds' fits and predicts.
    spent = sum(c.evaluation.joules for c in parallel.result.candidates)
    assert spent == pytest.approx(10.0 * 4)


def test_cross_validated_candidates_are_blended_by_default(abalone):
    from kiss_automl.ensemble import WeightedEnsemble

    X, y = abalone
    outcome = _run(X, y.to_numpy(float), task="regression", max_trials=4)  # ensemble: auto, 2-fold CV
    board = outcome.leaderboard
    row = board[board["family"] == "ensemble"]
    assert len(row) == 1 and bool(row["selected"].iloc[0])
    members = json.loads(row["params"].iloc[0])["members"]
    assert len(members) >= 2 and set(members) <= set(board["trial"])
    blend = outcome.result.selected
    # Scored as every candidate is: the mean over the folds, and at least the best single one.
    assert blend.score == pytest.approx(np.mean(blend.evaluation.scores)) and len(blend.evaluation.scores) == 2
    assert blend.score >= max(c.score for c in outcome.result.candidates if c.family != "ensemble")
    model = outcome.model.named_steps["model"]
    assert isinstance(model, WeightedEnsemble) and len(model.members) == len(members)
    assert np.isfinite(outcome.model.predict(X.head(10))).all()


def test_a_holdout_search_is_blended_only_when_asked(abalone):
    X, y = abalone
    families = {setting: {c.family for c in _run(X, y.to_numpy(float), task="regression", max_trials=4,
                                                  cv="holdout", ensemble=setting).result.candidates}
                for setting in ("auto", True)}
    assert "ensemble" not in families["auto"] and "ensemble" in families[True]


@pytest.mark.parametrize("margin, kept", [(-0.01, False), (0.0, True)])
def test_a_blend_is_kept_only_when_it_scores_at_least_the_best(abalone, monkeypatch, margin, kept):
    from kiss_automl import ensemble

    X, y = abalone
    best_score = _run(X, y.to_numpy(float), task="regression", max_trials=4, ensemble=False).result.selected.score
    monkeypatch.setattr(ensemble, "fold_scores", lambda *args: [best_score + margin] * 2)
    outcome = _run(X, y.to_numpy(float), task="regression", max_trials=4)
    assert (outcome.result.selected.family == "ensemble") is kept


def test_only_families_that_may_use_a_gpu_are_charged_the_gpu_meter(credit, monkeypatch):
    from kiss_automl.families.mlp import MLP

    X, y = credit
    cpu, gpu = FakeMeter(1.0), FakeMeter(100.0)
    cfg = config.load({**TINY, "families": ["baseline", "mlp"], "max_trials": 2})
    outcome = engine.run(X, _encoded(y), "binary", cfg, seed=0, meter=cpu, gpu_meter=gpu)
    energy = {c.family: c.evaluation.fit_joules for c in outcome.result.candidates}
    assert MLP.uses_gpu and energy["mlp"] == 200.0 and energy["baseline"] == 2.0


def test_a_family_whose_library_is_broken_is_skipped_with_a_warning(credit, monkeypatch, tmp_path, caplog):
    (tmp_path / "broken_boosting_lib.py").write_text("raise OSError('libgomp.so.1: cannot open shared object')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # The CLI's tests leave the package logger quiet and unpropagated: hear it here.
    monkeypatch.setattr(logging.getLogger("kiss_automl"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="kiss_automl")
    monkeypatch.setitem(REGISTRY, "xgboost", Family(name="xgboost", group="boosted", preprocessing="native",
                                                    build=lambda params, context: None,
                                                    requires=("broken_boosting_lib",),
                                                    imports=("broken_boosting_lib",)))
    X, y = credit
    outcome = _run(X, _encoded(y), families=["baseline", "linear", "xgboost"])
    assert "libgomp.so.1" in outcome.result.skipped_families["xgboost"]
    assert "Skipping the xgboost family" in caplog.text
    assert set(outcome.leaderboard["family"]) == {"baseline", "linear"}


def test_cross_validation_trains_on_every_row_of_each_fold(credit, monkeypatch):
    from sklearn.dummy import DummyClassifier

    seen = []

    class Recorder(DummyClassifier):
        def fit(self, X, y, sample_weight=None):
            seen.append(len(X))
            return super().fit(X, y)

    monkeypatch.setitem(REGISTRY, "baseline", Family(name="baseline", group="baseline", preprocessing="onehot",
                                                     build=lambda params, context: Recorder()))
    X, y = credit
    outcome = _run(X, _encoded(y), families=["baseline"], max_trials=1, small_data_folds=7)
    plan = outcome.result.plan
    # 690 rows in 7 folds: training sizes 591 and 592, all used (not cut to the smallest).
    assert sorted(seen[:7]) == sorted(len(train) for train, _ in plan.splits)
    assert len({len(train) for train, _ in plan.splits}) == 2


def test_accuracy_is_the_share_of_matching_labels():
    from sklearn.metrics import accuracy_score

    from kiss_automl.metrics import get_metric

    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 3, 101), rng.integers(0, 3, 101)
    accuracy = get_metric("accuracy", "multiclass")
    assert accuracy.score(y, pred, None) == accuracy_score(y, pred)
    with pytest.raises(ValueError):
        accuracy.score(y, pred[:-1], None)


def test_a_capacity_step_doubles_the_trees_and_halves_the_rate_until_the_rate_floor():
    from kiss_automl.families.boosted import MIN_GROWN_LEARNING_RATE, grow_lightgbm, grow_xgboost

    lgbm = {**LGBM_STARTS[1], "n_estimators": 250}
    grown = grow_lightgbm(lgbm)
    assert grown["num_leaves"] == 62 and grown["learning_rate"] == 0.05 and grown["n_estimators"] == 1000
    assert grown["min_child_samples"] == lgbm["min_child_samples"]
    xgb = grow_xgboost({"n_estimators": 100, "learning_rate": 0.1, "max_depth": 6})
    assert xgb["max_depth"] == 7 and xgb["learning_rate"] == 0.05
    assert grow_lightgbm({**lgbm, "learning_rate": 1.5 * MIN_GROWN_LEARNING_RATE}) is None


def _steep(n=8000, seed=0):
    """A target whose interactions need many rows and big trees: its learning curve is steep."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    y = (np.sin(4 * X.x0 * X.x1) + np.cos(3 * X.x2 * X.x3) + X.x4 * X.x5 * 2
         + 0.1 * rng.normal(size=n)).to_numpy()
    return X, y


def test_where_rows_still_pay_the_best_booster_grows_each_step_kept_only_while_it_pays():
    X, y = _steep()
    settings = dict(task="regression", cv="holdout", families=["lightgbm"], min_rung_rows=800, rung_factor=4,
                    max_trials=40, family_patience=2, promote_top=2, tol=0.002, noise_aware=True)
    outcome = _run(X, y, **settings)
    candidates = outcome.result.candidates
    grown = [c for c in candidates if c.phase == "grown"]
    top = len(outcome.result.plan.rungs) - 1
    assert grown and {c.rung for c in grown} == {top}
    # Each step grows from the one before: twice the leaves, half the rate.
    chain = [max((c for c in candidates if c.rung == top and c.phase == "promoted"), key=lambda c: c.signed)]
    chain += grown
    for before, after in zip(chain, chain[1:]):
        assert after.search_params["num_leaves"] == min(1024, 2 * before.params["num_leaves"])
        assert after.search_params["learning_rate"] == before.params["learning_rate"] / 2
    # A step is grown from only when it paid more than the tolerance (per doubling of energy).
    for before, after in list(zip(chain, chain[1:]))[:-1]:
        assert after.signed > before.signed + 0.002
    assert outcome.result.selected.signed == max(c.signed for c in candidates if c.rung == top and c.ok)


def test_where_the_learning_curve_is_flat_nothing_grows():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(6000, 4)), columns=list("abcd"))
    y = (2 * X.a + rng.normal(scale=0.1, size=6000)).to_numpy()  # a line: 800 rows already tell it all
    outcome = _run(X, y, task="regression", cv="holdout", families=["lightgbm"], min_rung_rows=800,
                   rung_factor=4, max_trials=40, family_patience=2, promote_top=2, tol=0.002, noise_aware=True)
    assert any(c.phase == "promoted" for c in outcome.result.candidates)
    assert not any(c.phase == "grown" for c in outcome.result.candidates)


def test_a_configuration_more_than_three_standard_errors_behind_its_rungs_leader_is_not_promoted():
    from types import SimpleNamespace

    from kiss_automl.rung_steps import PROMOTION_REACH_SE, RungSteps

    def candidate(trial, signed, se):
        return SimpleNamespace(trial=trial, signed=signed, standard_error=se)

    search = SimpleNamespace(config=config.SearchConfig(tol=0.002))
    leader, close, far = candidate(3, 0.84, 0.002), candidate(7, 0.835, 0.004), candidate(5, 0.83, 0.002)
    assert PROMOTION_REACH_SE == 3.0
    # Reach: 3 x the leader's 0.002 = 0.006; 0.005 behind goes on, 0.010 behind does not.
    assert [c.trial for c in RungSteps._within_reach(search, [leader, close, far])] == [3, 7]
    # A leader without a measured spread reaches back `tol`, as the noise-aware tolerance does.
    exact = candidate(1, 0.84, 0.0)
    assert [c.trial for c in RungSteps._within_reach(search, [exact, candidate(2, 0.8385, 0.0),
                                                            candidate(4, 0.837, 0.0)])] == [1, 2]
    assert RungSteps._within_reach(search, []) == []


def test_on_a_real_search_only_the_configurations_within_reach_of_the_leader_go_up():
    from kiss_automl.rung_steps import PROMOTION_REACH_SE, distinct_configs

    X, y = _steep()
    tol = 0.01
    outcome = _run(X, y, task="regression", cv="holdout", families=["baseline", "linear", "lightgbm"],
                   min_rung_rows=800, rung_factor=4, max_trials=None, family_patience=1, promote_top=4, tol=tol,
                   noise_aware=True, always_probe=["baseline", "linear", "lightgbm"])
    candidates = outcome.result.candidates

    def config_of(c):  # the rounds' cap grows with the rows: the rest is the configuration
        return c.family, {k: v for k, v in c.search_params.items() if k != "n_estimators"}

    rung0 = sorted((c for c in candidates if c.rung == 0 and c.ok), key=lambda c: (-c.signed, c.trial))
    leader, best4 = rung0[0], distinct_configs(rung0, 4)
    reach = max(tol, PROMOTION_REACH_SE * leader.standard_error)
    assert any(leader.signed - c.signed > reach for c in best4)  # without the rule all 4 would go up
    promoted = [c for c in candidates if c.rung == 1 and c.phase == "promoted"]
    assert [config_of(c) for c in promoted] == [config_of(c) for c in best4 if leader.signed - c.signed <= reach]


def test_a_promotion_expected_past_the_trial_timeout_is_not_started_and_a_note_says_so(monkeypatch):
    """On 1M rows a 256k-row XGBoost ran into the 300 s trial timeout: 1,200 J and no model.
    Here a candidate's seconds are read as 100 s x 4 per rung: with a 1,000 s timeout the
    promotion to rung 1 (400 s expected) runs, the one to rung 2 (1,600 s) does not."""
    from kiss_automl import rung_steps

    X, y = _steep()
    settings = dict(task="regression", cv="holdout", families=["lightgbm"], min_rung_rows=800, rung_factor=4,
                    max_trials=40, family_patience=2, promote_top=2, tol=0.002, noise_aware=True)
    free = _run(X, y, **settings).result
    assert max(c.rung for c in free.candidates if c.ok) >= 2 and not free.notes  # unhurried, it goes up

    monkeypatch.setattr(rung_steps, "_seconds", lambda candidate: 100.0 * 4 ** candidate.rung)
    outcome = _run(X, y, **settings, trial_timeout=1000.0)
    held = outcome.result
    assert max(c.rung for c in held.candidates if c.ok) == 1
    assert not any(c.evaluation.status == "timeout" for c in held.candidates)
    assert held.notes and all("was not promoted to" in n and "1600 s expected" in n and "trial_timeout" in n
                              for n in held.notes)
    assert held.selected.rung == 1
    assert outcome.notes[-len(held.notes):] == held.notes  # run.json's notes carry them


def _line(n=6000, seed=1):
    """A line: a few hundred rows already tell it all, so its learning curve is flat."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    return X, (2 * X.a + rng.normal(scale=0.1, size=n)).to_numpy()


_RUNGS = dict(task="regression", cv="holdout", families=["lightgbm"], min_rung_rows=800, rung_factor=4,
              max_trials=40, family_patience=2, promote_top=2, tol=0.002, noise_aware=True)


@pytest.mark.parametrize("isolation", ["none", "process"])
def test_where_the_curve_is_flat_the_choice_is_its_rungs_model_and_scores_as_reported(isolation):
    from sklearn.metrics import r2_score

    X, y = _line()
    flat = {**_RUNGS, "tol": 0.01}  # its gain per doubling of rows (~0.002) is well under tol
    outcome = _run(X, y, **flat, isolation=isolation)
    result, chosen = outcome.result, outcome.result.selected
    assert chosen.rung >= 1 and result.trained_rows == chosen.n_rows < len(y)
    assert any(n.startswith(f"Not refit on all {len(y):,} rows") for n in outcome.notes)
    assert outcome.summary["selected"]["trained_rows"] == chosen.n_rows
    # The fit is that candidate's model: on its validation rows it scores what the row says.
    valid = result.plan.splits[0][1]
    assert math.isclose(r2_score(y[valid], outcome.model.predict(X.iloc[valid])), chosen.score, rel_tol=1e-6)
    assert all(c.evaluation.model is None for c in result.candidates)  # none held after the fit

    refit = _run(X, y, **flat, isolation=isolation, refit="always")
    assert refit.result.trained_rows == len(y)
    assert not any(n.startswith("Not refit") for n in refit.notes)


def test_where_rows_still_pay_the_choice_is_refit_on_all_of_them():
    """A steep curve: the choice is a grown configuration, or one whose last step up gained much."""
    X, y = _steep()
    outcome = _run(X, y, **_RUNGS)
    assert outcome.result.selected.rung >= 1
    assert outcome.result.trained_rows == len(y)
    assert not any(n.startswith("Not refit") for n in outcome.notes)


def test_the_refit_is_skipped_only_when_the_curve_says_the_held_out_rows_would_not_pay():
    from types import SimpleNamespace

    from kiss_automl.evaluation import Evaluation
    from kiss_automl.rung_steps import RungSteps

    def candidate(rung, signed, model="kept"):
        return SimpleNamespace(rung=rung, signed=signed, family="lightgbm", n_rows=[1000, 4000][rung],
                               evaluation=Evaluation(fit_joules=10.0, model=model))

    below = candidate(0, 0.80)

    def search(refit="auto", spent=10.0):
        return SimpleNamespace(config=config.SearchConfig(refit=refit), plan=SimpleNamespace(rungs=(1000, 4000)),
                               data=SimpleNamespace(y=np.zeros(5000)), decision_joules=spent,
                               noise_tol=lambda: 0.004, _cost=lambda c: 10.0, _same_config=lambda c, rung: below)

    # 0.004 per doubling of rows, 0.32 doublings more: ~0.0013, against tol x log2(22.5 / 10) = 0.0023
    # (tol, 0.002: not the noise-aware tolerance, 0.004 here).
    flat = candidate(1, 0.808)
    note = RungSteps.refit_skipped(search(), flat)
    assert note.startswith("Not refit on all 5,000 rows: lightgbm gained +0.0080 from 1,000 to 4,000 rows")
    assert "~0.0013" in note and "0.0023" in note and "~12 J" in note
    # Steeper (0.05 per doubling: ~0.016 more), or cheap beside what was spent: refit.
    assert RungSteps.refit_skipped(search(), candidate(1, 0.90)) is None
    assert RungSteps.refit_skipped(search(spent=10000.0), flat) is None
    # Asked to refit, no model kept, or no curve of its own (a grown configuration): refit.
    assert RungSteps.refit_skipped(search(refit="always"), flat) is None
    assert RungSteps.refit_skipped(search(), candidate(1, 0.808, model=None)) is None
    no_curve = search()
    no_curve._same_config = lambda c, rung: None
    assert RungSteps.refit_skipped(no_curve, flat) is None


def test_a_forest_is_refit_even_on_a_flat_curve_its_model_grows_with_the_rows():
    X, y = _line(n=3000)
    outcome = _run(X, y, **{**_RUNGS, "tol": 0.01, "min_rung_rows": 500, "families": ["random_forest"]})
    assert outcome.result.selected.rung >= 1
    assert outcome.result.trained_rows == len(y)
    assert all(c.evaluation.model is None for c in outcome.result.candidates)


def test_the_leader_goes_up_first_and_its_trailers_by_score_less_tol_per_doubling_of_cost():
    from types import SimpleNamespace

    from kiss_automl.rung_steps import RungSteps

    costs = {1: 64.0, 2: 32.0, 3: 2.0, 4: 2.0}
    search = SimpleNamespace(config=config.SearchConfig(tol=0.002),
                             _cost_on_next_rung=lambda c, growth: costs[c.trial])

    def candidate(trial, signed):  # a leader's error so wide that every trailer is within reach
        return SimpleNamespace(trial=trial, signed=signed, standard_error=1.0)

    # Trial 2 is 4 doublings costlier than the cheapest, 3 past the free one: 0.838 - 0.006 =
    # 0.832 against trial 3's 0.835 and trial 4's 0.829. The leader goes first, however costly.
    pool = [candidate(1, 0.840), candidate(2, 0.838), candidate(3, 0.835), candidate(4, 0.829)]
    assert [c.trial for c in RungSteps._worth_their_cost(search, pool, 4.0)] == [1, 3, 2, 4]
    assert RungSteps._worth_their_cost(search, pool[:1], 4.0) == pool[:1]
    # Within one doubling of the cheapest, cost does not count: score alone orders them.
    costs[2] = 4.0
    assert [c.trial for c in RungSteps._worth_their_cost(search, pool, 4.0)] == [1, 2, 3, 4]


def test_a_trailer_is_priced_against_the_cheapest_within_reach_of_the_leader_not_a_baseline_far_behind():
    from types import SimpleNamespace

    from kiss_automl.rung_steps import RungSteps

    costs = {1: 64.0, 2: 4.0, 3: 2.0, 5: 0.01}

    def candidate(trial, signed, standard_error=0.0):
        return SimpleNamespace(trial=trial, signed=signed, standard_error=standard_error)

    def order(reach):  # the reach is 3 standard errors of the leader's score
        search = SimpleNamespace(config=config.SearchConfig(tol=0.002),
                                 _cost_on_next_rung=lambda c, growth: costs[c.trial])
        pool = [candidate(1, 0.840, reach / 3), candidate(2, 0.8365), candidate(3, 0.835), candidate(5, 0.700)]
        return [c.trial for c in RungSteps._worth_their_cost(search, pool, 4.0)]

    # Trial 2 costs one doubling over trial 3, the cheapest within reach: free, so its score
    # ranks it. Priced against the baseline far behind (trial 5), it would pay for that
    # doubling too and fall behind trial 3.
    assert order(reach=0.05) == [1, 2, 3, 5]
    assert order(reach=1.0) == [1, 3, 2, 5]


def test_a_booster_that_ran_to_its_cap_is_costed_for_the_rounds_it_will_grow_on_the_next_rung():
    from types import SimpleNamespace

    from kiss_automl.families import REGISTRY
    from kiss_automl.rung_steps import RungSteps, ran_to_its_cap

    xgboost, forest = REGISTRY["xgboost"], REGISTRY["random_forest"]

    def candidate(family, cap, used):
        return SimpleNamespace(family=family.name, search_params={"n_estimators": cap},
                               params={"n_estimators": used})

    # Early stopping (patience 20) stopped the first; the second's best round was within 20 of
    # its cap, so it trained them all; a forest has no early stopping and no rounds to grow.
    stopped, capped = candidate(xgboost, 400, 123), candidate(xgboost, 128, 128)
    assert not ran_to_its_cap(xgboost, stopped, 20)
    assert ran_to_its_cap(xgboost, capped, 20)
    assert ran_to_its_cap(xgboost, candidate(xgboost, 128, 109), 20)
    assert not ran_to_its_cap(forest, candidate(forest, 64, 64), 20)

    families = {"xgboost": xgboost, "random_forest": forest}

    def search(mode):
        return SimpleNamespace(config=config.SearchConfig(early_stopping_rounds=20), plan=SimpleNamespace(mode=mode),
                               _family=families.get, _cost=lambda c: 5.0)

    assert RungSteps._cost_on_next_rung(search("holdout"), capped, 4.0) == 20.0
    assert RungSteps._cost_on_next_rung(search("holdout"), stopped, 4.0) == 5.0
    # Cross-validation has no early stopping: every booster trains its cap, none is told apart.
    assert RungSteps._cost_on_next_rung(search("cv"), capped, 4.0) == 5.0


def test_on_a_real_search_the_trailers_promoted_are_those_worth_their_cost():
    from kiss_automl.families import REGISTRY
    from kiss_automl.rung_steps import PROMOTION_REACH_SE, distinct_configs, ran_to_its_cap

    X, y = _line()
    tol, families = 0.01, ["baseline", "linear", "random_forest", "extra_trees", "lightgbm", "xgboost"]
    outcome = _run(X, y, task="regression", cv="holdout", families=families, min_rung_rows=800, rung_factor=4,
                   max_trials=None, family_patience=1, promote_top=2, tol=tol, noise_aware=True,
                   always_probe=families)
    candidates = outcome.result.candidates

    def config_of(c):
        return c.family, {k: v for k, v in c.search_params.items() if k != "n_estimators"}

    rung0 = sorted((c for c in candidates if c.rung == 0 and c.ok), key=lambda c: (-c.signed, c.trial))
    growth = next(c.n_rows for c in candidates if c.rung == 1) / rung0[0].n_rows

    def cost(c):  # a booster that trained to its cap is costed for 4x the rounds
        return c.estimated_joules * (growth if ran_to_its_cap(REGISTRY[c.family], c, 20) else 1.0)

    reach = max(tol, PROMOTION_REACH_SE * rung0[0].standard_error)
    cheapest = min(cost(c) for c in rung0 if rung0[0].signed - c.signed <= reach)

    def worth(c):
        return c.signed - tol * max(0.0, math.log2(cost(c) / cheapest) - 1)

    ranked = sorted(rung0[1:], key=lambda c: (-worth(c), c.trial))
    chosen = distinct_configs([rung0[0]] + ranked, 2)
    by_score = distinct_configs(rung0, 2)
    assert [config_of(c) for c in chosen] != [config_of(c) for c in by_score]  # the rule changes this search
    expected = [config_of(c) for c in chosen if rung0[0].signed - c.signed <= reach]
    promoted = [c for c in candidates if c.rung == 1 and c.phase == "promoted"]
    assert [config_of(c) for c in promoted] == expected


def _spent_before(candidates):
    """Each tuned candidate with the estimated joules the search had spent before it."""
    spent, out = 0.0, []
    for c in candidates:
        if c.phase == "tuned":
            out.append((c, spent))
        spent += c.estimated_joules
    return out


def test_a_tuned_proposal_costs_at_most_what_the_search_spent_before_it(credit, monkeypatch):
    from kiss_automl import stopping

    X, y = credit
    settings = {"families": ["baseline", "xgboost"], "max_trials": 12, "family_patience": 12}
    tuned = _spent_before(_run(X, _encoded(y), **settings).result.candidates)
    assert len(tuned) >= 5
    assert all(c.estimated_joules <= spent for c, spent in tuned)
    # Without the bound, TPE's draws on this search do cost more than all spent before them.
    monkeypatch.setattr(stopping, "within_one_doubling", lambda spent, proposal: True)
    unbounded = _spent_before(_run(X, _encoded(y), **settings).result.candidates)
    assert any(c.estimated_joules > spent for c, spent in unbounded)


def test_a_family_whose_draws_all_cost_more_than_the_spend_is_set_aside(credit, monkeypatch):
    from kiss_automl import stopping
    from kiss_automl.families.boosted import XGB_STARTS

    X, y = credit
    monkeypatch.setattr(stopping, "within_one_doubling", lambda spent, proposal: False)
    outcome = _run(X, _encoded(y), families=["baseline", "xgboost"], max_trials=12)
    # Its start configurations still run (they are not draws); then nothing is left to try.
    assert [c.search_params for c in outcome.result.candidates if c.family == "xgboost"] == \
        [dict(start) for start in XGB_STARTS]
    assert outcome.result.stop_reason == "search_exhausted"


def test_with_a_candidate_in_flight_none_is_proposed_that_the_plateau_would_stop_without_a_gain(credit, monkeypatch):
    """A window of candidates in flight (a cluster's) proposes the next only when the plateau
    rule would go on even if those in flight gain nothing: a sequential search would have
    read their results first. Without the check, this search bets a fifth candidate."""
    from kiss_automl import search, stopping

    X, y = credit
    real_check, submit = stopping.plateau_unless_gain, search.Search._submit
    settings = {"in_flight": 2, "tol": 0.01, "max_trials": 40}

    def proposals_the_rule_would_not_start() -> tuple[int, int]:
        bets = []

        def spy(self, family, params, rung, phase, trial=None):
            if phase == "tuned" and self.pending:
                in_flight = sum(p.estimated_joules for p in self.pending)
                bets.append(real_check(self.curve, in_flight, self.noise_tol(), self.config.patience))
            return submit(self, family, params, rung, phase, trial)

        with monkeypatch.context() as patch:
            patch.setattr(search.Search, "_submit", spy)
            outcome = _run(X, _encoded(y), **settings)
        assert outcome.result.stop_reason == "plateau"
        return sum(bets), len(outcome.result.candidates)

    assert proposals_the_rule_would_not_start() == (0, 4)
    monkeypatch.setattr(stopping, "plateau_unless_gain", lambda *args: False)
    assert proposals_the_rule_would_not_start() == (1, 5)
