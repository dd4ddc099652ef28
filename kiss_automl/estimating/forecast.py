"""The forecast: what a fit with these settings should spend, before it runs. Pure functions.

The search's structure is known in advance (`search.py`, `evaluation.py`): the evaluation
plan; each probed family's start configurations in cost order, of which those up to the last
`always_probe` family's always run; then more candidates (the other probes, then tuning)
until the plateau rule or a budget stops it; with a holdout plan the best configurations
promoted to more rows (the last one alone while rows still pay), then capacity steps on all
the rows; the choice refit on all rows; and the fixed costs of the `fit` command. Each
candidate is priced by the cost model (`cost_model.py`) times a per-family factor measured
against this meter. What cannot be known before is how long the search
goes on after the probes: that is taken from real fits, as a low, central and high number
of further candidates. Each figure is given as three scenarios (low, central, high) built
from the calibrated quantiles (`calibration.py`), each walked candidate by candidate
through the budgets the search itself checks.

Work is counted in CPU-seconds of one core (the cost model's joules at its 4 W per core),
then priced at this machine's watts per core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import cost_model
from ..config import SearchConfig, rung_sizes
from . import calibration as cal

SCENARIOS = ("low", "central", "high")
_Q = {"low": 0, "central": 1, "high": 2}

# families/*.py: each family's start configurations, cheapest first, and whether it is
# probed up front (tests hold these copies to the families' own; the families module imports
# optuna, which `estimate` does not pay for).
_LGBM = ({"n_estimators": 32, "learning_rate": 0.1, "num_leaves": 8, "min_child_samples": 20,
          "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 0.001},
         {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
          "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 0.001})
_XGB = ({"n_estimators": 32, "learning_rate": 0.1, "max_depth": 3, "min_child_weight": 1.0,
         "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 1.0},
        {"n_estimators": 100, "learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1.0,
         "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 1.0})
_FOREST = ({"n_estimators": 32, "max_features": 0.5, "min_samples_leaf": 1},)
_MLP = ({"hidden_size": 64, "n_layers": 2, "dropout": 0.1, "learning_rate": 1e-3, "weight_decay": 1e-5,
         "batch_size": 128},)
STARTS = {
    "baseline": {"classification": ({},), "regression": ({},)},
    "linear": {"classification": ({"C": 1.0},), "regression": ({"alpha": 1.0},)},
    "random_forest": {"classification": _FOREST, "regression": _FOREST},
    "extra_trees": {"classification": _FOREST, "regression": _FOREST},
    "lightgbm": {"classification": _LGBM, "regression": _LGBM},
    "xgboost": {"classification": _XGB, "regression": _XGB},
    "mlp": {"classification": _MLP, "regression": _MLP},
}
PROBED_FIRST = ("baseline", "linear", "random_forest", "extra_trees", "lightgbm", "xgboost")
TUNABLE = ("linear", "random_forest", "extra_trees", "lightgbm", "xgboost", "mlp")
EARLY_STOPPING = ("lightgbm", "xgboost")  # boosting that stops early on a holdout split
REQUIRES = {"lightgbm": "lightgbm", "xgboost": "xgboost", "mlp": "torch"}
MAX_PROMOTED_ROUNDS = 4096  # rung_steps.MAX_PROMOTED_ROUNDS
MAX_GROWTH_STEPS = 3  # rung_steps.MAX_GROWTH_STEPS
GROWING = ("lightgbm", "xgboost")  # families with a capacity step (Family.grow)
ISOLATION_MIN_CELLS = 1_000_000  # isolation.AUTO_MIN_CELLS
REFERENCE_W_PER_CORE = 4.0  # the cost model's joules are CPU-seconds at 4 W per core


def starts(family: str, task: str) -> tuple[dict, ...]:
    return STARTS[family]["regression" if task == "regression" else "classification"]


# ---------------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class Plan:
    """evaluation.make_plan's sizes: per split (training rows, validation rows), and the rungs."""

    mode: str  # cv | holdout
    splits: tuple[tuple[int, int], ...]
    rungs: tuple[int, ...]


def make_plan(rows: int, config: SearchConfig) -> Plan:
    if config.cv == "holdout" or (config.cv == "auto" and rows >= config.holdout_rows):
        n_valid = max(1, min(int(rows * config.validation_fraction), config.max_validation_rows))
        return Plan("holdout", ((rows - n_valid, n_valid),), rung_sizes(rows - n_valid, config))
    folds = config.cv if isinstance(config.cv, int) else (
        config.small_data_folds if rows < config.small_data_rows else config.folds)
    if rows < 2 * folds:
        from ..errors import DataError  # evaluation.make_plan's words

        raise DataError(f"{rows} rows are too few for {folds}-fold cross-validation; need at least {2 * folds}")
    valid = [rows // folds + (1 if i < rows % folds else 0) for i in range(folds)]
    splits = tuple((rows - v, v) for v in valid)
    return Plan("cv", splits, (min(t for t, _ in splits),))


@dataclass(frozen=True)
class Data:
    """The data's shape as the search sees it (from `scan.Scan`)."""

    rows: int
    columns: int  # typed columns (trees)
    width: int  # one-hot width (linear, MLP)
    n_classes: int  # 0: regression
    cells: int  # rows x input columns, for reading and typing
    text_cells: int = 0  # of which in text columns (categories, dates), dearer to read and type

    @property
    def task(self) -> str:
        return "regression" if self.n_classes == 0 else "binary" if self.n_classes == 2 else "multiclass"


def shapes(plan: Plan, rung: int, data: Data, family: str, config: SearchConfig) -> list[cost_model.Shape]:
    """search.Search._shapes: what each split of a candidate at `rung` sees."""
    patience = config.early_stopping_rounds if plan.mode == "holdout" and family in EARLY_STOPPING else 0
    return [cost_model.Shape(min(plan.rungs[rung], train), valid, data.columns, data.width, data.n_classes, patience)
            for train, valid in plan.splits]


def model_cpu_s(family: str, params: dict, shape_list: list[cost_model.Shape]) -> float:
    """The cost model's figure for one candidate, in CPU-seconds (uncorrected)."""
    fit, predict = cost_model.candidate_joules(family, params, shape_list)
    return (fit + predict) / REFERENCE_W_PER_CORE


# ---------------------------------------------------------------------------------- the walk

@dataclass
class Step:
    """One expected candidate (or a share of one: tuned trials are spread over families)."""

    family: str
    phase: str  # probe | tuned | promoted | grown
    cpu_s: float  # expected, corrected by the family's measured factor
    model_cpu_s: float  # the cost model's own figure: what the search's budget check reads
    count: float = 1.0


@dataclass
class Scenario:
    steps: list[Step]
    refit_cpu_s: float
    fixed_cpu_s: dict[str, float]
    stop: str  # the stop this scenario ends with: plateau, or the budget that cuts it

    @property
    def candidates_cpu_s(self) -> float:
        return sum(s.cpu_s for s in self.steps)

    @property
    def total_cpu_s(self) -> float:
        return self.candidates_cpu_s + self.refit_cpu_s + sum(self.fixed_cpu_s.values())


@dataclass
class Forecast:
    plan: Plan
    data: Data
    families: tuple[str, ...]
    scenarios: dict[str, Scenario]
    watts_per_core: float
    g_per_j: float
    wall_per_cpu_s: float
    workers: int = 1
    notes: list[str] = field(default_factory=list)

    def joules(self, cpu_s: float) -> float:
        return cpu_s * self.watts_per_core

    def by_family(self, scenario: str) -> dict[str, tuple[float, float]]:
        """family -> (expected candidates, CPU-seconds) in one scenario."""
        out = {f: [0.0, 0.0] for f in self.families}
        for s in self.scenarios[scenario].steps:
            out[s.family][0] += s.count
            out[s.family][1] += s.cpu_s
        return {f: (n, c) for f, (n, c) in out.items()}

    def seconds(self, cpu_s: float, candidates: bool = False) -> float:
        """Wall seconds of `cpu_s` of work: candidates' folds may run in `workers` threads."""
        return cpu_s * self.wall_per_cpu_s / (self.workers if candidates else 1)

    def total_seconds(self, scenario: str) -> float:
        sc = self.scenarios[scenario]
        return self.seconds(sc.candidates_cpu_s, candidates=True) + \
            self.seconds(sc.refit_cpu_s + sum(sc.fixed_cpu_s.values()))


def workers(plan: Plan, config: SearchConfig) -> int:
    """Folds run at once: `n_jobs` threads (one per fold at most, one per core at most)."""
    if config.n_jobs == 1 or len(plan.splits) == 1:
        return 1
    import os

    cores = os.cpu_count() or 1
    return max(1, min(len(plan.splits), cores, cores if config.n_jobs == -1 else config.n_jobs))


def forecast(data: Data, config: SearchConfig, families: tuple[str, ...], *, watts_per_core: float = 4.0,
             g_per_j: float = 0.0) -> Forecast:
    """Low, central and high scenarios of the fit `config` would run on `data`.

    Energy counts CPU-seconds whatever the threads; with `n_jobs` > 1 the candidates' folds
    share the cores, so their wall time is divided (ideally: no measurement here backs it).
    """
    plan = make_plan(data.rows, config)
    n = workers(plan, config)
    scenarios = {name: _scenario(name, plan, data, config, families, watts_per_core, g_per_j, n)
                 for name in SCENARIOS}
    differ = sorted(k for k, v in cal.CALIBRATED_SETTINGS.items() if getattr(config, k) != v)
    notes = [f"{', '.join(differ)} differ from the settings the tuning length was measured with "
             f"({', '.join(f'{k}={cal.CALIBRATED_SETTINGS[k]}' for k in differ)}): how long tuning goes on "
             "is extrapolated, and less sure"] if differ else []
    if config.isolation == "process" or (config.isolation == "auto" and (
            data.rows * data.columns >= ISOLATION_MIN_CELLS or config.memory_limit is not None)):
        notes.append("candidates will run in forked worker processes (isolation): their forks are not in "
                     "this estimate (no fit measured here ran isolated)")
    return Forecast(plan, data, families, scenarios, watts_per_core, g_per_j, cal.WALL_PER_CPU_S, n, notes)


def regime(plan: Plan, data: Data, config: SearchConfig) -> str:
    """How long the search goes on after its probes depends on the plan: on small data (5-fold
    CV here) the best score's standard error is wide, the noise-aware plateau rule stops at
    its first chance; with more rows (3-fold CV, holdout) it tunes for a while."""
    if plan.mode == "holdout":
        return "holdout"
    return "small" if data.rows < config.small_data_rows else "cv"


def factor(family: str, q: str, mode: str) -> float:
    """The measured correction of the cost model's figure for a family's candidates."""
    table = cal.FAMILY_FACTOR[mode]
    return table.get(family, table["random_forest"])[_Q[q]]


def _probes(plan: Plan, data: Data, config: SearchConfig, families, q: str) -> tuple[list[Step], int]:
    """The probes in order, and how many always run (up to the last `always_probe` family's)."""
    steps, must = [], 0
    for family in families:
        if family not in PROBED_FIRST:
            continue
        for params in starts(family, data.task):
            raw = model_cpu_s(family, params, shapes(plan, 0, data, family, config))
            steps.append(Step(family, "probe", raw * factor(family, q, plan.mode), raw))
        if family in config.always_probe:
            must = len(steps)
    return steps, must


def _family_cost(family: str, plan: Plan, rung: int, data: Data, config: SearchConfig, q: str,
                 rounds_growth: float = 1.0) -> tuple[float, float]:
    """(corrected, raw) CPU-s of a family's start configurations on average, at `rung`."""
    corrected = raw = 0.0
    configs = starts(family, data.task)
    for params in configs:
        if rounds_growth != 1.0 and "n_estimators" in params and family in EARLY_STOPPING:
            params = {**params, "n_estimators": int(min(MAX_PROMOTED_ROUNDS, params["n_estimators"] * rounds_growth))}
        r = model_cpu_s(family, params, shapes(plan, rung, data, family, config))
        raw += r / len(configs)
        corrected += r * factor(family, q, plan.mode) / len(configs)
    return corrected, raw


def _shares(table: dict[str, float], families) -> dict[str, float]:
    present = {f: table.get(f, 0.0) for f in families if f in TUNABLE}
    total = sum(present.values())
    if total <= 0:
        return {f: 1 / len(present) for f in present} if present else {}
    return {f: v / total for f, v in present.items() if v > 0}


def _scenario(q: str, plan: Plan, data: Data, config: SearchConfig, families, watts: float, g_per_j: float,
              n_workers: int = 1) -> Scenario:
    probes, must = _probes(plan, data, config, families, q)
    # The plateau rule waits for `patience` doublings of energy without gain: each more one
    # doubles what is spent past the probes (a structural extrapolation, not a measurement).
    extra = cal.EXTRA_CANDIDATES[regime(plan, data, config)][_Q[q]] * \
        2.0 ** (config.patience - cal.CALIBRATED_SETTINGS["patience"])
    steps = probes[:must]
    optional = probes[must:]
    steps += optional[:int(extra)]
    tuned_n = max(0.0, extra - len(optional))
    shares = _shares(cal.TUNED_SHARE, families)
    costs = {f: _family_cost(f, plan, 0, data, config, q) for f in shares}
    ratio = cal.TUNED_COST[_Q[q]]
    for i in range(math.ceil(tuned_n)):  # one trial at a time, spread over the families it may go to
        w = min(1.0, tuned_n - i)
        for family, share in shares.items():
            corrected, raw = costs[family]
            steps.append(Step(family, "tuned", w * share * corrected * ratio, w * share * raw * ratio, w * share))
    steps, stop = _within_budgets(steps, config, watts, g_per_j, n_workers=n_workers)
    grown_cpu_s = 0.0
    if stop == "plateau" and plan.mode == "holdout" and len(plan.rungs) > 1:
        promoted, stop = _promotions(q, plan, data, config, families, sum(s.count for s in steps), watts,
                                     g_per_j, sum(s.cpu_s for s in steps))
        steps += promoted
        if stop == "plateau":
            grown, stop, grown_cpu_s = _growth(q, plan, data, config, families, sum(s.count for s in steps),
                                               watts, g_per_j, sum(s.cpu_s for s in steps))
            steps += grown
    refit = _refit(q, plan, data, config, families, grown_cpu_s)
    return Scenario(steps, refit, fixed_cpu_s(q, data, sum(s.count for s in steps)), stop)


def _within_budgets(steps: list[Step], config: SearchConfig, watts: float, g_per_j: float,
                    spent_cpu_s: float = 0.0, done: float = 0.0, n_workers: int = 1) -> tuple[list[Step], str]:
    """The steps the budgets let run, in order, as search._check_budgets and _check_next_fits
    cut them, and the stop: 'plateau' when none does, else the budget's name."""
    kept = []
    for step in steps:
        room, reason = _room(step, config, watts, g_per_j, spent_cpu_s, done, n_workers)
        if room < step.count:
            if room > 0:  # a share of a spread-out step: as many candidates as fit
                kept.append(Step(step.family, step.phase, step.cpu_s * room / step.count,
                                 step.model_cpu_s * room / step.count, room))
            return kept, reason
        kept.append(step)
        spent_cpu_s += step.cpu_s
        done += step.count
    return kept, "plateau"


def _room(step: Step, config: SearchConfig, watts: float, g_per_j: float, spent_cpu_s: float,
          done: float, n_workers: int = 1) -> tuple[float, str]:
    """How many of `step`'s candidates may start, and the budget that limits them (in the
    order stopping.budget_exhausted checks them)."""
    if step.count <= 0:
        return 0.0, "plateau"
    per = step.cpu_s / step.count
    per_model_j = step.model_cpu_s / step.count * REFERENCE_W_PER_CORE  # what the search's check reads
    limits = []
    if config.max_trials is not None:
        limits.append((max(0.0, config.max_trials - done), "max_trials"))
    if config.time_budget is not None and per > 0:
        # The search's clock, checked before each candidate: the last one starts while time is left.
        left = config.time_budget * n_workers / cal.SEARCH_WALL_PER_CPU_S - spent_cpu_s
        limits.append((max(0.0, math.ceil(left / per - 1e-9)), "time_budget"))
    for limit, grams, reason in ((config.energy_budget, 1.0, "energy_budget"),
                                 (config.co2_budget, g_per_j, "co2_budget")):
        if limit is None or grams <= 0:
            continue
        used = spent_cpu_s * watts * grams
        if used >= limit:
            limits.append((0.0 if done >= 1 else 1.0, reason))
            continue
        # The next candidate must fit in what is left, as the cost model sees it (once one stands).
        fits = math.floor((limit - used) / (per_model_j * grams) + 1e-9) if per_model_j > 0 else step.count
        limits.append((max(float(fits), 1.0 if done < 1 else 0.0), reason))
    room, reason = min(limits, default=(step.count, "plateau"), key=lambda x: x[0])
    return min(room, step.count), reason


def _promotions(q: str, plan: Plan, data: Data, config: SearchConfig, families, done: float, watts, g_per_j,
                spent: float) -> tuple[list[Step], str]:
    """Successive halving: `promote_top` configurations to rung 1, half of them on; the last
    one goes on alone only while its step up in rows paid, as often as measured (LONE_PAID).
    The search also leaves out those far behind their rung's leader (rung_steps._within_reach),
    which no score is known here to judge: the counts are the most it promotes."""
    shares = _shares(cal.PROMOTED_SHARE, families)
    steps, keep, chance = [], config.promote_top, 1.0
    for rung in range(1, len(plan.rungs)):
        if rung > 1 and keep < 2:
            # Low: it never pays; high: always; central: each step up as often as it paid.
            chance *= (0.0, cal.LONE_PAID, 1.0)[_Q[q]]
            if chance <= 0:
                break
        # search._scaled_rounds raises the rounds cap with the rows; early stopping then uses
        # far fewer: the growth that measured promotions bear out (calibration).
        growth = (plan.rungs[rung] / plan.rungs[0]) ** cal.PROMOTED_ROUNDS_EXPONENT
        costs = {f: _family_cost(f, plan, rung, data, config, q, rounds_growth=growth) for f in shares}
        ratio = cal.PROMOTED_COST[_Q[q]]
        for _ in range(keep):
            for family, share in shares.items():
                corrected, raw = costs[family]
                w = share * chance
                steps.append(Step(family, "promoted", w * corrected * ratio, w * raw, w))
        keep = max(1, keep // config.promote_eta)
    return _within_budgets(steps, config, watts, g_per_j, spent, done)


def _growth(q: str, plan: Plan, data: Data, config: SearchConfig, families, done: float, watts, g_per_j,
            spent: float) -> tuple[list[Step], str, float]:
    """search._grow: on all the rows, up to MAX_GROWTH_STEPS capacity steps of a booster (trees
    twice as big, the rate halved), each dearer than the one before by GROWN_STEP_FACTOR, for
    as long as each pays: how many run is measured (GROWN_STEPS). Also the CPU-s of the last
    step that runs, which the refit follows."""
    n = min(float(MAX_GROWTH_STEPS), cal.GROWN_STEPS[_Q[q]])
    shares = _shares(cal.GROWN_SHARE, [f for f in families if f in GROWING])
    if n <= 0 or not shares:
        return [], "plateau", 0.0
    top = len(plan.rungs) - 1
    growth = (plan.rungs[top] / plan.rungs[0]) ** cal.PROMOTED_ROUNDS_EXPONENT
    costs = {f: _family_cost(f, plan, top, data, config, q, rounds_growth=growth) for f in shares}
    steps, per_candidate = [], []  # per_candidate[i]: one candidate of steps[i]'s capacity step
    for k in range(1, math.ceil(n) + 1):
        w = min(1.0, n - (k - 1))
        scale = cal.GROWN_COST[_Q[q]] * cal.GROWN_STEP_FACTOR ** k
        one = sum(share * costs[f][0] for f, share in shares.items()) * scale
        for family, share in shares.items():
            corrected, raw = costs[family]
            steps.append(Step(family, "grown", w * share * corrected * scale, w * share * raw * scale, w * share))
            per_candidate.append(one)
    kept, stop = _within_budgets(steps, config, watts, g_per_j, spent, done)
    return kept, stop, per_candidate[len(kept) - 1] if kept else 0.0


def _refit(q: str, plan: Plan, data: Data, config: SearchConfig, families, grown_cpu_s: float = 0.0) -> float:
    """The choice on all rows: a mean start configuration of the tunable families, scaled by
    what refits measured (a blend of several members in CV mode, with `best` selection); after
    capacity steps, the last step's cost times what such refits measured against it."""
    full = Plan(plan.mode, ((data.rows, 0),), (data.rows,))
    costs = [_family_cost(f, full, 0, data, config, q)[0] for f in families if f in TUNABLE and f in PROBED_FIRST]
    if not costs:
        return 0.0
    blend = plan.mode == "cv" and config.selection == "best" and config.ensemble in ("auto", True) or \
        config.ensemble is True and config.selection == "best"
    start = sum(costs) / len(costs) * cal.REFIT_COST["blend" if blend else "single"][_Q[q]]
    return max(start, grown_cpu_s * cal.GROWN_REFIT[_Q[q]])


def fixed_cpu_s(q: str, data: Data, n_candidates: float) -> dict[str, float]:
    """The fit command's own costs, by part (CPU-seconds)."""
    i = _Q[q]
    number_cells, text_cells = (data.cells - data.text_cells) / 1e6, data.text_cells / 1e6
    return {
        "startup_and_imports": cal.STARTUP_CPU_S[i],
        "reading": cal.READ_CPU_S[i] + cal.READ_CPU_S_PER_MCELL[i] * number_cells
        + cal.READ_CPU_S_PER_TEXT_MCELL[i] * text_cells,
        "typing": cal.TYPING_CPU_S_PER_MCELL[i] * number_cells + cal.TYPING_CPU_S_PER_TEXT_MCELL[i] * text_cells,
        "search_loop": n_candidates * (cal.LOOP_CPU_S_PER_CANDIDATE[i]
                                       + cal.LOOP_CPU_S_PER_CANDIDATE_MROW[i] * data.rows / 1e6),
        "other": cal.OTHER_CPU_S[i] + cal.OTHER_CPU_S_PER_MCELL[i] * data.cells / 1e6,
        "saving": cal.SAVE_CPU_S[i] + cal.SAVE_CPU_S_PER_MROW[i] * data.rows / 1e6,
    }
