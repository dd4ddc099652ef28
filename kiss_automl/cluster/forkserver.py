"""A `local:N` cluster's workers forked from one server process instead of each spawned.

A spawned worker starts a fresh Python and imports Dask, scikit-learn, pandas, LightGBM and
XGBoost itself: ~7 J per worker here (benchmarks/CLUSTER.md). multiprocessing's forkserver
has them imported once, in one server process, and forks each worker from it. In the
`kiss-automl` command the server is a fork of the command's own process, made once that
process has imported them and before it has started a thread or opened a socket
(`_fork_server`): nothing is imported twice. Elsewhere (a user's program, whose threads and
thread pools a fork would copy) the server is a new interpreter that imports them itself
(worker_imports.py). Either way the server holds none of the threads, locks or sockets of a
running cluster: a fork of the driver taken then was tried and reverted (CLUSTER.md).

The workers are the server's children, not the driver's. Each is reaped by the server before
its nanny (in the driver) learns that it ended; the server itself is stopped and reaped when
the cluster closes, so the fit's meter (the CPU-time model counts reaped children and theirs)
holds every worker as it did when they were spawned.

The server is one per process (multiprocessing's). One already running is someone else's:
then the workers are spawned and it is left alone, unless this fit started it ahead of its
cluster (`warm`, through `ahead_of`): the `fit` command does so before it reads its CSV, the
estimator as its `fit` begins, so that a new interpreter's imports run on another core
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
# Libraries that only the MLP family or text embeddings use cost more to import than most fits
# spend in them: a worker that needs them imports them itself.
NOT_PRELOADED = frozenset({"torch", "sentence_transformers"})
# A worker that outlived its nanny keeps the server waiting for it; past this the server is killed.
STOP_TIMEOUT_S = 15.0


def _server():
    from multiprocessing import forkserver

    return getattr(forkserver, "_forkserver", None)


_claim_lock = threading.Lock()
_claimed = False
_warm = False  # started by `warm`, for the first cluster to claim
_forked_pid = None  # the server `_fork_server` forked from this process


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
    (the next `claim` takes it). In the `kiss-automl` command's own process (`_forkable`), the
    server is forked from it once it has imported what a worker needs (`_fork_server`): the
    server imports nothing. Elsewhere (a user's program) it is started clean and imports them
    itself (~1 CPU-s), on another core while this process imports and reads its data.
    False, starting nothing, where `claim` would refuse or Dask is not installed.
    `release` ends it if no cluster took it (the fit failed before)."""
    global _warm
    if _warm:  # started ahead already (the command's, then its estimator's)
        return True
    if importlib.util.find_spec("distributed") is None or not claim():
        return False
    try:
        if _forkable():
            import_worker_modules()
            _fork_server(_server())
        else:
            multiprocessing.get_context("forkserver").set_forkserver_preload([PRELOAD])
            _server().ensure_running()
    except Exception:  # noqa: BLE001 - the cluster then starts the server itself, or spawns
        stop()
        return False
    _warm = True
    return True


def _forkable() -> bool:
    """Whether the server may be a fork of this process: the `kiss-automl` command's own
    process, which has run nothing yet (a user's program may have run threads and OpenMP pools
    whose state a fork would copy), on Linux's fork, from the main thread with no other Python
    thread running (a fork of a driver whose cluster threads ran hung a CI run: CLUSTER.md);
    and a multiprocessing whose server `_fork_server` can stand in for: newer ones authenticate
    their clients with a key that it does not set up, and start their server as they do."""
    from .. import process

    return (process.command_line and hasattr(os, "fork") and _server_protocol_known()
            and threading.current_thread() is threading.main_thread() and threading.active_count() == 1)


def _server_protocol_known() -> bool:
    """Whether multiprocessing's server is the one `_fork_server` stands in for: its loop's
    arguments those of Python 3.10-3.13, and no key for its clients (3.14's)."""
    import inspect
    from multiprocessing import forkserver as mp_forkserver

    try:
        arguments = set(inspect.signature(mp_forkserver.main).parameters)
    except (TypeError, ValueError):
        return False
    return (arguments == {"listener_fd", "alive_r", "preload", "main_path", "sys_path"}
            and not hasattr(_server(), "_forkserver_authkey"))


def workers_started() -> str:
    """How a claimed cluster's workers start, for the fit's record."""
    if _forked_pid is not None and _forked_pid == getattr(_server(), "_forkserver_pid", None):
        return "forked from a server forked from the fit's process after its imports"
    return "forked from a server started for the fit"


def worker_modules() -> list[str]:
    """What a worker needs to run candidates, imported once for all workers."""
    from ..families import REGISTRY

    modules = ["distributed", f"{__package__}.task", f"{__package__}.worker_setup", "kiss_automl.engine",
               "kiss_automl.families.lightgbm_models", "sklearn.pipeline"]
    modules += [m for family in REGISTRY.values() for m in family.imports if m not in NOT_PRELOADED]
    return list(dict.fromkeys(modules))


def import_worker_modules() -> None:
    """`worker_modules`, made lean (lean_imports.py): by the command before it forks its server,
    or by a server started as a new interpreter (worker_imports.py); both are ours alone."""
    from ..lean_imports import import_with_gc_paused, skip_scipy_docstring_parsing

    skip_scipy_docstring_parsing()
    for module in worker_modules():
        with contextlib.suppress(Exception):  # fails again, with its reason, where a worker needs it
            import_with_gc_paused([module])


def _fork_server(server) -> None:
    """multiprocessing's `ForkServer.ensure_running` (Python 3.10-3.13), with the server forked
    from this process, which holds the workers' imports, instead of started as a new
    interpreter that imports them again: a `local:N` fit's largest fixed cost (~1.1 CPU-s,
    CLUSTER.md)."""
    global _forked_pid
    import socket
    import sys
    import warnings
    from multiprocessing import connection, resource_tracker, util

    with server._lock:
        resource_tracker.ensure_running()
        if server._forkserver_pid is not None:
            return
    if threading.active_count() != 1:  # an import started a thread: its locks are not to be copied
        raise RuntimeError("a thread is running; the server is started as a new interpreter")
    with socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")
        listener.bind(address)
        if not util.is_abstract_socket_namespace(address):
            os.chmod(address, 0o600)
        listener.listen()
        # Every client holds the write end; when all have closed it, the server exits.
        alive_r, alive_w = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns on forking a threaded process: here only OpenBLAS's and
                # jemalloc's own threads run, which hand their state over at a fork.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except BaseException:
            os.close(alive_r)
            os.close(alive_w)
            raise
        if pid == 0:
            _serve(listener.fileno(), alive_r, alive_w)  # never returns
        os.close(alive_r)
    with server._lock:
        server._forkserver_address = address
        server._forkserver_alive_fd = alive_w
        server._forkserver_pid = pid
    _forked_pid = pid


def _serve(listener_fd: int, alive_r: int, alive_w: int) -> None:
    """The forked server: set up as the spawned one is (worker_imports.py), then multiprocessing's
    own loop, which forks the workers, until every client has closed its end of the pipe."""
    import sys
    import traceback
    from multiprocessing import forkserver as mp_forkserver

    from .connect import WORKER_ENV

    code = 0
    try:
        os.close(alive_w)
        # The workers inherit these as the server's own: Ctrl-C is the driver's.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.update(WORKER_ENV)
        # OpenBLAS and OpenMP read WORKER_ENV when they load, which was in the command, so
        # their pools are narrowed here: one thread in each worker, parallelism is across them.
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        mp_forkserver.main(listener_fd, alive_r, [])
    except SystemExit:  # the loop's end: the clients are gone
        pass
    except BaseException:  # noqa: BLE001 - said on stderr, as a spawned server's traceback is
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)  # none of the command's exit work: its atexit handlers, its buffers


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
    global _claimed, _warm, _forked_pid
    server = _server()
    pid = getattr(server, "_forkserver_pid", None)
    unused, _claimed, _warm, _forked_pid = _warm, False, False, None
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
