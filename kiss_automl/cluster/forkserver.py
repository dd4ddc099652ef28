"""A `local:N` cluster's workers forked from one server process instead of each spawned.

A spawned worker starts a fresh Python and imports Dask, scikit-learn, pandas, LightGBM and
XGBoost itself: ~7 J per worker here (benchmarks/CLUSTER.md). multiprocessing's forkserver
imports them once (worker_imports.py), in a process started clean for this cluster, and
forks each worker from it. Unlike a fork of the driver (tried and reverted, CLUSTER.md), the
server holds none of the driver's threads, locks or sockets.

The workers are the server's children, not the driver's. Each is reaped by the server before
its nanny (in the driver) learns that it ended; the server itself is stopped and reaped when
the cluster closes, so the fit's meter (the CPU-time model counts reaped children and theirs)
holds every worker as it did when they were spawned.

The server is one per process (multiprocessing's). One already running is someone else's:
then the workers are spawned and it is left alone, unless this fit started it ahead of its
cluster (`warm`, through `ahead_of`): the `fit` command does so before it imports and reads
its CSV, the estimator as its `fit` begins, so that the server's imports run on another core
meanwhile, not while the cluster starts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import signal
import threading
from typing import Iterator

METHOD_KEY = "distributed.worker.multiprocessing-method"
PRELOAD = f"{__package__}.worker_imports"
# A worker that outlived its nanny keeps the server waiting for it; past this the server is killed.
STOP_TIMEOUT_S = 15.0


def _server():
    from multiprocessing import forkserver

    return getattr(forkserver, "_forkserver", None)


_claim_lock = threading.Lock()
_claimed = False
_warm = False  # started by `warm`, for the first cluster to claim


def claim() -> bool:
    """True, once, when this cluster may start the server (or use the one `warm` started): the
    platform forks, this Python's server can be stopped, and none runs or is about to
    (another fit in this process)."""
    global _claimed, _warm
    server = _server()
    with _claim_lock:
        if _warm:
            _warm = False
            return True
        free = ("forkserver" in multiprocessing.get_all_start_methods() and server is not None
                and callable(getattr(server, "_stop", None)) and getattr(server, "_forkserver_pid", 0) is None)
        if free and not _claimed:
            _claimed = True
            return True
    return False


def use() -> None:
    """Inside `dask.config.set({METHOD_KEY: "forkserver"})`, before the cluster starts: the
    server imports what a worker needs (Dask's own list, set the first time it asks for the
    context, is replaced)."""
    from distributed.utils import get_mp_context

    get_mp_context().set_forkserver_preload([PRELOAD])


def warm() -> bool:
    """Start the server now, ahead of the `local:N` cluster that will fork its workers from it
    (the next `claim` takes it): its imports (~1 CPU-s) then run on another core while this
    process imports and reads its data. False, starting nothing, where `claim` would refuse or
    Dask is not installed. `release` ends it if no cluster took it (the fit failed before)."""
    global _warm
    if _warm:  # started ahead already (the command's, then its estimator's)
        return True
    if importlib.util.find_spec("distributed") is None or not claim():
        return False
    try:
        multiprocessing.get_context("forkserver").set_forkserver_preload([PRELOAD])
        _server().ensure_running()
    except Exception:  # noqa: BLE001 - the cluster then starts the server itself, or spawns
        stop()
        return False
    _warm = True
    return True


@contextlib.contextmanager
def ahead_of(scheduler) -> Iterator[None]:
    """Within it, the server of a `local:N` `scheduler` is started ahead (`warm`) and, if no
    cluster took it by the end, stopped (`release`); any other scheduler: nothing."""
    warmed = isinstance(scheduler, str) and scheduler.strip().startswith("local:") and warm()
    try:
        yield
    finally:
        if warmed:
            release()


def release() -> None:
    """Stop the server `warm` started if no cluster took it (the fit ended before its cluster
    started); one that a cluster took is that cluster's to stop, when it closes."""
    if _warm:
        stop()


def stop() -> None:
    """Stop the server once its workers have ended, and reap it (see the module's doc); the
    next cluster may then claim one. A server that no cluster took has no workers: it is
    terminated at once, even mid-import."""
    global _claimed, _warm
    server = _server()
    pid = getattr(server, "_forkserver_pid", None)
    unused, _claimed, _warm = _warm, False, False
    if pid is None:
        return
    if unused:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    stopper = threading.Thread(target=server._stop, name="kiss-automl-forkserver-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_TIMEOUT_S)
    if stopper.is_alive():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        stopper.join(5.0)
