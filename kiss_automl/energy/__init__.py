"""Energy measurement for kiss-automl: cheap per-block meters, units, carbon, whole-run tracker.

Importing this package is cheap: codecarbon, pynvml, pycountry and torch are
only imported inside the functions that need them.

Everything is in joules internally; see :mod:`kiss_automl.energy.units` for
conversions.
"""

from kiss_automl.energy.carbon import CarbonIntensity, carbon_intensity, grams_co2
from kiss_automl.energy.cputime import CpuTimeMeter, ThreadCpuClock
from kiss_automl.energy.meter import CompositeMeter, Meter, make_meter, measure, split_by_cpu_share
from kiss_automl.energy.nvml import NvmlMeter
from kiss_automl.energy.rapl import RaplMeter
from kiss_automl.energy.reading import Reading
from kiss_automl.energy.tracker import WholeRunTracker
from kiss_automl.energy.units import (
    format_joules,
    joules_to_kwh,
    kwh_to_joules,
    parse_co2,
    parse_energy,
)

__all__ = [
    "CarbonIntensity",
    "CompositeMeter",
    "CpuTimeMeter",
    "Meter",
    "NvmlMeter",
    "RaplMeter",
    "Reading",
    "ThreadCpuClock",
    "WholeRunTracker",
    "carbon_intensity",
    "format_joules",
    "grams_co2",
    "joules_to_kwh",
    "kwh_to_joules",
    "make_meter",
    "measure",
    "parse_co2",
    "parse_energy",
    "split_by_cpu_share",
]
