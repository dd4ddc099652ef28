"""What runs on a Dask worker: one candidate, measured there with the worker's own meter.

The data and the split plan arrive once per worker (scattered by the driver); a task carries
only its Job. The result says where it ran and how its energy was read.
"""

from __future__ import annotations

import os
import socket
import time
import warnings

from ..evaluation import evaluate
from ..runner import Job, RunResult
from .worker_meter import worker_meter


def run_candidate(job: Job, shared) -> RunResult:
    """Evaluate `job` on this worker; `shared` is the scattered (Task, EvalPlan)."""
    from distributed import get_worker
    from threadpoolctl import threadpool_limits

    from ..engine import task_decided

    data, plan = shared
    worker = get_worker()
    threads = int(getattr(worker.state, "nthreads", 1) or 1)
    meter = worker_meter(threads, job.family.uses_gpu)
    started, wall0 = time.time(), time.perf_counter()
    # One thread per model, as on the driver: parallelism is across candidates.
    with threadpool_limits(limits=1), task_decided(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation = evaluate(job.family, job.params, data, plan, job.rung, job.context, meter,
                              job.early_stopping_rounds, timeout=job.timeout, n_jobs=1, keep_model=job.keep_model)
    return RunResult(evaluation, {"host": socket.gethostname(), "worker": worker.address, "pid": os.getpid(),
                                  "method": meter.method, "scope": meter.scope, "started": started,
                                  "wall_s": time.perf_counter() - wall0})


def process_figures() -> dict:
    """This worker process's CPU-seconds since it started, and how to turn them into joules:
    read at the start and end of a fit, their difference less the candidates is the idle share."""
    from .worker_meter import watts_per_core

    return {"host": socket.gethostname(), "pid": os.getpid(), "cpu_s": time.process_time(),
            "watts_per_core": watts_per_core()}


def cpu_since(start: dict | None, end: dict) -> float:
    """A worker's CPU-seconds between two `process_figures` readings; a worker that restarted
    in between (another process), or one with no reading at the start, counts from its own start."""
    same = start is not None and start["pid"] == end["pid"]
    return end["cpu_s"] - (start["cpu_s"] if same else 0.0)
