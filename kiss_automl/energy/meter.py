"""The meter interface, the ``measure`` helper, and the meter factory.

A meter has two methods: ``token = meter.start()`` and
``reading = meter.stop(token)``. Both only read counters (microseconds): no
thread, no subprocess, no codecarbon call per block. Tokens are immutable
snapshots, so one meter can time many blocks, nested or overlapping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kiss_automl.energy.cputime import CpuTimeMeter
from kiss_automl.energy.nvml import NvmlMeter
from kiss_automl.energy.rapl import DEFAULT_POWERCAP_ROOT, RaplMeter
from kiss_automl.energy.reading import Reading
from kiss_automl.errors import ConfigError

logger = logging.getLogger(__name__)

METER_KINDS = ("auto", "rapl", "cpu-time")


@runtime_checkable
class Meter(Protocol):
    """What every meter provides."""

    method: str
    scope: str

    def start(self) -> Any:
        """Snapshot the counters; return an opaque token."""
        ...

    def stop(self, token: Any) -> Reading:
        """Return the reading of the block since ``start`` gave ``token``."""
        ...


@dataclass
class MeasureBox:
    """Holds the reading of a ``with measure(meter)`` block once it has exited."""

    reading: Reading | None = None


@contextmanager
def measure(meter: Meter) -> Iterator[MeasureBox]:
    """Measure the energy of a ``with`` block.

    Parameters
    ----------
    meter : Meter
        Any meter (e.g. from :func:`make_meter`).

    Yields
    ------
    MeasureBox
        Its ``reading`` is set when the block exits, also when it raises (the
        exception then propagates): a failing candidate still used energy.

    Examples
    --------
    >>> with measure(CpuTimeMeter(watts_per_core=4.0)) as box:
    ...     total = sum(range(1000))
    >>> box.reading.joules >= 0
    True
    """
    box = MeasureBox()
    token = meter.start()
    try:
        yield box
    except BaseException:
        try:
            box.reading = meter.stop(token)
        except Exception as exc:  # never hide the block's own exception behind ours
            logger.warning("Energy meter failed after the block raised: %s", exc)
        raise
    box.reading = meter.stop(token)


class CompositeMeter:
    """CPU meter (RAPL or CPU-time model) plus GPU meter (NVML), read together.

    Parameters
    ----------
    cpu : Meter
        The CPU (and memory) meter.
    gpu : NvmlMeter
        The GPU meter.
    """

    def __init__(self, cpu: Meter, gpu: NvmlMeter):
        self.cpu = cpu
        self.gpu = gpu
        self.method = f"nvml+{cpu.method}"
        # NVML counts the whole device, so the combination is machine-wide.
        self.scope = "machine"

    def start(self) -> tuple[Any, Any]:
        """Snapshot both meters (CPU first, GPU last, so stop() nests them)."""
        cpu_token = self.cpu.start()
        return (cpu_token, self.gpu.start())

    def stop(self, token: tuple[Any, Any]) -> Reading:
        """Return the combined reading: ``joules`` = CPU + GPU joules."""
        cpu_token, gpu_token = token
        gpu = self.gpu.stop(gpu_token)  # its CUDA sync belongs inside the block
        cpu = self.cpu.stop(cpu_token)
        return Reading(
            joules=cpu.joules + gpu.joules,
            cpu_seconds=cpu.cpu_seconds,
            wall_seconds=cpu.wall_seconds,
            memory_joules=cpu.memory_joules,
            gpu_joules=gpu.joules,
            method=self.method,
            scope=self.scope,
            constants={**cpu.constants, **gpu.constants, "cpu_method": cpu.method},
        )


def make_meter(
    kind: str = "auto",
    *,
    powercap_root: str = DEFAULT_POWERCAP_ROOT,
    use_gpu: bool = True,
    watts_per_core: float | None = None,
) -> Meter:
    """Build the best meter this machine allows.

    Parameters
    ----------
    kind : {"auto", "rapl", "cpu-time"}
        CPU measurement: "auto" takes RAPL when readable, else the CPU-time
        model; "rapl" insists on RAPL; "cpu-time" always uses the model.
    powercap_root : str
        Powercap folder to look for RAPL counters in.
    use_gpu : bool
        Add NVIDIA GPU energy when NVML works and a GPU is visible.
    watts_per_core : float, optional
        Override the CPU-time model's watts per busy thread.

    Returns
    -------
    Meter
        A :class:`RaplMeter` or :class:`CpuTimeMeter`, wrapped in a
        :class:`CompositeMeter` when a GPU is measured too.

    Raises
    ------
    ConfigError
        For an unknown ``kind``, or ``kind="rapl"`` where no counter is readable.
    """
    if kind not in METER_KINDS:
        raise ConfigError(f"Unknown energy meter '{kind}': choose one of {', '.join(METER_KINDS)}")
    cpu: Meter | None = None
    if kind in ("auto", "rapl"):
        rapl = RaplMeter(powercap_root)
        if rapl.available():
            cpu = rapl
        elif kind == "rapl":
            raise ConfigError(
                f"Energy meter 'rapl' asked for, but no RAPL counter is readable under "
                f"{powercap_root} (absent, or root-only since CVE-2020-8694: "
                f"`sudo chmod -R a+r /sys/class/powercap/*` grants access until reboot). "
                f"Use meter 'auto' or 'cpu-time' instead."
            )
        else:
            logger.info(
                "No readable RAPL counter under %s (%d unreadable zone(s)): using the CPU-time model",
                powercap_root,
                len(rapl.unreadable),
            )
    if cpu is None:
        cpu = CpuTimeMeter(watts_per_core)
    if use_gpu:
        gpu = NvmlMeter()
        if gpu.available():
            return CompositeMeter(cpu, gpu)
    return cpu


def split_by_cpu_share(total_joules: float, cpu_seconds: Sequence[float]) -> list[float]:
    """Split a machine-wide energy figure among concurrent blocks by CPU time.

    Parameters
    ----------
    total_joules : float
        Energy read on a shared counter over the period.
    cpu_seconds : sequence of float
        CPU-seconds of each block over the same period.

    Returns
    -------
    list of float
        Each block's share; they sum to ``total_joules``. Equal shares when
        every block used no CPU time; an empty list for no blocks.

    Raises
    ------
    ValueError
        If a CPU time is negative or not finite.
    """
    seconds = [float(s) for s in cpu_seconds]
    if any(not (0.0 <= s < float("inf")) for s in seconds):
        raise ValueError(f"CPU seconds must be finite and >= 0, got {list(cpu_seconds)}")
    if not seconds:
        return []
    total = sum(seconds)
    if total == 0:
        return [total_joules / len(seconds)] * len(seconds)
    return [total_joules * s / total for s in seconds]
