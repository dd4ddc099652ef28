"""CPU-time model: charges CPU time, not sleep; records its constants."""

import subprocess
import sys
import time

import pytest

from kiss_automl.energy import CpuTimeMeter, measure
from kiss_automl.errors import ConfigError


def _busy(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def _joules_of(meter, fn, *args):
    with measure(meter) as box:
        fn(*args)
    return box.reading


def test_busy_twice_as_long_reads_about_twice_the_joules():
    meter = CpuTimeMeter(watts_per_core=10.0)
    short = _joules_of(meter, _busy, 0.2)
    long = _joules_of(meter, _busy, 0.4)
    assert short.joules > 0
    assert 1.5 < long.joules / short.joules < 2.6
    # CPU-seconds x 10 W, by construction.
    assert long.joules == pytest.approx(long.cpu_seconds * 10.0)


def test_sleep_reads_near_zero_cpu_joules():
    meter = CpuTimeMeter(watts_per_core=10.0)
    busy = _joules_of(meter, _busy, 0.3)
    asleep = _joules_of(meter, time.sleep, 0.3)
    assert asleep.wall_seconds >= 0.29
    assert asleep.joules < 0.1 * busy.joules
    # Memory is still held while sleeping: reported, separately.
    assert asleep.memory_joules > 0


def test_reading_records_constants_and_method():
    meter = CpuTimeMeter(watts_per_core=12.5, watts_per_gb=0.375)
    r = _joules_of(meter, _busy, 0.01)
    assert r.method == "cpu-time-model(W/core=12.5)"
    assert r.scope == "process"
    assert r.constants["watts_per_core"] == 12.5
    assert r.constants["watts_per_gb"] == 0.375
    assert r.constants["source"] == "user"
    assert r.gpu_joules == 0.0


def test_default_constants_come_from_cpu_power_lookup():
    r = _joules_of(CpuTimeMeter(), _busy, 0.01)
    for key in ("watts_per_core", "watts_per_gb", "tdp_w", "threads", "cpu_model", "source"):
        assert key in r.constants
    assert r.constants["watts_per_core"] > 0


def test_reaped_children_are_charged():
    meter = CpuTimeMeter(watts_per_core=10.0)
    code = "import time\nend=time.perf_counter()+0.3\nwhile time.perf_counter()<end: pass"
    r = _joules_of(meter, subprocess.run, [sys.executable, "-c", code])
    assert r.cpu_seconds > 0.2


def test_memory_term_scales_with_resident_memory():
    meter = CpuTimeMeter(watts_per_core=10.0, watts_per_gb=1.0)
    r = _joules_of(meter, time.sleep, 0.05)
    # Python itself holds more than 5 MB and far less than 100 GB.
    gb = r.memory_joules / r.wall_seconds
    assert 0.005 < gb < 100


def test_start_stop_is_cheap():
    meter = CpuTimeMeter(watts_per_core=10.0)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        meter.stop(meter.start())
    per_call = (time.perf_counter() - t0) / n
    assert per_call < 200e-6  # generous: ~10 us here, but CI machines are noisy


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "12"])
def test_bad_constants_rejected(bad):
    with pytest.raises(ConfigError):
        CpuTimeMeter(watts_per_core=bad)
