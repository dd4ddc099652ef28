"""WholeRunTracker: offline codecarbon, no network, no files, no lock, never raises."""

import logging
import os
import socket
import time

import pytest

from kiss_automl.energy import WholeRunTracker
from kiss_automl.errors import ConfigError


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_offline_run_gives_energy_and_leaves_nothing(no_network, in_tmp):
    import codecarbon.lock

    lock_existed = os.path.exists(codecarbon.lock.LOCKFILE)
    cc_logger = logging.getLogger("codecarbon")
    with WholeRunTracker(country="FR") as run:
        time.sleep(0.2)
        assert cc_logger.level == logging.ERROR  # quiet while running
    assert run.error is None, run.error
    assert run.energy_kwh is not None and run.energy_kwh >= 0
    assert run.energy_joules == pytest.approx(run.energy_kwh * 3.6e6)
    assert run.emissions_g is not None and run.emissions_g >= 0
    assert run.duration_s >= 0.2
    assert no_network == []
    assert list(in_tmp.iterdir()) == []  # no emissions.csv or other file
    # codecarbon 3.x keeps its lock at tempfile.gettempdir()/.codecarbon.lock
    assert codecarbon.lock.LOCKFILE.endswith(".codecarbon.lock")
    assert lock_existed or not os.path.exists(codecarbon.lock.LOCKFILE)


def test_codecarbon_logger_level_is_restored(in_tmp):
    import codecarbon  # noqa: F401  (its import sets the level)

    cc_logger = logging.getLogger("codecarbon")
    before = cc_logger.level
    root_before = logging.getLogger().level
    with WholeRunTracker():
        pass
    assert cc_logger.level == before
    assert logging.getLogger().level == root_before


def test_failing_tracker_is_recorded_not_raised(monkeypatch, in_tmp):
    import codecarbon

    def broken(**kwargs):
        raise RuntimeError("no hardware today")

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", broken)
    with WholeRunTracker() as run:
        pass
    assert "no hardware today" in run.error
    assert run.energy_kwh is None and run.duration_s is not None


def test_tracker_that_produces_no_data_is_an_error(monkeypatch, in_tmp):
    import codecarbon

    class Silent:
        def __init__(self, **kwargs):
            pass

        def start(self):
            pass

        def stop(self):
            return None  # codecarbon swallows its errors like this

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", Silent)
    with WholeRunTracker() as run:
        pass
    assert "no emissions data" in run.error


def test_run_exception_propagates(monkeypatch, in_tmp):
    import codecarbon

    def broken(**kwargs):
        raise RuntimeError("tracker broken too")

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", broken)
    with pytest.raises(KeyError), WholeRunTracker():
        raise KeyError("user error")


def test_country_and_region_are_resolved_and_checked():
    assert WholeRunTracker(country="fr").country_iso3 == "FRA"
    assert WholeRunTracker(country="US", region="CA").region == "california"
    with pytest.raises(ConfigError):
        WholeRunTracker(country="Atlantis")
    with pytest.raises(ConfigError):
        WholeRunTracker(country="USA", region="Narnia")


def test_region_reaches_codecarbon(monkeypatch, in_tmp):
    import codecarbon

    seen = {}

    def capture(**kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", capture)
    with WholeRunTracker(country="US", region="CA"):
        pass
    assert seen["country_iso_code"] == "USA" and seen["region"] == "california"
    assert seen["allow_multiple_runs"] is True and seen["output_methods"] == []
