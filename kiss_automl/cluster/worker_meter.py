"""The meter a Dask worker measures its candidates with.

A worker runs the project's own meter (energy/): RAPL where readable, else the CPU-time
model. Two things change when candidates share a machine:
- RAPL counts the whole package: two candidates at once would each read both. Each block is
  charged the counter's joules times its own CPU-seconds over the machine's busy CPU-seconds
  in the same span (`CpuShareMeter`), so concurrent shares add up to the reading once.
- The CPU-time model reads the process: with one thread per worker that is the candidate;
  a worker with more threads runs several at once, so it reads the task's thread instead.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

from ..energy import CpuTimeMeter, Reading, make_meter
from ..energy.cputime import ThreadCpuClock


def _machine_busy_seconds() -> float:
    """CPU-seconds every core of this machine spent busy since boot (/proc/stat)."""
    import psutil

    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def _own_seconds(per_thread: bool) -> float:
    return time.thread_time() if per_thread else time.process_time()


class CpuShareMeter:
    """A machine-wide counter (RAPL) split by CPU time among concurrent blocks."""

    scope = "process"

    def __init__(self, machine, per_thread: bool = False):
        self.machine, self.per_thread = machine, per_thread
        self.method = f"{machine.method}, split by CPU time"

    def start(self) -> tuple[Any, float, float]:
        return (self.machine.start(), _own_seconds(self.per_thread), _machine_busy_seconds())

    def stop(self, token: tuple[Any, float, float]) -> Reading:
        inner, own0, busy0 = token
        reading = self.machine.stop(inner)
        own = max(_own_seconds(self.per_thread) - own0, 0.0)
        busy = max(_machine_busy_seconds() - busy0, 0.0)
        share = min(1.0, own / busy) if busy > 0 else 1.0
        return Reading(joules=reading.joules * share, cpu_seconds=own, wall_seconds=reading.wall_seconds,
                       memory_joules=reading.memory_joules * share, gpu_joules=reading.gpu_joules * share,
                       method=self.method, scope="thread" if self.per_thread else "process",
                       constants={**reading.constants, "machine_share": share})


class ThreadCpuTimeMeter(ThreadCpuClock):
    """The CPU-time model on the calling thread: for workers that run several tasks at once
    (the thread clock's reading, at the worker's watts per core and with its constants)."""

    def __init__(self, watts_per_core: float, constants: dict):
        super().__init__(watts_per_core)
        self._constants = constants
        self.method = f"cpu-time-model(thread, W/core={watts_per_core:.3g})"

    def stop(self, token: tuple[float, float]) -> Reading:
        return dataclasses.replace(super().stop(token), constants=dict(self._constants))


@functools.lru_cache(maxsize=4)
def worker_meter(threads: int, uses_gpu: bool = False):
    """This worker's meter for a candidate, built once per process (reading no counter)."""
    meter = make_meter(use_gpu=uses_gpu)  # NVML is device-wide: only GPU families are charged it
    per_thread = threads > 1
    if meter.scope == "machine" and not uses_gpu:
        return CpuShareMeter(meter, per_thread)
    if per_thread and isinstance(meter, CpuTimeMeter):
        return ThreadCpuTimeMeter(meter.watts_per_core, meter.constants)
    return meter


def watts_per_core() -> float:
    """The CPU-time model's constant on this machine: what a lost task is charged per second."""
    return CpuTimeMeter().watts_per_core
