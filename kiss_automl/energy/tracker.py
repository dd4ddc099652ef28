"""Whole-run energy and CO2 from codecarbon's *offline* tracker, as a context manager.

Per-candidate figures come from the cheap meters in this package; this
tracker gives the independent, codecarbon-computed total of the whole run.
It never uses the online ``EmissionsTracker`` (IP geolocation), writes no
file, calls no API, and any failure is recorded in ``error``, never raised.

codecarbon 3.3.2 notes that shape the options below:

* its lock file is ``tempfile.gettempdir()/.codecarbon.lock``, taken only when
  ``allow_multiple_runs`` is False; that path also installs SIGINT/SIGTERM
  handlers that raise ``SystemExit``. ``allow_multiple_runs=True`` (the 3.x
  default, passed explicitly) avoids both;
* ``output_methods=[]`` turns every output off (``save_to_file`` is deprecated);
* an Electricity Maps token found in a config file or ``CODECARBON_*`` variable
  would trigger an API call: an empty token is passed to prevent it;
* it logs through its own "codecarbon" logger (own handler, no propagation),
  and logs before its ``log_level`` is applied, so that logger's level is
  raised for the tracker's lifetime and restored afterwards.
"""

from __future__ import annotations

import inspect
import logging
import time
from types import TracebackType
from typing import Any

from kiss_automl.energy.carbon import carbon_intensity, resolve_country
from kiss_automl.energy.cputime import process_cpu_seconds
from kiss_automl.energy.units import JOULES_PER_KWH

logger = logging.getLogger(__name__)

_CODECARBON_LOGGER = "codecarbon"


class WholeRunTracker:
    """Measure a whole run with codecarbon's ``OfflineEmissionsTracker``.

    Parameters
    ----------
    country : str, optional
        Country (ISO-3, ISO-2 or name); ``None`` lets codecarbon use its world average.
    region : str, optional
        Region (US state name or code, Canadian or Chinese province, Nordic
        bidding zone), checked and passed to codecarbon.
    measure_power_secs : float
        codecarbon's sampling interval.
    tracking_mode : {"machine", "process"}
        codecarbon's tracking mode.
    log_level : str
        Level of the "codecarbon" logger while the tracker runs.

    Attributes
    ----------
    energy_kwh, emissions_g, duration_s : float or None
        Results, set on exit (``None`` if the tracker failed).
    error : str or None
        Why the tracker failed, if it did.

    Examples
    --------
    >>> with WholeRunTracker(country="FR") as run:  # doctest: +SKIP
    ...     search()
    >>> run.energy_kwh, run.emissions_g, run.error  # doctest: +SKIP
    """

    def __init__(
        self,
        country: str | None = None,
        region: str | None = None,
        *,
        measure_power_secs: float = 15.0,
        tracking_mode: str = "machine",
        log_level: str = "error",
        pue: float = 1.0,
    ):
        # Resolve here so a bad country or region is a ConfigError at configuration
        # time, and codecarbon gets the spelling its tables use ("CA" -> "california").
        self.country_iso3 = resolve_country(country) if country else None
        self.region = carbon_intensity(self.country_iso3, region).region if region else None
        self.measure_power_secs = measure_power_secs
        self.tracking_mode = tracking_mode
        self.log_level = log_level
        self.pue = pue
        self.energy_kwh: float | None = None
        self.emissions_g: float | None = None
        self.duration_s: float | None = None
        self.error: str | None = None
        self.overhead_cpu_s = 0.0  # this process's CPU-seconds in starting and stopping codecarbon
        self._tracker: Any = None
        self._t0 = 0.0
        self._saved_level: int | None = None

    @property
    def energy_joules(self) -> float | None:
        """Energy in joules (``energy_kwh`` converted), or ``None``."""
        return None if self.energy_kwh is None else self.energy_kwh * JOULES_PER_KWH

    def _fail(self, stage: str, exc: BaseException) -> None:
        self.error = f"codecarbon {stage} failed: {type(exc).__name__}: {exc}"
        logger.warning("Whole-run energy tracking disabled: %s", self.error)
        self._tracker = None

    def _quiet_codecarbon(self) -> None:
        cc_logger = logging.getLogger(_CODECARBON_LOGGER)
        self._saved_level = cc_logger.level
        cc_logger.setLevel(self.log_level.upper())

    def _restore_codecarbon_logger(self) -> None:
        if self._saved_level is not None:
            logging.getLogger(_CODECARBON_LOGGER).setLevel(self._saved_level)
            self._saved_level = None

    def _build(self) -> Any:
        # Importing codecarbon sets its logger to INFO: quiet it right after.
        from codecarbon import OfflineEmissionsTracker
        from codecarbon.emissions_tracker import BaseEmissionsTracker

        self._quiet_codecarbon()
        known = inspect.signature(BaseEmissionsTracker.__init__).parameters
        kwargs: dict[str, Any] = {
            "measure_power_secs": self.measure_power_secs,
            "tracking_mode": self.tracking_mode,
            "log_level": self.log_level,
            "emissions_endpoint": None,
        }
        if self.pue != 1.0 and "pue" in known:  # older codecarbon has no PUE: it then counts 1.0
            kwargs["pue"] = self.pue
        # Newer options where they exist; older codecarbon (2.x) gets their equivalents.
        optional = {
            "output_methods": [],
            "allow_multiple_runs": True,
            "electricitymaps_api_token": "",
            "save_to_api": False,
        }
        kwargs.update({k: v for k, v in optional.items() if k in known})
        if "output_methods" in known:
            kwargs.pop("save_to_api", None)
        else:
            kwargs["save_to_file"] = False
        if self.country_iso3:
            kwargs["country_iso_code"] = self.country_iso3
        if self.region:
            kwargs["region"] = self.region
        return OfflineEmissionsTracker(**kwargs)

    def __enter__(self) -> WholeRunTracker:
        self._t0 = time.perf_counter()
        cpu = process_cpu_seconds()
        try:
            self._tracker = self._build()
            self._tracker.start()
        except Exception as exc:  # the run must go on without whole-run figures
            self._fail("start", exc)
            self._restore_codecarbon_logger()
        self.overhead_cpu_s += process_cpu_seconds() - cpu
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.duration_s = time.perf_counter() - self._t0
        cpu = process_cpu_seconds()
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            try:
                tracker.stop()
                # codecarbon swallows its own errors in start()/stop(): no data = failure.
                data = getattr(tracker, "final_emissions_data", None)
                if data is None:
                    raise RuntimeError("the tracker produced no emissions data")
                self.energy_kwh = float(data.energy_consumed)
                self.emissions_g = float(data.emissions) * 1000.0  # codecarbon reports kg
                self.duration_s = float(data.duration)
            except Exception as exc2:
                self._fail("stop", exc2)
        self._restore_codecarbon_logger()
        self.overhead_cpu_s += process_cpu_seconds() - cpu
        # Never suppress the run's own exception.
        return None
