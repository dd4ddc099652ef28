"""DaskRunner: the search's runner (runner.py) on a Dask cluster.

The driver keeps the study; a task carries one Job, the data is scattered to every worker
once. Results come back in submission order (the search collects the oldest first). A
worker that dies under a candidate, or a candidate stuck past the trial timeout, becomes a
row; a scheduler that disappears raises ClusterLost.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..errors import one_line
from ..evaluation import EvalPlan, Evaluation, Task, _hard_deadline
from ..runner import ClusterLost, Job, RunResult
from .connect import Connection
from .task import cpu_since, process_figures, run_candidate

logger = logging.getLogger(__name__)
_POLL_S = 0.2
# A task still waiting for a worker at its deadline gets this many more deadlines, each from then.
_MAX_WAIT_EXTENSIONS = 3


@dataclass
class _Handle:
    future: Any
    job: Job
    submitted: float  # time.monotonic()
    index: int
    done: threading.Event
    retried: int = 0


class DaskRunner:
    """Candidates as Dask tasks, up to the window the search keeps in flight."""

    def __init__(self, connection: Connection, data: Task, plan: EvalPlan):
        self.connection, self.client = connection, connection.client
        self.driver_cpu0 = time.process_time()
        try:
            self.slots = max(1, sum(self.client.nthreads().values()))
            # Once, to every worker: a task then carries only its Job (a few hundred bytes).
            self.shared = self._scatter((data, plan))
            self.workers_at_start = self._worker_figures()
        except BaseException:  # whatever failed (scatter, figures, a Ctrl-C): the cluster is closed, then re-raised
            connection.close()
            raise
        self.window = self.slots
        self.submitted = 0
        self.watts = max([f["watts_per_core"] for f in self.workers_at_start.values()] or [4.0])
        self.lost_cpu_s = 0.0  # tasks whose worker died or hung: charged by wall time
        self.outstanding: dict[int, _Handle] = {}
        self.data_plan = (data, plan)

    # ---- the runner interface ------------------------------------------------------------
    def submit(self, job: Job) -> _Handle:
        handle = _Handle(None, job, time.monotonic(), self.submitted, threading.Event())
        self.submitted += 1
        self._send(handle)
        self.outstanding[handle.index] = handle
        return handle

    def _send(self, handle: _Handle) -> None:
        key = f"kiss-{handle.job.family.name}-{uuid.uuid4().hex[:12]}"
        # Earlier submissions first: the search collects them in that order.
        handle.future = self.client.submit(run_candidate, handle.job, self.shared, key=key, pure=False, retries=0,
                                           priority=-handle.index)
        handle.done = done = threading.Event()
        handle.future.add_done_callback(lambda _: done.set())  # finished, erred or cancelled

    def collect(self, handle: _Handle) -> RunResult:
        try:
            return self._collect(handle)
        finally:
            self.outstanding.pop(handle.index, None)

    def _collect(self, handle: _Handle) -> RunResult:
        deadline, extensions = self._deadline(handle), 0
        while True:
            handle.done.wait(_POLL_S)
            future = handle.future
            status = future.status
            if status == "finished":
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - the connection went while fetching it
                    self._check_alive(exc)
                    return self._lost(handle, f"its result could not be fetched: {one_line(exc)}")
                future.release()
                return result
            if status == "error":
                return self._lost(handle, self._reason(future.exception()))
            if self.client.status not in ("running", "connecting"):
                raise ClusterLost(f"the Dask scheduler at {self.connection.address} is gone")
            if status in ("cancelled", "lost") and self._settled_running():
                # Not ours: the scheduler dropped it, most often because every worker holding the
                # scattered data went at once (a restart): scatter again and send what was dropped.
                if handle.retried >= 2:
                    return self._lost(handle, "the cluster dropped it twice (its workers were lost)")
                self._resend_dropped()
                continue
            if status == "cancelled":
                raise ClusterLost(f"the Dask scheduler at {self.connection.address} is gone")
            if self.client.status == "connecting":
                self._wait_reconnect()
            if deadline is not None and time.monotonic() > deadline:
                if extensions < _MAX_WAIT_EXTENSIONS and self._waiting_for_a_worker(handle):
                    extensions += 1  # e.g. behind a worker that is restarting; bounded: none may come
                    deadline = time.monotonic() + _hard_deadline(handle.job.timeout)
                    continue
                return self._timed_out(handle)

    def cancel(self, handles) -> None:
        """Ctrl-C or a lost cluster: the tasks are cancelled (a local cluster is closed next,
        which stops them; on a shared one a running fold finishes on its worker)."""
        with contextlib.suppress(Exception):
            self.client.cancel([h.future for h in handles], force=True)

    def close(self) -> dict:
        """The cluster's figures for run.json (workers' process energy when still reachable);
        a local cluster is shut down, a Client the caller gave is left open."""
        figures = self.figures()
        with contextlib.suppress(Exception):
            if not self.connection.local_cluster and self.client.status == "running":
                self.client.cancel([self.shared], force=True)
        self.connection.close()
        return figures

    # ---- faults ---------------------------------------------------------------------------
    def _deadline(self, handle: _Handle) -> float | None:
        """When the driver gives up on a task its own per-fold check did not stop (stuck in C
        code): the trial timeout's hard deadline, longer when more are in flight than slots."""
        hard = _hard_deadline(handle.job.timeout)
        if hard is None:
            return None
        return handle.submitted + hard * math.ceil(max(self.window, 1) / self.slots)

    def _wait_reconnect(self) -> None:
        """The client lost its scheduler and tries again; past the connect timeout it is gone."""
        from .connect import CONNECT_TIMEOUT_S

        waited = time.monotonic()
        while self.client.status == "connecting":
            if time.monotonic() - waited > CONNECT_TIMEOUT_S:
                raise ClusterLost(f"the Dask scheduler at {self.connection.address} is gone")
            time.sleep(_POLL_S)

    def _scatter(self, data_plan: tuple) -> Any:
        """One future for the pair (a bare tuple would scatter as two)."""
        return self.client.scatter([data_plan], broadcast=True, hash=False)[0]

    def _settled_running(self) -> bool:
        """Whether the client is still connected a moment after a task was dropped (a lost
        scheduler cancels every task just after it marks the client as reconnecting)."""
        time.sleep(_POLL_S)
        return self.client.status == "running"

    def _resend_dropped(self) -> None:
        if self.shared.status != "finished":
            logger.warning("The cluster lost the scattered data; scattering it again")
            self.shared = self._scatter(self.data_plan)
        for handle in self.outstanding.values():
            if handle.future.status in ("cancelled", "lost"):
                handle.retried += 1
                self._send(handle)

    def _check_alive(self, exc: BaseException) -> None:
        if self.client.status not in ("running",):
            raise ClusterLost(f"the Dask scheduler at {self.connection.address} is gone ({one_line(exc, 120)})")

    def _reason(self, exc: BaseException | None) -> str:
        from distributed.scheduler import KilledWorker

        if isinstance(exc, KilledWorker):
            worker = getattr(getattr(exc, "last_worker", None), "address", "a worker")
            return f"its Dask worker ({worker}) died: killed, out of memory or lost from the network"
        return one_line(exc) if exc is not None else "the task failed"

    def _lost(self, handle: _Handle, reason: str, status: str = "failed") -> RunResult:
        """A row for a candidate that returned nothing; its energy is bounded by its wall time
        at one core (a task is single-threaded): its meter's reading died with it."""
        seconds = time.monotonic() - handle.submitted
        self.lost_cpu_s += seconds
        logger.warning("%s: %s", handle.job.family.name, reason)
        with contextlib.suppress(Exception):
            handle.future.release()
        evaluation = Evaluation(fit_joules=seconds * self.watts, fit_cpu_s=seconds, fit_seconds=seconds,
                                status=status, error=reason)
        return RunResult(evaluation, {"host": "unknown", "worker": "", "pid": None,
                                      "method": f"wall-time bound (W/core={self.watts:.3g}): no reading came back",
                                      "scope": "process", "started": None, "wall_s": seconds})

    def _waiting_for_a_worker(self, handle: _Handle) -> bool:
        """The task has not started: no worker is processing it. Its deadline counts from its
        submission, on the assumption of a free slot; a worker lost to an earlier candidate
        (restarting) leaves fewer. When unsure, it is not waiting."""
        try:
            return not any(handle.future.key in keys for keys in self.client.processing().values())
        except Exception:  # noqa: BLE001 - the scheduler is unreachable: the timeout stands
            return False

    def _timed_out(self, handle: _Handle) -> RunResult:
        """Past the hard deadline: cancel the task and restart the worker that runs it. The
        worker is asked for before the row releases the future, which can drop the task from
        the scheduler's view."""
        try:
            workers = [w for w, keys in self.client.processing().items() if handle.future.key in keys]
        except Exception:  # noqa: BLE001 - the scheduler is unreachable: nothing to restart
            workers = []
        result = self._lost(handle, f"over the {handle.job.timeout:g}s trial timeout", status="timeout")
        result.evaluation.error += self._restart(handle, workers)
        return result

    def _restart(self, handle: _Handle, workers: list[str]) -> str:
        """What became of the worker that ran a hung task, for its row's error."""
        try:
            self.client.cancel([handle.future], force=True)
            if not workers:
                return ""
            answers = self.client.restart_workers(workers, timeout=60, raise_for_error=False)
        except Exception as exc:  # noqa: BLE001 - said on the row: the worker may still be stuck
            logger.warning("Could not restart the Dask worker of a hung candidate: %s", one_line(exc))
            return f" (its Dask worker could not be restarted: {one_line(exc, 120)})"
        said = set(map(str, answers.values()))
        if said == {"OK"}:
            return " (its Dask worker was restarted)"
        if said == {"removed"}:  # a worker without a nanny is stopped, not restarted
            return " (its Dask worker, which has no nanny, was stopped)"
        return f" (its Dask worker's restart: {', '.join(sorted(said))})"

    # ---- energy ---------------------------------------------------------------------------
    def _worker_figures(self) -> dict:
        return self.client.run(process_figures)

    def figures(self) -> dict:
        """What the cluster cost beyond the candidates' own readings: the workers' processes
        (CPU-time model, each with its machine's constant) and the driver's."""
        try:
            at_end = self._worker_figures() if self.client.status == "running" else None
        except Exception:  # noqa: BLE001 - a lost cluster cannot be read any more
            at_end = None
        local = self.connection.local_cluster is not None
        workers = None
        if at_end is not None:
            workers = {}
            for address, end in at_end.items():
                start = self.workers_at_start.get(address)
                # A worker started during the fit (a restart) counts from its own start.
                # A local cluster's workers are this fit's own: counted from their start-up.
                cpu = cpu_since(None if local else start, end)
                workers[address] = {"host": end["host"], "cpu_s": cpu, "joules": cpu * end["watts_per_core"],
                                    "watts_per_core": end["watts_per_core"]}
        return {"scheduler": self.connection.address, "local": local, "slots": self.slots,
                "workers_started": self.connection.workers_started,
                "driver_cpu_s": time.process_time() - self.driver_cpu0, "workers": workers,
                "lost_tasks_cpu_s": self.lost_cpu_s}
