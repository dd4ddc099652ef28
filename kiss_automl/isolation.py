"""Run one call in a forked worker process, so that a call that runs out of memory, kills the
interpreter or hangs inside C code costs its own result and not the whole search.

A fork shares the parent's data copy-on-write: nothing is pickled on the way in, only the
result on the way out (about 7 ms of CPU per call on a 400 MB process here). The worker's
CPU time reaches the parent's `RUSAGE_CHILDREN` when it is reaped, so a CPU-time meter read
around `call_in_worker` counts it, even when the worker was killed.

Call it under a one-thread OpenMP limit (the engine does): a worker that opens a parallel
region as wide as its parent's earlier ones waits forever for threads the fork left behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from typing import Callable, TypeVar

from .errors import one_line

T = TypeVar("T")
logger = logging.getLogger(__name__)
# `isolation: auto` forks from this many cells (rows x columns) up: below it a candidate
# costs tens of milliseconds and the ~10 ms fork would be a visible share of its energy.
AUTO_MIN_CELLS = 1_000_000
_POLL_SECONDS = 0.05
_GIB = 1024.0**3


class WorkerFailed(Exception):
    """The worker did not return a result; the message says why, for a leaderboard row."""

    def __init__(self, message: str, status: str = "failed"):
        super().__init__(message)
        self.status = status  # "failed" or "timeout"


def available() -> bool:
    """Forking is safe for these libraries on Linux only (macOS frameworks are not fork-safe)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def wanted(mode: str, cells: int, memory_limit: float | None = None) -> bool:
    """Whether candidates run in workers, for the `isolation` setting and the data's size
    (`auto` also isolates whenever a memory limit is set: only a worker can enforce it)."""
    if mode == "none" or (mode == "auto" and cells < AUTO_MIN_CELLS and memory_limit is None):
        return False
    if not available():
        if mode == "process" or memory_limit is not None:
            logger.warning("isolation needs Linux (fork): candidates run in this process, without a memory limit")
        return False
    return True


def call_in_worker(fn: Callable[[], T], timeout: float | None = None, memory_limit_gib: float | None = None) -> T:
    """`fn()` run in a forked child; its return value comes back pickled.

    Raises WorkerFailed when the child raises, is killed (by the kernel's out-of-memory
    killer, say), passes `memory_limit_gib` of resident memory (it is then killed), or is
    still running after `timeout` seconds (killed; status 'timeout').
    """
    read_fd, write_fd = os.pipe()
    held = _HeldSignals()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns on forking a threaded process; the worker touches no other thread's locks.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        held.release()
        raise
    if pid == 0:  # the worker: never returns
        os.close(read_fd)
        _serve(fn, write_fd)
    os.close(write_fd)
    reaped = False
    try:
        held.release()  # a Ctrl-C that came during the fork is raised here, where the worker is killed
        payload = _collect(pid, read_fd, timeout, memory_limit_gib)
        _, status = os.waitpid(pid, 0)
        reaped = True
    finally:
        os.close(read_fd)
        if not reaped:  # interrupted or over a limit: the worker goes too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        killer = signal.Signals(os.WTERMSIG(status)).name
        hint = " (out of memory?)" if os.WTERMSIG(status) == signal.SIGKILL else ""
        raise WorkerFailed(f"the worker process was killed by {killer}{hint}")
    try:
        outcome, value = pickle.loads(payload)
    except (EOFError, pickle.UnpicklingError, ValueError):  # nothing, or a result cut short
        raise WorkerFailed(f"the worker process exited ({os.WEXITSTATUS(status)}) without a result") from None
    if outcome != "ok":
        raise WorkerFailed(value)
    return value


class _HeldSignals:
    """SIGINT and SIGTERM recorded, not acted on, until `release`.

    Python runs a signal's handler at the next bytecode, which may be inside one of
    os.fork()'s at-fork hooks (logging's lock release, say); an exception raised there is
    printed as "ignored" and lost, and the search would run on after a Ctrl-C. Held over the
    fork, a signal is delivered once the parent is inside the block that kills the worker.
    Only the main thread may set handlers, and a handler not set from Python could not be put
    back: in those cases nothing is held.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.previous: dict[int, object] = {}
        python_handlers = all(signal.getsignal(sig) is not None for sig in self._SIGNALS)
        if python_handlers and threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._record) for sig in self._SIGNALS}

    def _record(self, signum: int, frame: object) -> None:
        self.caught.append(signum)

    def release(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}
        for sig in dict.fromkeys(self.caught):  # each once, in the order they came
            signal.raise_signal(sig)


def _serve(fn: Callable[[], object], write_fd: int) -> None:
    code = 0
    try:
        _become_worker()
        payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as text
        payload = pickle.dumps(("error", one_line(exc)))
        code = 1
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _become_worker() -> None:
    # Ctrl-C reaches the whole process group; the parent decides and kills the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The parent's console and logging locks may have been held by another thread at the
    # fork: the worker writes nothing; its failures come back in its result.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    # Be the first choice of the kernel's out-of-memory killer, not the search.
    with contextlib.suppress(OSError):
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")


def _collect(pid: int, read_fd: int, timeout: float | None, memory_limit_gib: float | None) -> bytes:
    """Read the worker's result until end of file, killing it past the time or memory limit."""
    started = time.monotonic()
    chunks = []
    while True:
        ready, _, _ = select.select([read_fd], [], [], _POLL_SECONDS)
        if ready:
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            continue
        if timeout is not None and time.monotonic() - started > timeout:
            raise WorkerFailed(f"over the {timeout:g}s trial timeout (the worker was killed)", status="timeout")
        if memory_limit_gib is not None:
            rss = _resident_bytes(pid)
            if rss > memory_limit_gib * _GIB:
                raise WorkerFailed(f"out of memory: the worker passed the {memory_limit_gib:g} GiB memory limit "
                                   f"({rss / _GIB:.2f} GiB resident) and was killed")


def _resident_bytes(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return float(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0.0
