"""Cost of measuring one block: kiss-automl's meter vs codecarbon's task API.

Prints the median wall time of one ``start()`` + ``stop()`` pair, in
microseconds, for:

* ``make_meter()`` (whatever this machine gives: RAPL, CPU-time model, +NVML);
* ``CpuTimeMeter`` explicitly;
* ``RaplMeter`` on a fake powercap tree in a temp folder (file reads only; real
  sysfs reads cost a little more);
* codecarbon's ``OfflineEmissionsTracker.start_task()`` + ``stop_task()``.

Usage: ``python benchmarks/meter_overhead.py [--n 10000] [--n-codecarbon 20]``
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kiss_automl.energy import CpuTimeMeter, RaplMeter, make_meter


def median_us(pair: Callable[[], object], n: int, warmup: int = 3) -> float:
    """Median wall time of ``pair()`` over ``n`` calls, in microseconds."""
    for _ in range(warmup):
        pair()
    times = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        pair()
        times.append(clock() - t0)
    return statistics.median(times) * 1e6


def meter_pair(meter) -> Callable[[], object]:
    return lambda: meter.stop(meter.start())


def fake_rapl_root(folder: Path) -> Path:
    for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:0/intel-rapl:0:0", "dram")):
        path = folder / zone
        path.mkdir(parents=True)
        (path / "name").write_text(name + "\n")
        (path / "energy_uj").write_text("123456789\n")
        (path / "max_energy_range_uj").write_text("262143328850\n")
    return folder


def codecarbon_pair(n: int) -> float:
    from codecarbon import OfflineEmissionsTracker

    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(
        output_methods=[], allow_multiple_runs=True, log_level="error", electricitymaps_api_token=""
    )

    def pair() -> None:
        tracker.start_task()
        tracker.stop_task()

    try:
        return median_us(pair, n, warmup=1)  # first call includes hardware detection
    finally:
        tracker.stop()


def report(label: str, micros: float, n: int) -> None:
    print(f"{label:32s} median: {micros:10.2f} us  (n={n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="iterations for our meters")
    parser.add_argument("--n-codecarbon", type=int, default=20, help="iterations for codecarbon")
    args = parser.parse_args()

    auto = make_meter()
    print(f"machine: {os.cpu_count()} hardware threads; make_meter() -> {auto.method}")
    report("make_meter()", median_us(meter_pair(auto), args.n), args.n)
    report("CpuTimeMeter", median_us(meter_pair(CpuTimeMeter()), args.n), args.n)
    with tempfile.TemporaryDirectory() as tmp:
        rapl = RaplMeter(fake_rapl_root(Path(tmp)))
        report("RaplMeter (fake tree)", median_us(meter_pair(rapl), args.n), args.n)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)  # in case codecarbon writes anything, keep it out of the repo
        try:
            cc = codecarbon_pair(args.n_codecarbon)
        finally:
            os.chdir(cwd)
    report("codecarbon start_task+stop_task", cc, args.n_codecarbon)


if __name__ == "__main__":
    main()
