"""measure(), the composite CPU+GPU meter, make_meter and split_by_cpu_share."""

import sys

import pytest

from kiss_automl.energy import CompositeMeter, CpuTimeMeter, Reading, make_meter, measure, split_by_cpu_share
from kiss_automl.energy.meter import Meter
from kiss_automl.errors import ConfigError

from .test_nvml import FakeNvml


class StubMeter:
    method = "stub"
    scope = "process"

    def __init__(self, joules=1.0):
        self.joules = joules
        self.started = 0

    def start(self):
        self.started += 1
        return self.started

    def stop(self, token):
        return Reading(joules=self.joules * token, cpu_seconds=2.0, wall_seconds=3.0,
                       memory_joules=0.5, method=self.method, scope=self.scope, constants={"k": 1})


def test_measure_sets_reading_on_exit():
    with measure(StubMeter()) as box:
        assert box.reading is None
    assert box.reading.joules == 1.0


def test_measure_records_reading_when_block_raises():
    with pytest.raises(RuntimeError), measure(StubMeter()) as box:
        raise RuntimeError("candidate crashed")
    assert box.reading is not None


def test_meters_satisfy_protocol():
    assert isinstance(CpuTimeMeter(watts_per_core=4.0), Meter)
    assert isinstance(StubMeter(), Meter)


def test_composite_adds_gpu_to_cpu(monkeypatch):
    fake = FakeNvml(energy_mj=[0], power_mw=[200_000])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    meter = make_meter("cpu-time", use_gpu=True, watts_per_core=4.0)
    assert isinstance(meter, CompositeMeter)
    assert meter.method == "nvml+cpu-time-model(W/core=4)"
    with measure(meter) as box:
        sum(range(10_000))
    r = box.reading
    assert r.gpu_joules > 0  # power x time: the block is shorter than 100 ms
    assert r.joules == pytest.approx(r.gpu_joules + r.cpu_seconds * 4.0)
    assert r.scope == "machine"
    assert r.constants["watts_per_core"] == 4.0 and r.constants["gpus"] == [0]


def test_make_meter_without_gpu_returns_cpu_meter(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    meter = make_meter("cpu-time")
    assert isinstance(meter, CpuTimeMeter)
    assert isinstance(make_meter("auto", powercap_root="/nonexistent", use_gpu=False), CpuTimeMeter)


def test_make_meter_unknown_kind():
    with pytest.raises(ConfigError, match="Unknown energy meter 'joulemeter'"):
        make_meter("joulemeter")


def test_split_by_cpu_share():
    assert split_by_cpu_share(100.0, [1.0, 3.0]) == [25.0, 75.0]
    assert split_by_cpu_share(90.0, [0.0, 0.0, 0.0]) == [30.0, 30.0, 30.0]
    assert split_by_cpu_share(10.0, []) == []
    assert sum(split_by_cpu_share(7.0, [0.1, 0.2, 0.3])) == pytest.approx(7.0)
    with pytest.raises(ValueError):
        split_by_cpu_share(1.0, [-1.0, 2.0])


def test_measure_does_not_hide_the_block_exception_when_stop_fails():
    class Broken(StubMeter):
        def stop(self, token):
            raise OSError("counter vanished")

    with pytest.raises(KeyError), measure(Broken()):
        raise KeyError("the real error")


def test_readings_are_hashable():
    r = StubMeter().stop(1)
    assert hash(r) == hash(StubMeter().stop(1))
