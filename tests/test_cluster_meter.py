"""The worker's meter: a machine-wide counter split by CPU time among concurrent candidates,
and the accounting of a cluster fit (no cluster needed)."""

from types import SimpleNamespace

import pytest

from kiss_automl.cluster import accounting, worker_meter
from kiss_automl.energy import Reading


class _Package:
    """A machine-wide counter that read 10 J over every block."""

    method, scope = "rapl", "machine"

    def start(self):
        return None

    def stop(self, token):
        return Reading(joules=10.0, cpu_seconds=0.0, wall_seconds=1.0, memory_joules=2.0, method="rapl",
                       scope="machine", constants={})


def test_two_candidates_sharing_a_package_split_it_by_cpu_time(monkeypatch):
    clock = {"own": 0.0, "busy": 0.0}
    monkeypatch.setattr(worker_meter, "_own_seconds", lambda per_thread: clock["own"])
    monkeypatch.setattr(worker_meter, "_machine_busy_seconds", lambda: clock["busy"])
    meter = worker_meter.CpuShareMeter(_Package())
    token = meter.start()
    clock.update(own=0.75, busy=1.0)  # this block: 0.75 of the machine's 1.0 busy CPU-second
    first = meter.stop(token)
    assert first.joules == pytest.approx(7.5) and first.memory_joules == pytest.approx(1.5)
    assert first.cpu_seconds == pytest.approx(0.75) and first.scope == "process"
    assert first.method == "rapl, split by CPU time" and first.constants["machine_share"] == pytest.approx(0.75)
    token = meter.start()
    clock.update(own=1.0, busy=2.0)  # the other block's share of the next span: 0.25 of 1.0
    assert meter.stop(token).joules == pytest.approx(2.5)
    token = meter.start()
    assert meter.stop(token).joules == pytest.approx(10.0)  # no busy time at all: the whole reading


def test_a_multithreaded_worker_reads_its_task_thread_not_its_process():
    meter = worker_meter.worker_meter.__wrapped__(threads=4)
    assert meter.scope in ("thread", "process") and ("thread" in meter.method or "split" in meter.method)


def _candidate(host, joules, method="cpu-time-model(W/core=4)", ok=True, replayed=False):
    evaluation = SimpleNamespace(joules=joules, fit_cpu_s=joules / 4)
    return SimpleNamespace(family="lightgbm", replayed=replayed, ok=ok, evaluation=evaluation,
                           placement={"host": host, "method": method})


def test_the_accounting_counts_driver_workers_idle_and_lost_tasks():
    figures = {"scheduler": "tcp://h:8786", "local": False, "slots": 4, "driver_cpu_s": 0.5,
               "workers": {"w1": {"host": "a", "cpu_s": 5.0, "joules": 20.0, "watts_per_core": 4.0},
                           "w2": {"host": "b", "cpu_s": 2.0, "joules": 8.0, "watts_per_core": 4.0}}}
    candidates = [_candidate("a", 12.0), _candidate("b", 6.0), _candidate("a", 3.0, replayed=True),
                  _candidate("unknown", 4.0, method="wall-time bound (W/core=4): no reading came back", ok=False)]
    summary = accounting.summarize(figures, candidates, driver_watts_per_core=4.0, window=4)
    assert summary["hosts"]["a"]["candidates"] == 1 and summary["hosts"]["a"]["joules"] == 12.0
    assert summary["hosts"]["a"]["worker_processes_j"] == 20.0 and summary["hosts"]["unknown"]["failed"] == 1
    assert summary["driver_j"] == 2.0 and summary["workers_processes_j"] == 28.0
    assert summary["workers_idle_j"] == 10.0  # 28 J of worker processes, 18 J of candidates measured there
    assert summary["total_j"] == 2.0 + 28.0 + 4.0  # driver, workers, the lost task's bound
    lost = dict(figures, workers=None)  # a lost cluster: the workers cannot be read any more
    summary = accounting.summarize(lost, candidates, 4.0, 4)
    assert summary["workers_idle_j"] is None and summary["total_j"] == 2.0 + 18.0 + 4.0
