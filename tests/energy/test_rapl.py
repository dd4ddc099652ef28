"""RAPL meter against a fake powercap tree."""

import os

import pytest

from kiss_automl.energy import RaplMeter, make_meter
from kiss_automl.energy.cputime import CpuTimeMeter
from kiss_automl.errors import ConfigError

MAX = 262_143_328_850  # a real max_energy_range_uj


def _zone(path, name, energy, max_uj=MAX):
    path.mkdir(parents=True)
    (path / "name").write_text(name + "\n")
    (path / "energy_uj").write_text(f"{energy}\n")
    if max_uj is not None:
        (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path


def _set(path, energy):
    (path / "energy_uj").write_text(f"{energy}\n")


@pytest.fixture
def tree(tmp_path):
    """package-0 with dram and core subzones, a mirrored die, a second socket, an MMIO twin."""
    root = tmp_path / "powercap"
    zones = {
        "pkg0": _zone(root / "intel-rapl:0", "package-0", 1_000_000),
        "dram0": _zone(root / "intel-rapl:0" / "intel-rapl:0:0", "dram", 500_000),
        "core0": _zone(root / "intel-rapl:0" / "intel-rapl:0:1", "core", 700_000),
        # Multi-die part: the same package counter exposed again under the same name.
        "die1": _zone(root / "intel-rapl:1", "package-0", 1_000_000),
        "die1dram": _zone(root / "intel-rapl:1" / "intel-rapl:1:0", "dram", 500_000),
        "pkg1": _zone(root / "intel-rapl:2", "package-1", 40_000_000),
        "dram1": _zone(root / "intel-rapl:2" / "intel-rapl:2:0", "dram", 9_000_000),
        "mmio": _zone(root / "intel-rapl-mmio:0", "package-0", 1_000_000),
    }
    (root / "intel-rapl").mkdir()  # the control-type folder: no counter
    # Real sysfs also lists subzones at the top level, as symlinks.
    os.symlink(zones["dram0"], root / "intel-rapl:0:0")
    return root, zones


def test_discovery_dedupes_and_classifies(tree):
    root, _ = tree
    meter = RaplMeter(root)
    assert meter.available()
    names = [(z.name, z.kind, z.parent) for z in meter.zones]
    assert names == [
        ("package-0", "package", None),
        ("package-1", "package", None),
        ("dram", "dram", "package-0"),
        ("dram", "dram", "package-1"),
    ]


def test_exact_joules(tree):
    root, z = tree
    meter = RaplMeter(root)
    token = meter.start()
    _set(z["pkg0"], 3_500_000)       # +2.5 J
    _set(z["die1"], 3_500_000)       # mirror: not counted again
    _set(z["pkg1"], 41_000_000)      # +1.0 J
    _set(z["dram0"], 750_000)        # +0.25 J
    _set(z["dram1"], 9_125_000)      # +0.125 J
    _set(z["core0"], 99_000_000)     # part of the package: ignored
    _set(z["mmio"], 99_000_000)      # other interface to package-0: ignored
    r = meter.stop(token)
    assert r.joules == pytest.approx(3.5)
    assert r.memory_joules == pytest.approx(0.375)
    assert r.gpu_joules == 0.0
    assert r.method == "rapl" and r.scope == "machine"
    assert r.constants["zones"] == ["package-0", "package-1", "dram", "dram"]
    assert r.wall_seconds >= 0 and r.cpu_seconds >= 0


def test_wrap_around_uses_max_energy_range(tmp_path):
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", MAX - 1_000_000)
    meter = RaplMeter(tmp_path)
    token = meter.start()
    _set(pkg, 500_000)
    assert meter.stop(token).joules == pytest.approx(1.5)  # max - start + end


def test_backwards_counter_without_max_reads_zero(tmp_path):
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 5_000_000, max_uj=None)
    meter = RaplMeter(tmp_path)
    token = meter.start()
    _set(pkg, 1_000)
    assert meter.stop(token).joules == 0.0


def test_differently_named_mirror_counted_once(tmp_path):
    a = _zone(tmp_path / "intel-rapl:0", "package-0", 10_000_000)
    b = _zone(tmp_path / "intel-rapl:1", "package-1", 10_000_000)
    meter = RaplMeter(tmp_path)
    token = meter.start()
    _set(a, 12_000_000)
    _set(b, 12_000_000)
    assert meter.stop(token).joules == pytest.approx(2.0)


def test_unreadable_zones_are_skipped(tree):
    root, z = tree
    denied = str(z["pkg1"] / "energy_uj")

    def reader(path):
        # Tests run as root, so chmod 000 would not block: inject the failure.
        if path == denied:
            raise PermissionError(13, "Permission denied", path)
        with open(path) as fh:
            return fh.read()

    meter = RaplMeter(root, reader=reader)
    assert [z.name for z in meter.zones] == ["package-0", "dram"]
    assert denied in meter.unreadable


def test_energy_file_that_is_a_directory_is_skipped(tmp_path):
    bad = tmp_path / "intel-rapl:0"
    bad.mkdir()
    (bad / "name").write_text("package-0\n")
    (bad / "energy_uj").mkdir()  # reading it raises IsADirectoryError
    meter = RaplMeter(tmp_path)
    assert not meter.available()


def test_nothing_readable_means_unavailable(tree):
    root, _ = tree

    def deny(path):
        raise PermissionError(13, "Permission denied", path)

    assert not RaplMeter(root, reader=deny).available()
    assert not RaplMeter(root / "does-not-exist").available()


def test_psys_stands_in_only_without_package(tmp_path):
    _zone(tmp_path / "intel-rapl:1", "psys", 100)
    assert [z.name for z in RaplMeter(tmp_path).zones] == ["psys"]
    _zone(tmp_path / "intel-rapl:0", "package-0", 100)
    assert [z.name for z in RaplMeter(tmp_path).zones] == ["package-0"]


def test_make_meter_rapl_kinds(tree, tmp_path):
    root, _ = tree
    assert isinstance(make_meter("rapl", powercap_root=str(root), use_gpu=False), RaplMeter)
    assert isinstance(make_meter("auto", powercap_root=str(root), use_gpu=False), RaplMeter)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert isinstance(make_meter("auto", powercap_root=str(empty), use_gpu=False), CpuTimeMeter)
    with pytest.raises(ConfigError, match=r"rapl.*no RAPL counter is readable"):
        make_meter("rapl", powercap_root=str(empty), use_gpu=False)
