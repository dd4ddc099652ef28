"""NVML meter with an injected fake pynvml module (no GPU on the test machine)."""

import sys
import types

import pytest

from kiss_automl.energy import NvmlMeter
from kiss_automl.energy import nvml as nvml_mod


class FakeNvml(types.ModuleType):
    """Just enough of pynvml: energy counters (mJ) and power (mW) per device."""

    class NVMLError(Exception):
        pass

    def __init__(self, energy_mj, power_mw, counter=True, init_fails=False):
        super().__init__("pynvml")
        self.energy_mj = list(energy_mj)
        self.power_mw = list(power_mw)
        self.counter = counter
        self.init_fails = init_fails
        self.shutdowns = 0

    def nvmlInit(self):  # noqa: N802 (pynvml names)
        if self.init_fails:
            raise self.NVMLError("Driver Not Loaded")

    def nvmlShutdown(self):  # noqa: N802 (pynvml names)
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):  # noqa: N802 (pynvml names)
        return len(self.energy_mj)

    def nvmlDeviceGetHandleByIndex(self, index):  # noqa: N802 (pynvml names)
        return index

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):  # noqa: N802 (pynvml names)
        if not self.counter:
            raise self.NVMLError("Not Supported")
        return self.energy_mj[handle]

    def nvmlDeviceGetPowerUsage(self, handle):  # noqa: N802 (pynvml names)
        return self.power_mw[handle]

    def nvmlDeviceGetName(self, handle):  # noqa: N802 (pynvml names)
        return f"Fake GPU {handle}".encode()  # older pynvml returns bytes


class FakeClock:
    """Replaces the nvml module's ``time`` so block lengths are exact."""

    def __init__(self):
        self.now = 1000.0

    def perf_counter(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(nvml_mod, "time", fake)
    return fake


@pytest.fixture
def fake(monkeypatch):
    module = FakeNvml(energy_mj=[1_000_000, 2_000_000], power_mw=[150_000, 60_000])
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return module


def test_counter_delta_path(fake, clock):
    meter = NvmlMeter()
    assert meter.available() and meter.indices == [0, 1]
    token = meter.start()
    fake.energy_mj[0] += 5_000  # 5 J
    fake.energy_mj[1] += 2_500  # 2.5 J
    clock.now += 2.0
    r = meter.stop(token)
    assert r.joules == pytest.approx(7.5)
    assert r.gpu_joules == r.joules
    assert r.wall_seconds == pytest.approx(2.0)
    assert r.method == "nvml" and r.scope == "machine"
    assert r.constants["power_fallback_gpus"] == []
    assert r.constants["gpu_names"] == ["Fake GPU 0", "Fake GPU 1"]


def test_short_block_uses_power_times_time(fake, clock):
    meter = NvmlMeter()
    token = meter.start()
    fake.energy_mj[0] += 40  # counter moved a little, but the block is too short to trust it
    clock.now += 0.05
    r = meter.stop(token)
    # (150 W + 60 W) x 0.05 s
    assert r.joules == pytest.approx(10.5)
    assert r.constants["power_fallback_gpus"] == [0, 1]


def test_counter_that_did_not_move_uses_power(fake, clock):
    meter = NvmlMeter()
    token = meter.start()
    fake.energy_mj[1] += 1_000  # 1 J on GPU 1; GPU 0's counter frozen
    clock.now += 1.0
    r = meter.stop(token)
    assert r.joules == pytest.approx(150.0 + 1.0)
    assert r.constants["power_fallback_gpus"] == [0]


def test_board_without_energy_counter(monkeypatch, clock):
    module = FakeNvml(energy_mj=[0], power_mw=[100_000], counter=False)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    meter = NvmlMeter(environ={})
    token = meter.start()
    clock.now += 3.0
    assert meter.stop(token).joules == pytest.approx(300.0)


@pytest.mark.parametrize(
    "value, indices",
    [("1", [1]), ("1,0", [1, 0]), ("0,7,1", [0]), ("", []), (" ", []), ("GPU-8f3a-uuid", [0, 1]), ("-1", [])],
)
def test_cuda_visible_devices(fake, value, indices):
    meter = NvmlMeter(environ={"CUDA_VISIBLE_DEVICES": value})
    assert meter.indices == indices
    assert meter.available() == bool(indices)


def test_visible_device_restricts_what_is_read(fake, clock):
    meter = NvmlMeter(environ={"CUDA_VISIBLE_DEVICES": "1"})
    token = meter.start()
    fake.energy_mj[0] += 99_000
    fake.energy_mj[1] += 4_000
    clock.now += 1.0
    assert meter.stop(token).joules == pytest.approx(4.0)


def test_unavailable_without_pynvml_or_driver(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    meter = NvmlMeter()
    assert not meter.available() and "pynvml" in meter.error
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([0], [0], init_fails=True))
    meter = NvmlMeter()
    assert not meter.available() and "Driver Not Loaded" in meter.error
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], []))
    assert not NvmlMeter().available()


def test_synchronises_torch_cuda_only_if_already_imported(fake, monkeypatch):
    calls = []
    cuda = types.SimpleNamespace(
        is_initialized=lambda: True,
        device_count=lambda: 2,
        synchronize=lambda device: calls.append(device),
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    meter = NvmlMeter()
    meter.stop(meter.start())
    assert calls == [0, 1, 0, 1]
    cuda.is_initialized = lambda: False
    calls.clear()
    meter.stop(meter.start())
    assert calls == []


def test_close_shuts_nvml_down(fake):
    meter = NvmlMeter()
    meter.close()
    assert fake.shutdowns == 1 and not meter.available()
