"""NVIDIA GPU energy from NVML's total-energy counter.

``pynvml`` (package ``nvidia-ml-py``) is imported only when a meter is built,
never at package import. The counter (mJ since driver load, Volta and later)
is refreshed about every 100 ms, so shorter blocks, or blocks where it did not
move, are charged the board's power x wall time instead.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from kiss_automl.energy.cputime import process_cpu_seconds
from kiss_automl.energy.reading import Reading

logger = logging.getLogger(__name__)

#: Refresh period of NVML's energy counter (seconds). Below it, a counter
#: delta is mostly quantisation noise, so power x time is used instead.
NVML_ENERGY_UPDATE_PERIOD_S = 0.1


def visible_gpu_indices(count: int, environ: Mapping[str, str] | None = None) -> list[int]:
    """Return the NVML indices of the GPUs this process may use.

    Parameters
    ----------
    count : int
        Number of GPUs NVML sees (NVML ignores ``CUDA_VISIBLE_DEVICES``).
    environ : mapping, optional
        Environment to read (default ``os.environ``).

    Returns
    -------
    list of int
        All GPUs when ``CUDA_VISIBLE_DEVICES`` is unset or lists UUIDs/MIG names;
        none when it is empty; else the listed indices, stopping at the first
        invalid one as CUDA does.
    """
    env = os.environ if environ is None else environ
    raw = env.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return list(range(count))
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        return []
    indices: list[int] = []
    for part in parts:
        try:
            index = int(part)
        except ValueError:
            logger.debug("CUDA_VISIBLE_DEVICES=%r is not a list of indices: measuring all GPUs", raw)
            return list(range(count))
        if index < 0 or index >= count:
            break
        if index not in indices:
            indices.append(index)
    return indices


def _sync_cuda() -> None:
    """Wait for queued CUDA work, so it is charged to the block that queued it."""
    torch = sys.modules.get("torch")  # never import torch here: it costs seconds
    cuda = getattr(torch, "cuda", None)
    if cuda is None:
        return
    try:
        # is_initialized() is a flag read; if CUDA was never initialised there is
        # nothing queued, and we must not initialise it ourselves.
        if cuda.is_initialized():
            for device in range(cuda.device_count()):
                cuda.synchronize(device)
    except RuntimeError as exc:  # torch's CUDA errors; a failing sync must not break the measured code
        logger.debug("torch.cuda.synchronize failed: %s", exc)


class NvmlMeter:
    """Energy of the visible NVIDIA GPUs (device scope: all work on them counts).

    Parameters
    ----------
    environ : mapping, optional
        Environment used for ``CUDA_VISIBLE_DEVICES`` (default ``os.environ``).
    """

    method = "nvml"
    scope = "machine"

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._nvml: Any = None
        self.indices: list[int] = []
        self._handles: list[Any] = []
        self._has_counter: list[bool] = []
        self.names: list[str] = []  # the boards' models, for the carbon statement
        self.error: str | None = None
        try:
            self._init(environ)
        except Exception as exc:  # ImportError, NVMLError (no driver), anything odd
            self.error = f"{type(exc).__name__}: {exc}"
            self._handles = []
            logger.debug("NVML unavailable: %s", self.error)

    def _init(self, environ: Mapping[str, str] | None) -> None:
        import pynvml  # lazy: only machines measuring GPUs pay for it

        pynvml.nvmlInit()
        self._nvml = pynvml
        self.indices = visible_gpu_indices(pynvml.nvmlDeviceGetCount(), environ)
        self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in self.indices]
        self.names = [_device_name(pynvml, h) for h in self._handles]
        for handle in self._handles:
            try:
                pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
                self._has_counter.append(True)
            except pynvml.NVMLError:
                # Pre-Volta boards have no energy counter: power x time only.
                self._has_counter.append(False)

    def available(self) -> bool:
        """Return ``True`` when NVML works and at least one GPU is visible."""
        return bool(self._handles)

    def _energies_mj(self) -> list[int | None]:
        nvml = self._nvml
        return [
            nvml.nvmlDeviceGetTotalEnergyConsumption(h) if ok else None
            for h, ok in zip(self._handles, self._has_counter, strict=True)
        ]

    def start(self) -> tuple[float, float, list[int | None]]:
        """Synchronise CUDA, then snapshot the GPU energy counters.

        Returns
        -------
        tuple
            Opaque token to pass to :meth:`stop`.
        """
        _sync_cuda()
        return (time.perf_counter(), process_cpu_seconds(), self._energies_mj())

    def stop(self, token: tuple[float, float, list[int | None]]) -> Reading:
        """Synchronise CUDA, read the counters again and return the GPU reading.

        Parameters
        ----------
        token : tuple
            What :meth:`start` returned.

        Returns
        -------
        Reading
            ``joules`` = ``gpu_joules`` = energy of the visible GPUs.
        """
        _sync_cuda()
        end = self._energies_mj()
        cpu = process_cpu_seconds()
        wall = time.perf_counter()
        wall0, cpu0, begin = token
        wall_seconds = max(0.0, wall - wall0)
        joules = 0.0
        power_fallback = []
        for index, handle, b, e in zip(self.indices, self._handles, begin, end, strict=True):
            if b is not None and e is not None and e > b and wall_seconds >= NVML_ENERGY_UPDATE_PERIOD_S:
                joules += (e - b) / 1e3
            else:
                # Counter too coarse for this block (or absent): mW x s.
                joules += self._nvml.nvmlDeviceGetPowerUsage(handle) / 1e3 * wall_seconds
                power_fallback.append(index)
        return Reading(
            joules=joules,
            cpu_seconds=max(0.0, cpu - cpu0),
            wall_seconds=wall_seconds,
            gpu_joules=joules,
            method=self.method,
            scope=self.scope,
            constants={
                "gpus": list(self.indices),
                "gpu_names": list(self.names),
                "update_period_s": NVML_ENERGY_UPDATE_PERIOD_S,
                "power_fallback_gpus": power_fallback,
            },
        )

    def close(self) -> None:
        """Shut NVML down (optional; NVML is reference-counted)."""
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError as exc:
                logger.debug("nvmlShutdown failed: %s", exc)
            self._nvml = None
            self._handles = []


def _device_name(nvml: Any, handle: Any) -> str:
    """The board's model ("NVIDIA H100 80GB HBM3"), or "unknown" where NVML does not say."""
    try:
        name = nvml.nvmlDeviceGetName(handle)
    except Exception:  # noqa: BLE001 - a name is a nicety; the energy counters are what matter
        return "unknown"
    return name.decode() if isinstance(name, bytes) else str(name)
