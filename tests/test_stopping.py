import math

from kiss_automl.stopping import (Budgets, Point, best_at, budget_exhausted, doubling_gains, next_trial_overruns,
                                  plateau_reached, plateau_unless_gain, promotion_seconds, refit_asks, refit_gain,
                                  within_one_doubling)


def test_best_at_steps_through_the_curve():
    curve = [Point(1.0, 0.5), Point(3.0, 0.7), Point(10.0, 0.8)]
    assert best_at(curve, 0.5) == -math.inf
    assert best_at(curve, 1.0) == 0.5
    assert best_at(curve, 9.9) == 0.7
    assert best_at(curve, 100.0) == 0.8


def test_plateau_when_each_doubling_buys_less_than_tol():
    curve = [Point(1, 0.70), Point(2, 0.80), Point(4, 0.801), Point(8, 0.8015)]
    assert plateau_reached(curve, tol=0.002, patience=2)
    assert not plateau_reached(curve, tol=0.0005, patience=2)


def test_no_plateau_while_the_last_doubling_still_pays():
    curve = [Point(1, 0.70), Point(2, 0.70), Point(4, 0.70), Point(8, 0.75)]
    assert not plateau_reached(curve, tol=0.002, patience=2)


def test_no_plateau_without_history_reaching_back_far_enough():
    # One point: the doubling before it reaches back before the first candidate.
    assert not plateau_reached([Point(5, 0.9)], tol=0.01, patience=1)
    assert not plateau_reached([], tol=0.01, patience=1)


def test_candidates_in_flight_are_counted_as_paid_for_and_gaining_nothing():
    curve = [Point(1, 0.70), Point(2, 0.80), Point(3, 0.801)]
    assert not plateau_unless_gain(curve, 0.0, tol=0.002, patience=1)  # nothing in flight: the rule itself
    assert not plateau_unless_gain(curve, 0.5, tol=0.002, patience=1)  # half of 3.5 J still reaches back before 2 J
    assert plateau_unless_gain(curve, 1.5, tol=0.002, patience=1)  # 2.25 -> 4.5 J would buy 0.001
    assert not plateau_unless_gain([], 10.0, tol=0.002, patience=1)


def test_the_rule_is_scale_free():
    curve = [Point(1, 0.6), Point(2, 0.8), Point(4, 0.8005), Point(8, 0.801)]
    scaled = [Point(p.joules * 1e6, p.best) for p in curve]
    assert plateau_reached(curve, 0.002, 2) == plateau_reached(scaled, 0.002, 2)
    assert doubling_gains(curve, 3) == doubling_gains(scaled, 3)


def test_budgets_name_the_first_limit_reached():
    budgets = Budgets(seconds=10, joules=100, co2_g=1, trials=5)
    assert budget_exhausted(budgets, 1, 1, 0, 1) is None
    assert budget_exhausted(budgets, 1, 1, 0, 5) == "max_trials"
    assert budget_exhausted(budgets, 11, 1, 0, 1) == "time_budget"
    assert budget_exhausted(budgets, 1, 100, 0, 1) == "energy_budget"
    assert budget_exhausted(budgets, 1, 1, 2, 1) == "co2_budget"
    assert budget_exhausted(Budgets(), 1e9, 1e9, 1e9, 10**9) is None


def test_next_trial_overruns_names_the_budget_it_would_pass():
    assert next_trial_overruns(Budgets(joules=5.0), 4.1, 1.05, 1e-4) == "energy_budget"
    assert next_trial_overruns(Budgets(joules=5.0), 3.0, 1.05, 1e-4) is None
    assert next_trial_overruns(Budgets(co2_g=1e-3), 9.0, 2.0, 1e-4) == "co2_budget"
    assert next_trial_overruns(Budgets(), 1e9, 1e9, 1.0) is None


def test_a_promotion_is_expected_to_grow_as_its_last_step_up_did_and_at_least_as_its_rows():
    assert promotion_seconds(36.0, 2.25, rows_growth=4.0) == 576.0  # its last step: 16x the time
    assert promotion_seconds(10.0, 8.0, rows_growth=4.0) == 40.0  # a cheap last step: still 4x the rows
    assert promotion_seconds(10.0, None, rows_growth=4.0) == 40.0  # no step below: the rows alone
    assert promotion_seconds(10.0, 0.0, rows_growth=2.0) == 20.0


def test_a_refit_is_expected_to_gain_what_the_curve_gained_per_doubling_of_rows():
    # +0.01 over 4x the rows (2 doublings): 0.005 per doubling; 1.25x more rows is 0.32 doublings.
    assert math.isclose(refit_gain(0.81, 0.80, rows_growth_below=4.0, rows_growth=1.25), 0.005 * math.log2(1.25))
    assert refit_gain(0.79, 0.80, rows_growth_below=4.0, rows_growth=1.25) == 0.0  # a curve that fell: flat
    assert refit_gain(0.81, 0.80, rows_growth_below=4.0, rows_growth=1.0) == 0.0  # no rows to add


def test_a_refit_is_asked_tol_per_doubling_of_the_energy_spent():
    assert refit_asks(0.004, joules_spent=100.0, refit_joules=100.0) == 0.004  # one doubling
    assert math.isclose(refit_asks(0.004, joules_spent=100.0, refit_joules=300.0), 0.008)
    assert refit_asks(0.004, joules_spent=0.0, refit_joules=5.0) == 0.0  # nothing spent to weigh it against


def test_a_proposal_may_cost_at_most_what_was_spent_before_it():
    assert within_one_doubling(12.0, 12.0) and within_one_doubling(12.0, 2.9)
    assert not within_one_doubling(12.0, 12.5)
    assert within_one_doubling(2e6, 1.9e6) and not within_one_doubling(2.0, 2.1)  # joules or megajoules alike
