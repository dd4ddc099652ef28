"""Where candidates run: the search hands a runner jobs and takes their results back in the
order it submitted them; it never asks where they ran (this process, a forked worker, a Dask
task on another machine: kiss_automl/cluster/).

A runner has `slots` (how many candidates it runs at once), `submit(job) -> handle`,
`collect(handle) -> RunResult` (blocks), `cancel(handles)` and `close()`. The default one,
in this process, is LocalRunner below; kiss_automl/cluster/ has the Dask one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .evaluation import EvalPlan, Evaluation, Task, evaluate, evaluate_in_worker
from .families import BuildContext, Family
from .text import EMBED_PREFIX, TEXT_PARAM

logger = logging.getLogger(__name__)


class ClusterLost(Exception):
    """The engine running the candidates is gone (a Dask scheduler that disappeared): the
    search stops with what finished (stop reason `cluster_lost`)."""


@dataclass(frozen=True)
class Job:
    """One candidate to evaluate: everything but the data, which a runner holds once."""

    family: Family
    params: dict
    rung: int
    context: BuildContext
    early_stopping_rounds: int | None
    timeout: float | None = None
    n_jobs: int = 1
    keep_model: bool = False  # return the fitted pipeline (Evaluation.model)


@dataclass
class RunResult:
    """A job's evaluation and where it ran: empty `placement` means this process; a cluster
    task fills host, worker, pid and how its energy was measured (method, scope)."""

    evaluation: Evaluation
    placement: dict[str, Any] = field(default_factory=dict)


class LocalRunner:
    """Candidates in this process (or a forked worker when `isolate`), one at a time.

    Lazy: a job runs when it is collected, so a search with a window of W proposals runs
    here exactly the candidates a cluster with that window runs (see Search).
    """

    slots = 1

    def __init__(self, data: Task, plan: EvalPlan, meter, gpu_meter=None, isolate: bool = False,
                 memory_limit: float | None = None):
        self.data, self.plan, self.meter, self.gpu_meter = data, plan, meter, gpu_meter
        self.isolate, self.memory_limit = isolate, memory_limit

    def submit(self, job: Job) -> Job:
        return job

    def collect(self, job: Job) -> RunResult:
        embeds = str(job.params.get(TEXT_PARAM, "")).startswith(EMBED_PREFIX)  # the encoder may run on a GPU
        on_gpu = (job.family.uses_gpu or embeds) and self.gpu_meter is not None
        meter = self.gpu_meter if on_gpu else self.meter
        if self.isolate and not on_gpu:  # CUDA does not survive a fork: GPU work stays here
            evaluation = evaluate_in_worker(job.family, job.params, self.data, self.plan, job.rung, job.context,
                                            meter, job.early_stopping_rounds, job.timeout, job.n_jobs,
                                            self.memory_limit, job.keep_model)
        else:
            evaluation = evaluate(job.family, job.params, self.data, self.plan, job.rung, job.context, meter,
                                  job.early_stopping_rounds, timeout=job.timeout, n_jobs=job.n_jobs,
                                  keep_model=job.keep_model)
        return RunResult(evaluation)

    def cancel(self, handles) -> None:
        """Nothing runs before it is collected: nothing to stop."""

    def close(self) -> None:
        """Nothing to release."""
