"""Where candidates run: the search hands a runner jobs and takes their results back in the
order it submitted them; it never asks where they ran (this process, a forked worker, a Dask
task on another machine: kiss_automl/cluster/).

A runner has `slots` (how many candidates it runs at once), `submit(job) -> handle`,
`collect(handle) -> RunResult` (blocks), `cancel(handles)` and `close()`. The default one,
in this process, is search.LocalRunner; kiss_automl/cluster/ has the Dask one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .evaluation import Evaluation
from .families import BuildContext, Family

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


@dataclass
class RunResult:
    """A job's evaluation and where it ran: empty `placement` means this process; a cluster
    task fills host, worker, pid and how its energy was measured (method, scope)."""

    evaluation: Evaluation
    placement: dict[str, Any] = field(default_factory=dict)
