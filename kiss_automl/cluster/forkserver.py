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
then the workers are spawned and it is left alone.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading

METHOD_KEY = "distributed.worker.multiprocessing-method"
PRELOAD = f"{__package__}.worker_imports"
# A worker that outlived its nanny keeps the server waiting for it; past this the server is killed.
STOP_TIMEOUT_S = 15.0


def _server():
    from multiprocessing import forkserver

    return getattr(forkserver, "_forkserver", None)


_claim_lock = threading.Lock()
_claimed = False


def claim() -> bool:
    """True, once, when this cluster may start the server: the platform forks, this Python's
    server can be stopped, and none runs or is about to (another fit in this process)."""
    global _claimed
    server = _server()
    with _claim_lock:
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


def stop() -> None:
    """Stop the server once its workers have ended, and reap it (see the module's doc); the
    next cluster may then claim one."""
    global _claimed
    server = _server()
    pid = getattr(server, "_forkserver_pid", None)
    _claimed = False
    if pid is None:
        return
    stopper = threading.Thread(target=server._stop, name="kiss-automl-forkserver-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_TIMEOUT_S)
    if stopper.is_alive():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        stopper.join(5.0)
