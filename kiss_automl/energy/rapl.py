"""Read Intel/AMD RAPL energy counters from the Linux powercap tree.

Layout (``/sys/class/powercap``)::

    intel-rapl:0/            name = "package-0", energy_uj, max_energy_range_uj
    intel-rapl:0/intel-rapl:0:0/   name = "core" | "uncore" | "dram"
    intel-rapl:0:0 -> intel-rapl:0/intel-rapl:0:0   (sysfs also lists subzones at top level)
    intel-rapl-mmio:0/       a second interface to package-0: ignored (would double count)

AMD parts use the same ``intel-rapl`` names. Since CVE-2020-8694 (Platypus)
``energy_uj`` is readable by root only on most distributions: unreadable
zones are skipped, and :meth:`RaplMeter.available` says whether any is left.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiss_automl.energy.cputime import process_cpu_seconds
from kiss_automl.energy.reading import Reading

logger = logging.getLogger(__name__)

DEFAULT_POWERCAP_ROOT = "/sys/class/powercap"

_ZONE_DIR = re.compile(r"^intel-rapl:(\d+)(?::(\d+))?$")


def _read_file(path: str) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("ascii", "replace")


@dataclass(frozen=True)
class RaplZone:
    """One readable RAPL counter.

    Attributes
    ----------
    name : str
        Zone name: ``"package-0"``, ``"dram"``, ``"psys"``...
    kind : str
        ``"package"`` (counted in ``joules``) or ``"dram"`` (in ``memory_joules``).
    energy_path : str
        Path of the ``energy_uj`` file.
    max_uj : int or None
        ``max_energy_range_uj``: the value at which the counter wraps to 0.
    parent : str or None
        Name of the package zone a subzone belongs to.
    """

    name: str
    kind: str
    energy_path: str
    max_uj: int | None
    parent: str | None = None


class RaplMeter:
    """Machine-wide CPU package (and DRAM) energy from RAPL counters.

    Parameters
    ----------
    root : str or path-like
        The powercap folder; injectable so tests can use a fake tree.
    reader : callable, optional
        ``reader(path) -> str`` used for every file read (default: open/read).
        Tests inject one that raises ``PermissionError`` for chosen paths.
    """

    method = "rapl"
    scope = "machine"

    def __init__(
        self,
        root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT,
        reader: Callable[[str], str] | None = None,
    ):
        self.root = Path(root)
        self._read = reader or _read_file
        self.unreadable: list[str] = []
        self.zones: list[RaplZone] = self._discover()
        self._paths = [z.energy_path for z in self.zones]

    # -- discovery ---------------------------------------------------------------
    def _zone_dirs(self) -> list[tuple[tuple[int, ...], Path]]:
        """List ``intel-rapl:N`` and ``intel-rapl:N:M`` folders, top level and nested."""
        found: dict[str, tuple[tuple[int, ...], Path]] = {}
        try:
            top = list(self.root.iterdir())
        except OSError:
            return []
        for entry in top:
            match = _ZONE_DIR.match(entry.name)
            if not match or not entry.is_dir():
                continue
            candidates = [entry]
            if match.group(2) is None:
                with contextlib.suppress(OSError):
                    candidates += list(entry.iterdir())
            for path in candidates:
                zone_match = _ZONE_DIR.match(path.name)
                if zone_match is None or not path.is_dir():
                    continue
                ids = tuple(int(g) for g in zone_match.groups() if g is not None)
                # Top-level symlinks and nested folders are the same zone: key on realpath.
                found.setdefault(os.path.realpath(path), (ids, path))
        return sorted(found.values())

    def _try_read(self, path: Path) -> str | None:
        try:
            return self._read(str(path)).strip()
        except OSError as exc:  # PermissionError, IsADirectoryError, missing file...
            logger.debug("RAPL file %s unreadable: %s", path, exc)
            return None

    def _discover(self) -> list[RaplZone]:
        names_by_ids: dict[tuple[int, ...], str] = {}
        packages: dict[str, RaplZone] = {}
        drams: dict[tuple[str | None, str], RaplZone] = {}
        psys: list[RaplZone] = []
        for ids, path in self._zone_dirs():
            name = self._try_read(path / "name")
            energy = self._try_read(path / "energy_uj")
            if name is None or energy is None or not energy.isdigit():
                self.unreadable.append(str(path / "energy_uj"))
                continue
            names_by_ids[ids] = name
            if len(ids) == 2 and ids[:1] not in names_by_ids:
                # Subzone of an unreadable package: cannot tell if it mirrors another.
                logger.debug("RAPL subzone %s skipped: its package is unreadable", path)
                continue
            max_text = self._try_read(path / "max_energy_range_uj")
            max_uj = int(max_text) if max_text and max_text.isdigit() else None
            parent = names_by_ids.get(ids[:1]) if len(ids) == 2 else None
            zone = RaplZone(name, "package", str(path / "energy_uj"), max_uj, parent)
            # Multi-die parts expose the same package counter once per die under the
            # same name: keep the first one only (codecarbon does the same).
            if name.startswith("package"):
                packages.setdefault(name, zone)
            elif name == "dram":
                # One dram zone per package, all named "dram": key on the parent too.
                drams.setdefault((parent, name), RaplZone(name, "dram", zone.energy_path, max_uj, parent))
            elif name == "psys":
                psys.append(zone)
            # "core" and "uncore" are parts of the package: counting them would double count.
        if self.unreadable:
            logger.debug("%d RAPL zone(s) unreadable under %s", len(self.unreadable), self.root)
        # psys (whole platform) only stands in when there is no package counter.
        chosen = list(packages.values()) or psys[:1]
        return chosen + list(drams.values()) if chosen else []

    def available(self) -> bool:
        """Return ``True`` when at least one package (or psys) counter is readable."""
        return bool(self.zones)

    # -- measurement --------------------------------------------------------------
    def _sample(self) -> list[int]:
        read = self._read
        return [int(read(p)) for p in self._paths]

    def start(self) -> tuple[float, float, list[int]]:
        """Snapshot the counters at the start of a block.

        Returns
        -------
        tuple
            Opaque token to pass to :meth:`stop`.
        """
        return (time.perf_counter(), process_cpu_seconds(), self._sample())

    def stop(self, token: tuple[float, float, list[int]]) -> Reading:
        """Read the counters again and return the block's reading.

        Parameters
        ----------
        token : tuple
            What :meth:`start` returned.

        Returns
        -------
        Reading
            ``joules`` = package energy, ``memory_joules`` = DRAM energy,
            machine scope.

        Notes
        -----
        One wrap-around per block is corrected with ``max_energy_range_uj``;
        a block longer than a whole counter period (minutes to hours,
        depending on power) loses whole periods: measure long work in pieces.
        """
        end = self._sample()
        cpu = process_cpu_seconds()
        wall = time.perf_counter()
        wall0, cpu0, begin = token
        totals = {"package": 0.0, "dram": 0.0}
        seen: set[tuple[str, int, int]] = set()
        for zone, b, e in zip(self.zones, begin, end, strict=True):
            # Two differently named counters with identical start and end values
            # mirror each other (multi-die parts): count them once.
            if (zone.kind, b, e) in seen:
                continue
            seen.add((zone.kind, b, e))
            totals[zone.kind] += self._delta_uj(zone, b, e) / 1e6
        return Reading(
            joules=totals["package"],
            cpu_seconds=max(0.0, cpu - cpu0),
            wall_seconds=max(0.0, wall - wall0),
            memory_joules=totals["dram"],
            method=self.method,
            scope=self.scope,
            constants={"zones": [z.name for z in self.zones], "root": str(self.root)},
        )

    @staticmethod
    def _delta_uj(zone: RaplZone, begin: int, end: int) -> int:
        if end >= begin:
            return end - begin
        if zone.max_uj:
            # The counter wrapped once: it ran from begin up to max, then 0 to end.
            return zone.max_uj - begin + end
        logger.warning("RAPL counter %s went backwards with no max range: reading 0", zone.name)
        return 0
