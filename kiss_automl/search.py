"""The search loop: probe each family's low-cost start in cost order, tune with optuna,
promote the best to more rows, and stop when accuracy per joule plateaus.

The loop owns the order; `stopping` decides when to stop; `evaluation` measures a candidate;
a runner (runner.py) says where it runs. With a window of W, up to W candidates are in
flight: candidate i is proposed once candidates 0..i-W have been told to the study, in
submission order, so the proposals depend on W and never on which task finished first.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from . import cost_model, isolation, process, stopping
from .config import SearchConfig
from .evaluation import EvalPlan, Evaluation, Task
from .families import BuildContext, Family
from .runner import ClusterLost, Job, LocalRunner
from .text import NO_TEXT, TEXT_PARAM, steps as text_steps
from .rung_steps import RungSteps
from .text.search_steps import TextSteps

logger = logging.getLogger(__name__)

# An untried family is assumed to cost this many times the costliest family tried so far.
UNPROBED_COST_FACTOR = 4.0
# Draws asked of a family's study for one tuned proposal within one doubling of the energy
# spent (`Search._ask`) before the family is set aside: TPE's asks cost milliseconds.
MAX_PROPOSAL_DRAWS = 10


@dataclass
class Candidate:
    """One evaluated configuration: a leaderboard row."""

    trial: int
    family: str
    rung: int
    phase: str  # start | tuned | promoted
    params: dict  # as refit: with the boosting rounds early stopping settled on
    n_rows: int
    evaluation: Evaluation
    search_params: dict = field(default_factory=dict)  # as proposed, before early stopping
    score: float = math.nan
    score_std: float = math.nan
    signed: float = -math.inf
    cumulative_joules: float = 0.0
    estimated_joules: float = 0.0  # the cost model's figure for this fit and predict (cost_model.py)
    estimated_predict_joules: float = 0.0
    co2_g: float = 0.0
    selected: bool = False
    members: list = field(default_factory=list, repr=False)  # an ensemble's candidates
    replayed: bool = False  # taken from the journal of an earlier run, not trained now
    placement: dict = field(default_factory=dict, repr=False)  # where it ran (a cluster's host, meter)

    @property
    def ok(self) -> bool:
        return self.evaluation.status == "ok"

    @property
    def standard_error(self) -> float:
        """The score's standard error as the search reads its noise: over the folds, or over 5
        chunks of one validation set (holdout); 0 when unknown."""
        folds = len(self.evaluation.scores)
        spread = self.score_std if math.isfinite(self.score_std) else 0.0
        return spread / math.sqrt(folds if folds > 1 else 5)


@dataclass
class SearchResult:
    candidates: list[Candidate]
    stop_reason: str
    selected: Candidate | None
    wall_seconds: float
    plan: EvalPlan
    skipped_families: dict[str, str] = field(default_factory=dict)
    isolated: bool = False  # candidates ran in forked workers
    stop_detail: dict = field(default_factory=dict)  # the figures behind stop_reason (StopSearch.detail)
    whole_file_refit: Any = None  # cluster.refit.RefitFigures when the choice was refit on the whole file
    whole_file_note: str | None = None  # why it was not, when asked
    trained_rows: int | None = None  # rows the final model was trained on (set at the refit)
    refit_skipped: bool = False  # the choice's rung model was kept: a refit would not pay
    notes: list[str] = field(default_factory=list)  # what the search chose not to run, and why

    @property
    def candidate_seconds(self) -> float:
        return sum(c.evaluation.fit_seconds + c.evaluation.predict_seconds for c in self.candidates
                   if not c.replayed and c.family != "ensemble")


@dataclass
class _Pending:
    """A submitted candidate not yet told: what its result completes."""

    family: Family
    params: dict
    rung: int
    phase: str
    trial: Any  # the optuna trial to tell (None for promotions)
    handle: Any = None
    replayed: Evaluation | None = None
    estimated_joules: float = 0.0


class StopSearch(Exception):
    """Raised inside the loop when a stop rule fires; carries the reason and the figures
    behind it (the doublings the plateau rule compared, the budget and what was used)."""

    def __init__(self, reason: str, detail: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or {}


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence optuna's per-trial INFO lines here only, restoring its level afterwards."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


class Search(RungSteps, TextSteps):
    """One search over `families` for `data`, evaluated by `plan`, measured by `meter`.

    `on_event(name, **info)` is called at each step (for progress display); it must be cheap.
    """

    def __init__(self, data: Task, plan: EvalPlan, config: SearchConfig, families: list[Family],
                 seed: int, meter, grams_per_joule: float = 0.0,
                 on_event: Callable[..., None] | None = None, journal=None, gpu_meter=None,
                 runner=None, window: int = 1):
        self.data, self.plan, self.config, self.families = data, plan, config, families
        self.seed, self.meter, self.grams_per_joule = seed, meter, grams_per_joule
        self.on_event = on_event or (lambda name, **info: None)
        self.journal = journal
        self.gpu_meter = gpu_meter  # CPU + GPU counters, for the families that may use a GPU
        self.columns, self.width = cost_model.feature_counts(data.X, data.categorical)
        self.decision_joules = 0.0  # what the plateau rule reads: estimated or measured, see `_cost`
        self.isolate = runner is None and isolation.wanted(
            config.isolation, data.X.shape[0] * max(1, data.X.shape[1]), config.memory_limit)
        self.runner = runner or LocalRunner(data, plan, meter, gpu_meter, self.isolate, config.memory_limit)
        self.window = max(1, int(window))
        self.pending: deque[_Pending] = deque()
        self._lost = 0  # candidates in flight when the search was cut (Ctrl-C, a lost cluster)
        self.budgets = stopping.Budgets(config.time_budget, config.energy_budget, config.co2_budget,
                                        config.max_trials)
        self.candidates: list[Candidate] = []
        self.notes: list[str] = []
        self.curve: list[stopping.Point] = []
        self.joules = 0.0
        self.started = 0.0
        self.studies: dict[str, Any] = {}
        self.stale: dict[str, int] = {}
        # Free text: how candidates see it (kiss_automl/text/steps.py), and its characters per
        # row for the cost model.
        self.text = text_steps.TextRecord(list(data.text)) if data.text else None
        self.text_chars = float(sum(data.X[c].str.len().mean() for c in data.text)) if data.text else 0.0

    # ---- the loop -------------------------------------------------------------------------
    def run(self) -> SearchResult:
        self.started = time.perf_counter()
        stop = StopSearch("search_exhausted")
        self.on_event("start", plan=self.plan, families=[f.name for f in self.families])
        try:
            try:
                with _quiet_optuna():
                    self._make_studies()
                    self._probe_starts()
                    self._tune()
            except StopSearch as rule:
                stop = rule
                self._drain()  # what is in flight was paid for: it is recorded
                if self.text is not None:
                    stop = self._embed_after(stop)
                if stop.reason in ("plateau", "search_exhausted"):
                    stop = self._continue_after(stop, self._promote)
                if stop.reason in ("plateau", "search_exhausted"):
                    stop = self._continue_after(stop, self._grow)
        except KeyboardInterrupt:
            process.interrupt_pending = False
            self._abandon()
            stop = StopSearch("interrupted")
        except ClusterLost as lost:
            self._abandon()
            logger.warning("The cluster was lost: %s; the search stops with the %d finished candidate(s)",
                           lost, len(self.candidates))
            stop = StopSearch("cluster_lost", {"error": str(lost), "in_flight_lost": self._lost})
        selected = self.select()
        self.on_event("stop", reason=stop.reason, selected=selected)
        return SearchResult(self.candidates, stop.reason, selected, time.perf_counter() - self.started, self.plan,
                            isolated=self.isolate, stop_detail=stop.detail, notes=self.notes)

    def _continue_after(self, stop: StopSearch, step: Callable[[], None]) -> StopSearch:
        """A plateau at the smallest rung still lets the best candidates move up to more rows
        (`_promote`), then grow where rows still pay (`_grow`); a budget can stop either."""
        try:
            with _quiet_optuna():
                step()
        except StopSearch as budget:
            self._drain()
            return budget if budget.reason not in ("plateau", "search_exhausted") else stop
        return stop

    def _make_studies(self) -> None:
        import optuna

        for i, family in enumerate(self.families):
            # With candidates in flight, TPE counts them at the worst score told so far
            # (constant liar) rather than proposing next to them again.
            liar = {"constant_liar": True} if self.window > 1 else {}
            sampler = optuna.samplers.TPESampler(seed=self.seed + 101 * i, n_startup_trials=4, multivariate=True,
                                                 **liar)
            study = optuna.create_study(direction="maximize", sampler=sampler)
            for start in family.start_configs(self.data.task):
                study.enqueue_trial(dict(start))
            self.studies[family.name] = study
            self.stale[family.name] = 0

    def _probe_starts(self) -> None:
        """Every family's start configurations, in cost order, before any tuning."""
        self.on_event("phase", phase="probe", rung=0)
        for family in self.families:
            if family.probe_first:
                for _ in family.start_configs(self.data.task):
                    self._trial(family, phase="start")
                if self.text is not None and self.text.pays is None and family is self._text_judge():
                    self._weigh_text(family)

    def _tune(self) -> None:
        """Optuna proposals, each to the family whose next trial looks most worth its energy."""
        self.on_event("phase", phase="tune", rung=0)
        while True:
            if self.pending and self._plateau_unless_in_flight_gains():
                self._complete()  # stops the search there, unless that result gains
                continue
            family = self._next_family()
            if family is None and self.pending:  # the results in flight may open a family
                self._complete()
                continue
            if family is None:
                raise StopSearch("search_exhausted", {"family_patience": self.config.family_patience})
            self._trial(family, phase="tuned")

    def _plateau_unless_in_flight_gains(self) -> bool:
        """With candidates in flight (a cluster's window), whether the plateau rule stops the
        search when they bring no gain (`stopping.plateau_unless_gain`): then no more is
        proposed until they are told. A sequential search never has one in flight here."""
        in_flight = sum(p.estimated_joules for p in self.pending)
        return self._probes_done() and stopping.plateau_unless_gain(self.curve, in_flight, self.noise_tol(),
                                                                    self.config.patience)

    def _trial(self, family: Family, phase: str) -> None:
        self._check_budgets()
        proposal = self._ask(family) if phase == "tuned" and self._starts_asked(family) else \
            self._ask_once(family)
        if proposal is None:
            return
        trial, params = proposal
        self._check_next_fits(family, params)
        self._submit(family, params, rung=0, phase=phase, trial=trial)
        self._settle()

    def _starts_asked(self, family: Family) -> bool:
        """Whether the study has asked all the family's start configurations (enqueued first,
        they wait until asked); past them, proposals are the sampler's."""
        from optuna.trial import TrialState

        asked = self.studies[family.name].get_trials(deepcopy=False, states=(
            TrialState.RUNNING, TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED))
        return len(asked) >= len(family.start_configs(self.data.task))

    def _ask_once(self, family: Family) -> tuple[Any, dict]:
        trial = self.studies[family.name].ask(dict(family.space(self.data.task)))
        params = {**trial.params}
        if self.text is not None:
            params[TEXT_PARAM] = self.text.view if family.text_input != "none" else NO_TEXT
        return trial, params

    def _ask(self, family: Family) -> tuple[Any, dict] | None:
        """A tuned proposal (past the family's start configurations) that costs at most what
        the search has spent so far (`stopping.within_one_doubling`): the plateau rule judges
        gains per doubling of energy, and one draw that costs more bets several doublings
        before the rule can judge it. A draw over that is told to its study as failed (never
        run, so TPE learns nothing from it) and another is asked. A family whose draws all
        cost more is set aside."""
        for _ in range(MAX_PROPOSAL_DRAWS):
            trial, params = self._ask_once(family)
            if stopping.within_one_doubling(self.decision_joules, self._estimate(family, params)):
                return trial, params
            self.studies[family.name].tell(trial, state=_failed_state())
        logger.debug("%s set aside: %d draws each cost more than the %.3g J spent so far", family.name,
                     MAX_PROPOSAL_DRAWS, self.decision_joules)
        self.stale[family.name] = self.config.family_patience
        return None

    def _settle(self) -> None:
        """Tell the oldest results until fewer than `window` candidates are in flight."""
        while len(self.pending) >= self.window:
            self._complete()

    def _drain(self) -> None:
        """Record every candidate still in flight, without stopping on them."""
        with _quiet_optuna():
            while self.pending:
                self._complete(check_stop=False)

    def _abandon(self) -> None:
        """Ctrl-C or a lost cluster: stop what is in flight; those candidates are not recorded."""
        self._lost = len(self.pending)
        if self.pending:
            self.runner.cancel([p.handle for p in self.pending if p.handle is not None])
        self.pending.clear()

    def _complete(self, check_stop: bool = True) -> Candidate:
        """The oldest candidate in flight: its result recorded, told to its study, and the
        plateau rule asked (for proposals, not promotions)."""
        pending = self.pending[0]
        if pending.replayed is not None:
            result_evaluation, placement = pending.replayed, {}
        else:
            outcome = self.runner.collect(pending.handle)
            result_evaluation, placement = outcome.evaluation, outcome.placement
        self.pending.popleft()
        candidate = self._record(pending, result_evaluation, placement)
        if pending.trial is None:
            return candidate
        family, study, trial = pending.family, self.studies[pending.family.name], pending.trial
        if candidate.ok:
            best_before = self._family_best(family.name, exclude=candidate)
            self.stale[family.name] = 0 if candidate.signed > best_before + self.config.tol / 2 else \
                self.stale[family.name] + 1
            study.tell(trial, candidate.signed)
        else:
            self.stale[family.name] += 1
            study.tell(trial, state=_failed_state())
        tol = self.noise_tol()
        if check_stop and self._probes_done() and stopping.plateau_reached(self.curve, tol, self.config.patience):
            raise StopSearch("plateau", stopping.plateau_detail(self.curve, tol, self.config.tol,
                                                                self.config.patience))
        return candidate

    def noise_tol(self) -> float:
        """`tol`, or the best score's standard error when larger: a gain within the noise of
        cross-validation is no gain (small data would otherwise chase noise for ever)."""
        best = self.best()
        if best is None or not self.config.noise_aware:
            return self.config.tol
        return max(self.config.tol, best.standard_error)

    def _probes_done(self) -> bool:
        """Whether every `always_probe` family has run all its start configurations."""
        for family in self.families:
            if family.name in self.config.always_probe:
                tried = sum(1 for c in self.candidates if c.family == family.name)
                if tried < len(family.start_configs(self.data.task)):
                    return False
        return True

    def _submit(self, family: Family, params: dict, rung: int, phase: str, trial: Any = None) -> None:
        """Start one configuration at `rung` (or take it from the journal of a stopped run)."""
        context = BuildContext(self.data.task, self.seed, n_threads=1, device=self.config.device)
        rounds = self.config.early_stopping_rounds if self.plan.mode == "holdout" else None
        self.on_event("candidate_start", family=family.name, rung=rung, phase=phase)
        pending = _Pending(family, params, rung, phase, trial)
        if self.window > 1:  # what the budgets count for candidates in flight (none when sequential)
            pending.estimated_joules = self._estimate(family, params, rung)
        pending.replayed = self.journal.take(family.name, rung, params) if self.journal else None
        if pending.replayed is None:
            # Above the first rung of a holdout split, the model may become the fit (`refit_skipped`).
            # Not a forest's: its trees grow with the rows (unpruned), and sending one back from
            # a worker process could cost more than its refit.
            keep = self.plan.mode == "holdout" and rung >= 1 and self.config.refit == "auto" and \
                family.group != "forest"
            pending.handle = self.runner.submit(Job(family, params, rung, context, rounds, self.config.trial_timeout,
                                                    self.config.n_jobs, keep_model=keep))
        self.pending.append(pending)

    def _record(self, pending: _Pending, evaluation: Evaluation, placement: dict) -> Candidate:
        """A finished configuration as a leaderboard row: scored, costed, journaled."""
        family, params, rung, phase = pending.family, pending.params, pending.rung, pending.phase
        replayed = pending.replayed is not None
        if evaluation.status == "ok" and not np.all(np.isfinite(evaluation.scores)):
            evaluation.status = "failed"
            evaluation.error = (f"{self.data.metric.name} is undefined on a validation split "
                                "(for ROC AUC: a split without every class)")
        candidate = Candidate(len(self.candidates), family.name, rung, phase, params,
                              self.plan.rungs[rung], evaluation, search_params=dict(params), replayed=replayed,
                              placement=placement)
        if evaluation.rounds_used:
            candidate.params = {**params, family.rounds_param: int(round(np.mean(evaluation.rounds_used)))}
        if candidate.ok:
            candidate.score = float(np.mean(evaluation.scores))
            candidate.score_std = float(np.std(evaluation.scores)) if len(evaluation.scores) > 1 else \
                evaluation.chunk_std
            candidate.signed = self.data.metric.signed(candidate.score)
        fit_estimate, predict_estimate = self._estimates(family, candidate.params, rung)
        candidate.estimated_joules = fit_estimate + predict_estimate
        candidate.estimated_predict_joules = predict_estimate
        self.joules += evaluation.joules
        self.decision_joules += self._cost(candidate)
        candidate.cumulative_joules = self.joules
        candidate.co2_g = evaluation.joules * self.grams_per_joule
        self.candidates.append(candidate)
        if evaluation.model is not None:  # only the leader's model can become the fit: free the rest
            leader = self.best()
            for other in self.candidates:
                if other is not leader:
                    other.evaluation.model = None
        if self.journal:
            self.journal.append(candidate)
        if rung == 0:
            best = max((c.signed for c in self.candidates if c.ok and c.rung == 0), default=-math.inf)
            if best > -math.inf:
                self.curve.append(stopping.Point(self.decision_joules, best))
        self.on_event("candidate", candidate=candidate, best=self.best(), joules=self.joules,
                      elapsed=time.perf_counter() - self.started, n_done=len(self.candidates))
        return candidate

    def _shapes(self, family: Family, rung: int) -> list[cost_model.Shape]:
        """What each fold of a candidate at `rung` sees, for the cost model."""
        stops_early = self.plan.mode == "holdout" and family.early_stopping is not None
        patience = self.config.early_stopping_rounds if stops_early else 0
        return [cost_model.Shape(min(self.plan.rungs[rung], len(train)), len(valid), self.columns, self.width,
                                 self.data.n_classes, patience) for train, valid in self.plan.splits]

    def _estimates(self, family: Family, params: dict, rung: int = 0) -> tuple[float, float]:
        """The cost model's fit and predict joules for a configuration at `rung`, its text's included."""
        shapes = self._shapes(family, rung)
        fit_j, predict_j = cost_model.candidate_joules(family.name, params, shapes)
        text_fit, text_predict = cost_model.text_joules(params.get(TEXT_PARAM), shapes, self.text_chars)
        return fit_j + text_fit, predict_j + text_predict

    def _estimate(self, family: Family, params: dict, rung: int = 0) -> float:
        """The cost model's joules for a configuration before it runs: what a decision reads."""
        return sum(self._estimates(family, params, rung))

    def _cost(self, candidate: Candidate) -> float:
        """The joules a decision reads: the cost model's (the same every run) or the meter's."""
        return candidate.estimated_joules if self.config.decision_energy == "estimated" else \
            candidate.evaluation.joules

    def _check_next_fits(self, family: Family, params: dict) -> None:
        """Stop before a candidate whose estimated energy would overrun the energy or CO2 budget
        (once one candidate stands: the search must return a model)."""
        if self.best() is None or (self.budgets.joules is None and self.budgets.co2_g is None):
            return
        expected = self._estimate(family, params)
        in_flight = sum(p.estimated_joules for p in self.pending)
        reason = stopping.next_trial_overruns(self.budgets, self.joules + in_flight, expected, self.grams_per_joule)
        if reason:
            raise StopSearch(reason, {**self._budget_detail(reason), "next_candidate_estimate_j": expected,
                                      "next_candidate_estimate_g": expected * self.grams_per_joule,
                                      "next_family": family.name})

    def _check_budgets(self) -> None:
        if process.interrupt_pending:  # a Ctrl-C that a library's finalizer swallowed (process.py)
            raise KeyboardInterrupt
        elapsed = time.perf_counter() - self.started
        reason = stopping.budget_exhausted(self.budgets, elapsed, self.joules, self.joules * self.grams_per_joule,
                                           len(self.candidates) + len(self.pending))
        if reason:
            raise StopSearch(reason, self._budget_detail(reason))

    def _budget_detail(self, reason: str) -> dict:
        """The budget behind a stop reason and how much of it was used."""
        limit, used = {
            "max_trials": (self.budgets.trials, len(self.candidates) + len(self.pending)),
            "time_budget": (self.budgets.seconds, time.perf_counter() - self.started),
            "energy_budget": (self.budgets.joules, self.joules),
            "co2_budget": (self.budgets.co2_g, self.joules * self.grams_per_joule),
        }[reason]
        return {"limit": limit, "used": used}

    # ---- choices --------------------------------------------------------------------------
    def _family(self, name: str) -> Family:
        return next(f for f in self.families if f.name == name)

    def _family_best(self, name: str, rung: int = 0, exclude: Candidate | None = None) -> float:
        return max((c.signed for c in self.candidates
                    if c.family == name and c.rung == rung and c.ok and c is not exclude), default=-math.inf)

    def _next_family(self) -> Family | None:
        """The family to try next: its best score, less `tol` per doubling of its cost per trial.

        A family stays eligible while it has a tunable space, is not stale (no improvement in
        `family_patience` trials) and its best is within reach of the overall best. A family
        not yet tried counts as matching the leader at `UNPROBED_COST_FACTOR` times the
        costliest family so far, so it is reached once the cheaper ones stop paying.
        """
        rung0 = [c for c in self.candidates if c.rung == 0 and c.ok]
        if not rung0:
            return None
        leader = max(rung0, key=lambda c: c.signed)
        reach = max(0.01, 2 * leader.score_std if math.isfinite(leader.score_std) else 0.0)
        tunable = [f for f in self.families if f.space(self.data.task)]
        costs = {f.name: float(np.mean([self._cost(c) for c in rung0 if c.family == f.name] or [math.nan]))
                 for f in tunable}
        known = [c for c in costs.values() if math.isfinite(c)] or [1.0]
        cheapest = max(min(known), 1e-9)
        best_utility, choice = -math.inf, None
        for family in tunable:
            if self.stale[family.name] >= self.config.family_patience:
                continue
            tried = any(c.family == family.name for c in self.candidates)
            best = self._family_best(family.name) if tried else leader.signed
            cost = costs[family.name] if tried else UNPROBED_COST_FACTOR * max(known)
            if not math.isfinite(cost) or best < leader.signed - reach:
                continue
            utility = best - self.config.tol * math.log2(max(cost, 1e-9) / cheapest)
            if utility > best_utility:
                best_utility, choice = utility, family
        return choice

    # ---- results --------------------------------------------------------------------------
    def best(self) -> Candidate | None:
        ok = [c for c in self.candidates if c.ok]
        if not ok:
            return None
        top_rung = max(c.rung for c in ok)
        # Ties go to the earlier candidate, the cheaper by cost order: deterministic, unlike joules.
        return max((c for c in ok if c.rung == top_rung), key=lambda c: (c.signed, -c.trial))

    def select(self) -> Candidate | None:
        """'best' score at the highest rung, or 'simplest': least inference energy within 1 SE."""
        best = self.best()
        if best is None or self.config.selection == "best":
            return best
        se = best.standard_error
        near = [c for c in self.candidates if c.ok and c.rung == best.rung and c.signed >= best.signed - se]
        return min(near, key=lambda c: (self._predict_cost(c), -c.signed))

    def _predict_cost(self, candidate: Candidate) -> float:
        """Inference energy for `simplest`; candidates at one rung predict the same rows."""
        if self.config.decision_energy == "estimated":
            return candidate.estimated_predict_joules
        return candidate.evaluation.predict_joules / max(candidate.evaluation.predicted_rows, 1)


def _failed_state():
    import optuna

    return optuna.trial.TrialState.FAIL
