"""CPU TDP lookup in codecarbon's table and the watts-per-core constants."""

import pytest

from kiss_automl.energy import cpu_power as cp

TABLE = (
    ("Intel Core i7-920", 130.0),
    ("Intel Core i7-920XM", 55.0),
    ("AMD EPYC 7763", 280.0),
    ("Intel Xeon Gold 6248", 150.0),
    ("Intel Xeon Gold 6248R", 205.0),
)


@pytest.mark.parametrize(
    "model, expected",
    [
        ("Intel Core i7-920", ("Intel Core i7-920", 130.0)),  # exact
        ("intel core I7-920XM", ("Intel Core i7-920XM", 55.0)),  # exact, any case
        ("Intel(R) Core(TM) i7-920 CPU @ 2.67GHz", ("Intel Core i7-920", 130.0)),  # cleaned + words
        ("AMD EPYC 7763 64-Core Processor", ("AMD EPYC 7763", 280.0)),  # row words in model
        ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", ("Intel Xeon Gold 6248", 150.0)),
        ("Intel(R) Xeon(R) Processor", None),  # generic VM name: no row fits
        ("Some Unknown Chip", None),
        ("Intel Xeon Gold", None),  # words of two rows: ambiguous, as in codecarbon
        ("", None),
    ],
)
def test_match_cpu_tdp(model, expected):
    assert cp.match_cpu_tdp(model, TABLE) == expected


def test_codecarbon_table_is_found_and_read():
    table = cp.load_cpu_power_table()
    assert len(table) > 1000
    assert all(tdp > 0 for _, tdp in table)
    assert cp.match_cpu_tdp("AMD EPYC 7763 64-Core Processor", table) == ("AMD EPYC 7763", 280.0)


def test_cpu_model_name_reads_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\n"
        "model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n"
    )
    assert cp.cpu_model_name(info) == "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
    assert cp.cpu_model_name(tmp_path / "missing") is None


def test_cpu_power_uses_table_or_documented_default(monkeypatch):
    cp.cpu_power.cache_clear()
    monkeypatch.setattr(cp, "cpu_model_name", lambda: "AMD EPYC 7763 64-Core Processor")
    monkeypatch.setattr(cp.os, "cpu_count", lambda: 128)
    power = cp.cpu_power()
    assert power.tdp_w == 280.0 and power.threads == 128
    assert power.watts_per_core == pytest.approx(280.0 / 128)
    assert power.source == "codecarbon cpu_power.csv"

    cp.cpu_power.cache_clear()
    monkeypatch.setattr(cp, "cpu_model_name", lambda: "Mystery CPU 9000")
    power = cp.cpu_power()
    assert power.watts_per_core == cp.DEFAULT_WATTS_PER_THREAD
    assert power.tdp_w is None and power.source == "default"
    cp.cpu_power.cache_clear()


def test_memory_constant_is_codecarbons_3w_per_8gb():
    assert cp.WATTS_PER_GB == pytest.approx(0.375)
