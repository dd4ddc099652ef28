"""The :class:`Reading` value: what a meter reports for one measured block.

Every figure is in joules (or seconds); conversions to kWh or CO2 happen at the
edges (:mod:`kiss_automl.energy.units`, :mod:`kiss_automl.energy.carbon`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: Scopes a reading can have. "process": the figure belongs to this process
#: (and its reaped children) only. "machine": the counter is shared by the whole
#: machine or device, so concurrent work is in it too (see ``split_by_cpu_share``).
SCOPES = ("process", "machine", "thread")


@dataclass(frozen=True, kw_only=True)
class Reading:
    """Energy attributed to one measured block of code.

    Construct it with keyword arguments only (the field order is not an API).

    Attributes
    ----------
    joules : float
        CPU (package) energy of the block plus ``gpu_joules``. Memory is *not*
        included: it is in ``memory_joules``.
    cpu_seconds : float
        CPU time (user + system) of this process, all threads, plus reaped children.
    wall_seconds : float
        Elapsed wall-clock time of the block.
    memory_joules : float
        DRAM energy (RAPL ``dram`` domain) or the memory model's estimate,
        reported separately from ``joules``.
    gpu_joules : float
        GPU energy, already included in ``joules``.
    method : str
        How the figure was obtained, e.g. ``"rapl"``, ``"nvml+cpu-time-model(W/core=4)"``.
    scope : str
        ``"process"``, ``"machine"`` or ``"thread"`` (see :data:`SCOPES`).
    constants : dict
        The model constants and provenance used (watts per core, TDP, source...).
    """

    joules: float
    cpu_seconds: float
    wall_seconds: float
    memory_joules: float = 0.0
    gpu_joules: float = 0.0
    method: str
    scope: str
    # Excluded from hashing (a dict is unhashable) but still compared.
    constants: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"Reading scope must be one of {SCOPES}, got {self.scope!r}")

    @property
    def total_joules(self) -> float:
        """CPU + GPU + memory joules (``joules + memory_joules``)."""
        return self.joules + self.memory_joules

    def __add__(self, other: object) -> Reading:
        """Sum two readings taken with the same method.

        Parameters
        ----------
        other : Reading
            Another reading with the same ``method``.

        Returns
        -------
        Reading
            Field-wise sum; the scope is "machine" if either one is; the
            constants are those of ``self``.

        Raises
        ------
        ValueError
            If the methods differ: joules from RAPL and from a model are not
            the same quantity, so adding them silently would mislead.
        """
        if not isinstance(other, Reading):
            return NotImplemented
        if other.method != self.method:
            raise ValueError(
                f"Cannot add readings measured with different methods: "
                f"{self.method!r} and {other.method!r}"
            )
        scope = "machine" if "machine" in (self.scope, other.scope) else "process"
        return Reading(
            joules=self.joules + other.joules,
            cpu_seconds=self.cpu_seconds + other.cpu_seconds,
            wall_seconds=self.wall_seconds + other.wall_seconds,
            memory_joules=self.memory_joules + other.memory_joules,
            gpu_joules=self.gpu_joules + other.gpu_joules,
            method=self.method,
            scope=scope,
            constants=dict(self.constants),
        )

    def __radd__(self, other: object) -> Reading:
        # Lets ``sum(readings)`` work: sum() starts from the integer 0.
        if other == 0:
            return self
        return NotImplemented

    def to_dict(self) -> dict[str, Any]:
        """Return a plain, JSON-serialisable dictionary of the reading.

        Returns
        -------
        dict
            The fields, plus ``total_joules``; ``constants`` is copied.
        """
        return {
            "joules": self.joules,
            "cpu_seconds": self.cpu_seconds,
            "wall_seconds": self.wall_seconds,
            "memory_joules": self.memory_joules,
            "gpu_joules": self.gpu_joules,
            "total_joules": self.total_joules,
            "method": self.method,
            "scope": self.scope,
            "constants": dict(self.constants),
        }
