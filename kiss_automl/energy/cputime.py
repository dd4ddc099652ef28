"""CPU-time energy model: joules = CPU-seconds x watts per core.

This is what codecarbon's "process" tracking mode computes (TDP x process
CPU load / cores), read from counters at the block's edges instead of by a
sampling thread: ``start()`` and ``stop()`` cost a few microseconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import sys
import threading
import time
from typing import Any

from kiss_automl.energy.cpu_power import WATTS_PER_GB, cpu_power
from kiss_automl.energy.reading import Reading
from kiss_automl.errors import ConfigError

logger = logging.getLogger(__name__)

_GB = 1024.0**3
_STATM = "/proc/self/statm"


class _RssReader:
    """Read this process's resident memory (bytes) cheaply.

    ``os.pread`` on a kept-open ``/proc/self/statm`` costs ~1 us, against
    ~6 us for open/read/close and ~10 us for psutil. The file is reopened
    after a fork because the inherited descriptor still shows the parent.
    """

    def __init__(self) -> None:
        self._fd: int | None = None
        self._pid = -1
        self._lock = threading.Lock()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def _open(self) -> int | None:
        with self._lock:
            if self._pid != os.getpid():
                # After a fork the inherited descriptor still shows the parent's
                # memory. Closing the child's copy leaves the parent's open.
                if self._fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(self._fd)
                try:
                    self._fd = os.open(_STATM, os.O_RDONLY)
                except OSError:
                    self._fd = None
                self._pid = os.getpid()
            return self._fd

    def __call__(self) -> float:
        fd = self._fd if self._pid == os.getpid() else self._open()
        if fd is not None:
            try:
                return float(os.pread(fd, 128, 0).split()[1]) * self._page
            except (OSError, IndexError, ValueError):
                pass
        # No /proc (macOS...): peak RSS is the cheap fallback, an upper bound.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return float(peak) if sys.platform == "darwin" else float(peak) * 1024.0


_read_rss = _RssReader()


def _children_cpu_seconds() -> float:
    # Only children that have exited and been waited for are counted: a live
    # worker pool (joblib/loky) is invisible here until it is shut down.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds() -> float:
    """Return CPU-seconds used so far by this process (all threads) and reaped children.

    Returns
    -------
    float
        User + system seconds.
    """
    return time.process_time() + _children_cpu_seconds()


class CpuTimeMeter:
    """Estimate a block's energy from the CPU time it used.

    Parameters
    ----------
    watts_per_core : float, optional
        Watts per busy hardware thread. Default: TDP / threads from
        codecarbon's CPU table (:func:`kiss_automl.energy.cpu_power.cpu_power`).
    watts_per_gb : float, optional
        Memory watts per GB of resident memory (default 3 W / 8 GB).

    Notes
    -----
    Scope is "process": ``time.process_time()`` covers every thread of this
    process (BLAS, OpenMP...), plus children that were reaped during the block.
    Sleeping or waiting costs no CPU time and so reads ~0 J. Two blocks timed
    concurrently in different threads of one process each see the whole
    process's CPU time.
    """

    scope = "process"

    def __init__(self, watts_per_core: float | None = None, watts_per_gb: float = WATTS_PER_GB):
        if watts_per_core is None:
            power = cpu_power()
            watts_per_core = power.watts_per_core
            constants: dict[str, Any] = {
                "tdp_w": power.tdp_w,
                "threads": power.threads,
                "cpu_model": power.cpu_model,
                "matched_cpu": power.matched_name,
                "source": power.source,
            }
        else:
            # Same keys either way, so reports have a stable schema.
            constants = {
                "tdp_w": None,
                "threads": os.cpu_count() or 1,
                "cpu_model": None,
                "matched_cpu": None,
                "source": "user",
            }
        for name, val in (("watts_per_core", watts_per_core), ("watts_per_gb", watts_per_gb)):
            if not isinstance(val, (int, float)) or not val >= 0 or val == float("inf"):
                raise ConfigError(f"{name} must be a finite number >= 0, got {val!r}")
        self.watts_per_core = float(watts_per_core)
        self.watts_per_gb = float(watts_per_gb)
        self._constants = {
            "watts_per_core": self.watts_per_core,
            "watts_per_gb": self.watts_per_gb,
            **constants,
        }
        self.method = f"cpu-time-model(W/core={self.watts_per_core:.3g})"

    @property
    def constants(self) -> dict[str, Any]:
        """The model constants recorded in every reading (a copy)."""
        return dict(self._constants)

    def available(self) -> bool:
        """The model needs nothing special: always ``True``."""
        return True

    def start(self) -> tuple[float, float, float, float]:
        """Snapshot the counters at the start of a block.

        Returns
        -------
        tuple
            Opaque token to pass to :meth:`stop`.
        """
        return (time.perf_counter(), time.process_time(), _children_cpu_seconds(), _read_rss())

    def stop(self, token: tuple[float, float, float, float]) -> Reading:
        """Read the counters again and return the block's reading.

        Parameters
        ----------
        token : tuple
            What :meth:`start` returned.

        Returns
        -------
        Reading
            ``joules`` = CPU-seconds x watts per core; ``memory_joules`` =
            mean RSS (GB) x watts per GB x wall seconds.
        """
        rss = _read_rss()
        children = _children_cpu_seconds()
        cpu = time.process_time()
        wall = time.perf_counter()
        wall0, cpu0, children0, rss0 = token
        cpu_seconds = max(0.0, (cpu - cpu0) + (children - children0))
        wall_seconds = max(0.0, wall - wall0)
        mean_gb = (rss + rss0) / (2.0 * _GB)
        return Reading(
            joules=cpu_seconds * self.watts_per_core,
            cpu_seconds=cpu_seconds,
            wall_seconds=wall_seconds,
            memory_joules=mean_gb * self.watts_per_gb * wall_seconds,
            method=self.method,
            scope=self.scope,
            constants=dict(self._constants),
        )


class ThreadCpuClock:
    """CPU time of the calling thread only, for blocks that run concurrently in threads.

    Its joules (thread CPU-seconds x `watts_per_core`) are provisional shares: the caller
    measures the whole concurrent batch with a real meter and splits that figure by these
    shares (:func:`kiss_automl.energy.split_by_cpu_share`), so nothing is counted twice.
    """

    scope = "thread"

    def __init__(self, watts_per_core: float = 1.0):
        self.watts_per_core = watts_per_core
        self.method = "thread-cpu-time"

    def start(self) -> tuple[float, float]:
        return (time.perf_counter(), time.thread_time())

    def stop(self, token: tuple[float, float]) -> Reading:
        wall0, cpu0 = token
        cpu = max(time.thread_time() - cpu0, 0.0)
        return Reading(joules=cpu * self.watts_per_core, cpu_seconds=cpu, wall_seconds=time.perf_counter() - wall0,
                       memory_joules=0.0, method=self.method, scope=self.scope,
                       constants={"watts_per_core": self.watts_per_core})
