"""Live progress of a fit on the terminal: family, candidates done, best score, joules spent."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from .energy import format_joules


class Progress:
    """An `on_event` callback that draws one status line, and logs a line per candidate.

    On a terminal the status line updates in place; elsewhere (CI logs, pipes) only the
    per-candidate lines are printed.
    """

    def __init__(self, console: Console | None = None):
        # soft_wrap: a log or a pipe (80 columns to rich) gets whole lines, not hard-wrapped ones.
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.live: Live | None = None
        self.family = ""
        self.phase = ""
        self.done = 0
        self.best = ""
        self.joules = 0.0
        self.elapsed = 0.0

    def __call__(self, name: str, **info: Any) -> None:
        handler = getattr(self, f"_on_{name}", None)
        if handler:
            handler(**info)
        if self.live:
            self.live.update(self._status(), refresh=True)  # now, not at the next tick: a fit may follow

    def __enter__(self) -> "Progress":
        if self.console.is_terminal:
            self.live = Live(self._status(), console=self.console, refresh_per_second=8, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.__exit__(*exc)
            self.live = None

    def _status(self) -> Text:
        return Text(f"{self.phase:<8} {self.family:<14} candidates {self.done:>3}  best {self.best:<24} "
                    f"energy {format_joules(self.joules):>10}  {self.elapsed:6.1f}s", style="cyan")

    def _on_start(self, plan, families, **_: Any) -> None:
        how = f"{len(plan.splits)}-fold CV" if plan.mode == "cv" else "holdout"
        rungs = ", ".join(str(r) for r in plan.rungs)
        self.console.print(f"Searching {len(families)} families ({', '.join(families)}); {how}, "
                           f"training rows per rung: {rungs}")

    def _on_phase(self, phase: str, rung: int, **_: Any) -> None:
        self.phase = phase

    def _on_candidate_start(self, family: str, rung: int, phase: str, **_: Any) -> None:
        self.family = f"{family}@{rung}" if rung else family

    def _on_candidate(self, candidate, best, joules: float, elapsed: float, n_done: int, **_: Any) -> None:
        self.done, self.joules, self.elapsed = n_done, joules, elapsed
        if best is not None:
            self.best = f"{best.score:.4f} ({best.family})"
        c = candidate
        score = f"{c.score:.4f}" if math.isfinite(c.score) else c.evaluation.status
        self.console.print(f"  {c.trial:>3} {c.family:<14} rung {c.rung} {score:>8}  "
                           f"{format_joules(c.evaluation.joules):>10}  {c.evaluation.error[:60]}", highlight=False)

    def _on_refit(self, candidate, **_: Any) -> None:
        self.phase, self.family = "refit", candidate.family

    def _on_stop(self, reason: str, **_: Any) -> None:
        self.console.print(f"Stopped: {reason}")
