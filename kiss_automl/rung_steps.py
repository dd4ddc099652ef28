"""The search's steps on more rows (successive halving): promote the best configurations to
larger rungs, one alone while its rows still pay, and grow the capacity of the best booster
on all the rows while they do. A mixin of search.Search, whose loop (submit, settle, drain,
budgets) these methods drive; kept apart so that search.py stays the loop itself.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from . import stopping
from .families import Family

if TYPE_CHECKING:
    from .search import Candidate

logger = logging.getLogger("kiss_automl.search")  # its notes are the search's (cli's note loggers)

# Upper bound on boosting rounds when a configuration is promoted to more rows.
MAX_PROMOTED_ROUNDS = 4096
# Capacity steps (Search._grow) after promotion; each roughly quadruples a candidate's energy.
MAX_GROWTH_STEPS = 3
# A configuration more than this many standard errors (of the leader's score) behind its rung's
# leader is not promoted: on the same validation rows it is clearly the worse, and the next rung
# costs it several times all it has cost so far. Rankings do turn over between rungs: on
# california one 2.35 standard errors behind on 4,000 rows became the best on all of them, so
# the reach is 3 (benchmarks/SEARCH_CHANGE_REACH.md).
PROMOTION_REACH_SE = 3.0
# Doublings of estimated cost over the cheapest configuration that a trailer's promotion does
# not pay for (`_worth_their_cost`): within them the cost model cannot tell costs apart.
COST_DOUBLINGS_FREE = 1.0


class RungSteps:
    """Steps of Search on more rows; `self` is the Search (its plan, candidates, loop)."""

    def _promote(self) -> None:
        """Successive halving on rows: re-evaluate the best configurations on larger rungs, those
        within reach of the rung's leader (`_within_reach`). Once one configuration is left it
        goes up alone, and only while its last step up in rows paid (`_rows_paid`): the optimum
        of large data is only seen on many rows."""
        keep = self.config.promote_top
        for rung in range(1, len(self.plan.rungs)):
            pool = sorted((c for c in self.candidates if c.rung == rung - 1 and c.ok),
                          key=lambda c: (-c.signed, c.trial))
            growth = self.plan.rungs[rung] / self.plan.rungs[rung - 1]
            best = distinct_configs(self._worth_their_cost(pool, growth), keep)
            if not best or (rung > 1 and len(best) == 1 and not self._rows_paid(best[0])):
                return
            chosen = self._within_reach(best)  # the leader goes on as before; only its trailers are cut
            self.on_event("phase", phase="promote", rung=rung)
            for previous in chosen:
                self._check_budgets()
                if self._outlasts_trial_timeout(previous, rung):
                    continue
                family = self._family(previous.family)
                self._submit(family, self._scaled_rounds(family, dict(previous.search_params), rung), rung=rung,
                             phase="promoted")
                self._settle()
            self._drain()  # the next rung chooses from all of this one
            keep = max(1, keep // self.config.promote_eta)

    def _worth_their_cost(self, pool: list[Candidate], growth: float) -> list[Candidate]:
        """`pool` (best first) with the leader first and the others by their score less `tol`
        per doubling of their cost on the next rung (`_cost_on_next_rung`, its rows `growth`
        times these) over twice the cheapest's within reach of the leader (`promotion_reach`;
        a baseline far behind is no yardstick): a trailer several times costlier than another
        must lead it by more than the plateau rule's price of that energy. The first doubling
        is free: the fit forecast built on the cost model came within 2x of the meter on 16 of
        22 suite datasets (benchmarks/ESTIMATE.md)."""
        if len(pool) < 2:
            return pool
        costs = {c.trial: max(self._cost_on_next_rung(c, growth), 1e-12) for c in pool}
        reach = promotion_reach(self.config.tol, pool[0])
        cheapest = min(costs[c.trial] for c in pool if pool[0].signed - c.signed <= reach)

        def worth(c: Candidate) -> float:
            doublings = math.log2(costs[c.trial] / cheapest)
            return c.signed - self.config.tol * max(0.0, doublings - COST_DOUBLINGS_FREE)

        return [pool[0]] + sorted(pool[1:], key=lambda c: (-worth(c), c.trial))

    def _cost_on_next_rung(self, candidate: Candidate, growth: float) -> float:
        """`candidate`'s cost as the next rung will see it, against others of its rung: a
        booster that early stopping did not stop had not found its number of rounds, and there
        its cap grows with the rows (`_scaled_rounds`), so its rounds are counted to grow too.
        On 100,000 rows an XGBoost of depth 3 that ran to its cap on 16,000 rows was promoted
        as the cheaper one and needed 4x the rounds on all of them (benchmarks/SCALE.md)."""
        family = self._family(candidate.family)
        patience = self.config.early_stopping_rounds
        capped = self.plan.mode == "holdout" and ran_to_its_cap(family, candidate, patience)
        return self._cost(candidate) * (growth if capped else 1.0)

    def _within_reach(self, chosen: list[Candidate]) -> list[Candidate]:
        """`chosen` (best first) less those more than PROMOTION_REACH_SE of the leader's standard
        errors behind it, or `tol` when that is larger, as the noise-aware tolerance reads it."""
        if not chosen:
            return chosen
        leader = chosen[0]
        reach = promotion_reach(self.config.tol, leader)
        kept = [c for c in chosen if leader.signed - c.signed <= reach]
        if len(kept) < len(chosen):
            logger.debug("Not promoted, more than %.4g behind trial %d: %d configuration(s)", reach, leader.trial,
                         len(chosen) - len(kept))
        return kept

    def _outlasts_trial_timeout(self, candidate: Candidate, rung: int) -> bool:
        """Whether `candidate`'s configuration is expected to run past the trial timeout on
        `rung` (`stopping.promotion_seconds`). Then it is not started: it would burn the whole
        timeout and leave no model (on 1M rows, a 256k-row XGBoost did: 1,200 J of a 3,171 J
        fit). A note says so, and how to let it run."""
        timeout = self.config.trial_timeout
        if timeout is None:
            return False
        below = self._same_config(candidate, candidate.rung - 1)
        expected = stopping.promotion_seconds(_seconds(candidate), _seconds(below) if below else None,
                                              self.plan.rungs[rung] / self.plan.rungs[candidate.rung])
        if expected <= timeout:
            return False
        note = (f"{candidate.family} (trial {candidate.trial}) was not promoted to {self.plan.rungs[rung]:,} rows: "
                f"~{expected:.0f} s expected there, past the {timeout:g} s trial timeout; "
                "raise trial_timeout to let it run")
        logger.info(note)
        self.notes.append(note)
        return True

    def _same_config(self, candidate: Candidate, rung: int) -> Candidate | None:
        """The run of `candidate`'s configuration on `rung`: the same family and parameters but
        the rounds' cap, which grows with the rows."""
        if rung < 0:
            return None
        rounds = self._family(candidate.family).rounds_param

        def key(c: Candidate) -> dict:
            return {k: v for k, v in c.search_params.items() if k != rounds}

        return next((c for c in self.candidates if c.rung == rung and c.ok and c.family == candidate.family
                     and key(c) == key(candidate)), None)

    def _rows_paid(self, candidate: Candidate) -> bool:
        """Whether `candidate` beat its family's best on the rung below by more than the
        tolerance per doubling of rows (a candidate's energy grows about as its rows do)."""
        if candidate.rung == 0:
            return True
        below = self._family_best(candidate.family, rung=candidate.rung - 1)
        doublings = math.log2(self.plan.rungs[candidate.rung] / self.plan.rungs[candidate.rung - 1])
        return candidate.signed - below > self.noise_tol() * max(1.0, doublings)

    def _grow(self) -> None:
        """Capacity where rows still pay. Tuning judged capacity on the first rung's rows, but
        the optimum moves with the rows: more leaves and a slower rate pay only with many. When
        the best configuration, on all the rows, still gained from its last step up in rows
        (`_rows_paid`), bigger trees with a slower rate (`Family.grow`) are tried there. A step
        is kept only while its gain beats the tolerance per doubling of energy, as the plateau
        rule asks of every candidate."""
        top = len(self.plan.rungs) - 1
        current = self.best()
        if top == 0 or current is None or current.rung != top:
            return
        family = self._family(current.family)
        if family.grow is None or not self._rows_paid(current):
            return  # the learning curve has flattened: more capacity would not pay either
        tol = self.noise_tol()
        self.on_event("phase", phase="grow", rung=top)
        for _ in range(MAX_GROWTH_STEPS):
            params = family.grow(current.params)  # params hold the rounds actually used
            if params is None:
                return
            self._check_budgets()
            self._check_next_fits(family, params)
            self._submit(family, params, rung=top, phase="grown")
            self._drain()
            grown = self.candidates[-1]
            doublings = math.log2(max(self._cost(grown), 1e-12) / max(self._cost(current), 1e-12))
            if not grown.ok or grown.signed <= current.signed + tol * max(1.0, doublings):
                return
            current = grown

    def refit_skipped(self, chosen: Candidate) -> str | None:
        """Why `chosen`'s own model, trained on its rung's rows, is kept as the fit instead of a
        refit on all the rows; None when the refit is to run. The refit is one more step up in
        rows, and pays as any step must: by more than `tol` per doubling of the energy spent
        (`stopping.refit_asks`). What it would gain is read off the configuration's own last
        step up (`stopping.refit_gain`): on a flat curve the held-out rows add little, and the
        refit costs as much as the candidate again (fars: a third of the fit)."""
        if chosen.evaluation.model is None or self.config.refit != "auto":
            return None
        below = self._same_config(chosen, chosen.rung - 1)
        if below is None:  # e.g. a grown configuration: no curve of its own to read
            return None
        rows, rows_all = self.plan.rungs[chosen.rung], len(self.data.y)
        gain = stopping.refit_gain(chosen.signed, below.signed, rows / self.plan.rungs[below.rung], rows_all / rows)
        refit_joules = self._cost(chosen) * rows_all / rows
        # `tol`, the user's price of a doubling of energy, not the noise-aware tolerance: no
        # score is compared here, the gain is a forecast (with the noise's, adult lost 0.12 points).
        asked = stopping.refit_asks(self.config.tol, self.decision_joules, refit_joules)
        if gain >= asked:
            return None
        measured = chosen.evaluation.fit_joules * rows_all / rows
        return (f"Not refit on all {rows_all:,} rows: {chosen.family} gained {chosen.signed - below.signed:+.4f} from "
                f"{self.plan.rungs[below.rung]:,} to {rows:,} rows, so the {rows_all - rows:,} held-out rows would add "
                f"~{gain:.4f}, less than the {asked:.4f} the plateau rule asks for a refit's energy (~{measured:.0f} J); "
                f"the model is the one trained on {rows:,} rows, whose held-out score is reported (`refit: always` "
                "refits)")

    def _scaled_rounds(self, family: Family, params: dict, rung: int) -> dict:
        """More rows support more boosting rounds: the cap grows with the rung's rows, and
        early stopping on the validation rows still decides how many are used."""
        if family.early_stopping is None or family.rounds_param not in params:
            return params
        growth = self.plan.rungs[rung] / self.plan.rungs[rung - 1]  # search_params already grew before
        return {**params, family.rounds_param: int(min(MAX_PROMOTED_ROUNDS, params[family.rounds_param] * growth))}


def promotion_reach(tol: float, leader: Candidate) -> float:
    """How far behind its rung's leader a configuration may be and still go up."""
    return max(tol, PROMOTION_REACH_SE * leader.standard_error)


def ran_to_its_cap(family: Family, candidate: Candidate, patience: int) -> bool:
    """Whether early stopping let `candidate` train all the rounds its configuration allowed:
    its best round came within `patience` of the cap, so nothing stopped it."""
    if family.early_stopping is None or family.rounds_param not in candidate.search_params:
        return False
    cap = candidate.search_params[family.rounds_param]
    return candidate.params.get(family.rounds_param, cap) + patience > cap


def _seconds(candidate: Candidate) -> float:
    """The wall seconds the trial timeout counts: the candidate's fits and predictions."""
    return candidate.evaluation.fit_seconds + candidate.evaluation.predict_seconds


def distinct_configs(pool: list[Candidate], k: int) -> list[Candidate]:
    """The first `k` candidates with different (family, params)."""
    seen, out = set(), []
    for c in pool:
        key = (c.family, repr(sorted(c.search_params.items())))
        if key not in seen:
            seen.add(key)
            out.append(c)
        if len(out) == k:
            break
    return out
