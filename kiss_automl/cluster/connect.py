"""Reaching a Dask cluster: an address, a Client the caller holds, or `local:N` (a LocalCluster
of N single-threaded worker processes started for this fit and closed after it)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import KissError, one_line

logger = logging.getLogger(__name__)
EXTRA = "pip install 'kiss-automl[dask]'"
CONNECT_TIMEOUT_S = 20
# One OpenMP/BLAS thread per local worker from its first import: parallelism is across candidates.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
# Dask's housekeeping in a `local:N` cluster's scheduler and workers, set for this fit only:
# the statistical profiler samples the stacks of the threads running tasks each 10 ms, the
# event loop's tick runs every 20 ms and the system monitor every 500 ms, in every process,
# for a dashboard that a fit's cluster does not serve. The nanny's memory monitor (100 ms),
# which enforces `memory_limit`, is left as it is.
QUIET_HOUSEKEEPING = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "500ms",
                      "distributed.admin.system-monitor.interval": "2s",
                      "distributed.admin.system-monitor.disk": False}


def require() -> None:
    """One clear line when the dask extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise KissError(f"a scheduler needs the dask extra, which is not installed: {EXTRA}") from None


@dataclass
class Connection:
    client: Any
    address: str
    owned_client: bool  # made here: closed here
    local_cluster: Any = None  # started here (local:N): its workers are this fit's (grand)children
    forkserver: bool = False  # its workers forked from a server started for it (forkserver.py)
    workers_started: str | None = None  # how a local cluster's workers started, for the record

    def close(self) -> None:
        if self.client.status != "running":
            # A client whose scheduler is gone logs its reconnection's end, from Dask's own
            # thread, whenever it closes: the loss was said once, in one line (search.py).
            logging.getLogger("distributed.client").addFilter(_drop_reconnect_noise)
        with contextlib.suppress(Exception):  # a lost scheduler cannot be told goodbye
            if self.owned_client:
                self.client.close(timeout=5)
        with contextlib.suppress(Exception):
            if self.local_cluster is not None:
                self.local_cluster.close(timeout=10)
        if self.forkserver:
            from . import forkserver

            forkserver.stop()


def _drop_reconnect_noise(record: logging.LogRecord) -> bool:
    import asyncio

    cancelled = record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError)
    return not (cancelled or str(record.msg).startswith("Failed to reconnect to scheduler"))


def connect(scheduler: Any, memory_limit_gib: float | None = None) -> Connection:
    """A client on `scheduler`: 'local:N', an address, or a distributed.Client (used as is)."""
    require()
    import distributed

    if isinstance(scheduler, distributed.Client):
        return Connection(scheduler, str(scheduler.scheduler.address), owned_client=False)
    text = str(scheduler).strip()
    if text.startswith("local:"):
        return _local(int(text[len("local:"):]), memory_limit_gib)
    try:
        client = distributed.Client(text, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise KissError(f"cannot reach the Dask scheduler at {text}: {one_line(exc, 200)}") from None
    return Connection(client, text, owned_client=True)


def _local(workers: int, memory_limit_gib: float | None) -> Connection:
    import dask
    import distributed

    from . import forkserver

    # A candidate whose worker dies is a failed row at once, not retried on the next worker
    # (the scheduler's default, 3 retries, would let one bad candidate kill four workers).
    settings = {"distributed.scheduler.allowed-failures": 0, **QUIET_HOUSEKEEPING}
    # Workers forked from a server that imported what they need once (forkserver.py), not each
    # spawned to import it again; never forked from this process as its cluster runs: they would
    # start with its threads' locks and open sockets, and a CI run hung in lightgbm.dask's port
    # setup with such workers (benchmarks/CLUSTER.md, "Workers forked from the driver":
    # reverted). The command's server is a fork of it taken before any of those existed.
    forked = forkserver.claim()
    if forked:
        settings[forkserver.METHOD_KEY] = "forkserver"
    with dask.config.set(settings), _interrupts_held() as caught:
        if forked:
            forkserver.use()
        cluster = None
        try:
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                worker_dashboard_address=None, silence_logs=logging.ERROR, env=dict(WORKER_ENV),
                preload=[f"{__package__}.worker_setup"],
                memory_limit=f"{memory_limit_gib}GiB" if memory_limit_gib else "auto")
            client = distributed.Client(cluster, set_as_default=False)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                if cluster is not None:
                    cluster.close(timeout=10)
            if forked:
                forkserver.stop()
            if caught:  # the start failed because of the interrupt (a worker got the Ctrl-C too)
                raise KeyboardInterrupt from exc
            raise
    connection = Connection(client, cluster.scheduler_address, owned_client=True, local_cluster=cluster,
                            forkserver=forked, workers_started=forkserver.workers_started() if forked else "spawned")
    if caught:
        connection.close()
        signal.raise_signal(caught[0])  # now, to the handler in place: the command's raises KeyboardInterrupt
        raise KeyboardInterrupt  # a handler that returned: the cluster is closed all the same
    logger.info("Started a local Dask cluster of %d worker process(es) (pid %d)", workers, os.getpid())
    return connection


@contextlib.contextmanager
def _interrupts_held():
    """Ctrl-C or SIGTERM while Dask starts a cluster left it half-started: Dask failed in its
    own threads and again at exit, with tracebacks. In the main thread the first one is held
    (the list yielded) until the start is over (~0.4 s here); the caller then closes the
    cluster and delivers it. A second one is not held: a start that hangs can still be stopped."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    replaced = {}

    def restore() -> None:
        for number, handler in replaced.items():
            signal.signal(number, handler)
        replaced.clear()

    def hold(number, frame) -> None:
        caught.append(number)
        if len(caught) > 1:
            restore()
            signal.raise_signal(number)

    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler not in (signal.SIG_IGN, None):  # one ignored (nohup) stays ignored
            replaced[signum] = handler
            signal.signal(signum, hold)
    try:
        yield caught
    finally:
        restore()
