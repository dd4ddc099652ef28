"""The search's free-text steps (the rules are in steps.py): weigh the text on one family's
start, and try sentence embeddings after the TF-IDF search. A mixin of search.Search, whose
loop (submit, settle, drain, tune) these methods drive; kept apart so that search.py stays
the loop itself.
"""

from __future__ import annotations

import math

from .. import cost_model, stopping
from ..families import BuildContext, Family
from ..rung_steps import distinct_configs
from . import EMBED_PREFIX, NO_TEXT, TEXT_PARAM, TFIDF, steps as text_steps


class TextSteps:
    """Free-text steps of Search; `self` is the Search (its text record, candidates, loop)."""

    def _text_judge(self) -> Family | None:
        """The family whose start is run without the text too: the cheapest that takes the
        text as a score (a tree family). Linear models judge it badly: on bird_strikes, with
        10,000 sparse TF-IDF columns on 4,000 rows, the linear start gained no more than the
        noise from the text on two seeds of three, where the search with the text on trees
        gained 3 points (benchmarks/TEXT.md)."""
        probed = [f for f in self.families if f.probe_first and f.text_input != "none"]
        return next((f for f in probed if f.text_input == "score"), probed[0] if probed else None)

    def _weigh_text(self, family: Family) -> None:
        """The family's first start without the text: if the text does not pay, leave it out."""
        start = dict(family.start_configs(self.data.task)[0])
        others = self.data.numeric or self.data.categorical
        if others:  # with text alone, "without" is the baseline: nothing to fit
            self._submit(family, {**start, TEXT_PARAM: NO_TEXT}, rung=0, phase="start")
        self._drain()
        runs = [c for c in self.candidates if c.rung == 0 and c.ok]
        with_text = next((c for c in runs if c.family == family.name and c.params.get(TEXT_PARAM) == TFIDF), None)
        without = next((c for c in runs if c.params.get(TEXT_PARAM) == NO_TEXT and
                        (c.family == family.name or not others)), None)
        if with_text is None or without is None:
            return
        record, tol = self.text, self.noise_tol()
        record.with_text, record.without_text, record.tolerance = with_text.score, without.score, tol
        record.pays = text_steps.text_pays(with_text.signed, without.signed, tol)
        scored = (f"{with_text.family} scored {with_text.score:.4g} with it, {without.family} "
                  f"{without.score:.4g} without")
        if record.pays:
            record.notes.append(f"Text ({', '.join(record.columns)}) pays on TF-IDF: {scored}")
        else:
            record.view = NO_TEXT
            record.notes.append(f"Text ({', '.join(record.columns)}) left out after the probe: {scored}, "
                                f"a gain within the tolerance {tol:.3g}")

    def _embed_after(self, stop):
        """Sentence embeddings after the TF-IDF search, when the text paid and they are worth
        their energy (text/steps.py); tuning goes on with them when they beat the best."""
        from . import encoder

        try:
            if stop.reason not in ("plateau", "search_exhausted"):
                self.text.embeddings = f"not tried: the search stopped on its {stop.reason}"
                return stop
            return self._try_embeddings(stop)
        finally:
            self.text.notes.append(f"Sentence embeddings {self.text.embeddings}")
            if not encoder.extra_installed():
                self.text.notes.append("Text went as far as TF-IDF; for sentence embeddings, "
                                       "pip install 'kiss-automl[text]'")

    def _try_embeddings(self, stop):
        from ..search import StopSearch, _quiet_optuna  # search.py imports this module

        record = self.text
        estimate = cost_model.embedding_joules(self.data.X.shape[0], self.text_chars)
        record.embedding_estimate_j = estimate
        refused = text_steps.embeddings_refused(self.config.text_embeddings, record.pays, estimate,
                                                self.decision_joules)
        if refused is None:
            refused = self._embeddings_unavailable() or self._overruns(estimate)
        if refused:
            record.embeddings = refused
            return stop
        view = EMBED_PREFIX + (self.data.text_model or "all-MiniLM-L6-v2")
        best_before = self.best().signed if self.best() else -math.inf
        pool = sorted((c for c in self.candidates if c.ok and c.rung == 0 and c.params.get(TEXT_PARAM) == record.view
                       and c.family != "baseline"), key=lambda c: (-c.signed, c.trial))
        try:
            with _quiet_optuna():
                for previous in distinct_configs(pool, text_steps.EMBED_TRIES):
                    self._check_budgets()
                    family = self._family(previous.family)
                    self._submit(family, {**previous.search_params, TEXT_PARAM: view}, rung=0, phase="tuned")
                    self._settle()
                self._drain()
                embedded = [c.signed for c in self.candidates if c.ok and c.params.get(TEXT_PARAM) == view]
                gain = max(embedded, default=-math.inf) - best_before
                if gain <= self.noise_tol():
                    record.embeddings = (f"tried on {len(embedded)} configuration(s): best gain {gain:+.4g}, within "
                                         f"the tolerance {self.noise_tol():.3g}; TF-IDF kept")
                    return stop
                record.embeddings, record.view = f"tried: gain {gain:+.4g}; tuning went on with them", view
                self.stale = {name: 0 for name in self.stale}
                self._tune()
        except StopSearch as rule:
            self._drain()
            return rule
        return stop

    def _embeddings_unavailable(self) -> str | None:
        """Why the sentence encoder cannot be had (said once in the notes), or None."""
        from ..evaluation import text_encoder
        from . import encoder

        if not encoder.extra_installed():
            return "not tried: the text extra is not installed"
        try:
            text_encoder(self.data, BuildContext(self.data.task, self.seed, device=self.config.device))
        except encoder.EncoderUnavailable as exc:
            return f"not tried: {exc}"
        return None

    def _overruns(self, estimate: float) -> str | None:
        if self.budgets.joules is None and self.budgets.co2_g is None:
            return None
        reason = stopping.next_trial_overruns(self.budgets, self.joules, estimate, self.grams_per_joule)
        return f"not tried: their estimated {estimate:.3g} J would overrun the {reason}" if reason else None

