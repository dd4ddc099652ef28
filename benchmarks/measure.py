"""Run a child process and measure it from outside: wall time, CPU-seconds, peak memory, joules.

The parent waits with ``os.wait4``, whose rusage covers the child and every
descendant it reaped (user + system CPU-seconds), and the largest resident
set among them (``ru_maxrss``, KiB). Energy is charged the same way for every
system (see `Charger`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

MARKER = "BENCH_RESULT "


class Charger:
    """Turns a child's CPU-seconds (or a RAPL window) into joules, the same for all systems.

    kind "auto": RAPL package energy over the child's wall window when
    /sys/class/powercap is readable (machine-wide: keep the machine quiet),
    else CPU-seconds x watts per core from kiss-automl's CPU-time model.
    kind "cpu-time": always the model.
    """

    def __init__(self, kind: str = "auto", watts_per_core: float | None = None,
                 powercap_root: str = "/sys/class/powercap"):
        from kiss_automl.energy import CpuTimeMeter, RaplMeter

        model = CpuTimeMeter(watts_per_core)
        self.watts_per_core = model.watts_per_core
        self.constants = model.constants
        rapl = RaplMeter(powercap_root) if kind == "auto" else None
        self.rapl = rapl if rapl is not None and rapl.available() else None
        self.method = "rapl-package" if self.rapl else f"cpu-time-model({self.watts_per_core:g} W/core)"

    def start(self):
        return self.rapl.start() if self.rapl else None

    def stop(self, token, cpu_seconds: float) -> dict:
        model_j = cpu_seconds * self.watts_per_core
        out = {"energy_method": self.method, "watts_per_core": self.watts_per_core, "cpu_model_j": model_j}
        if self.rapl:
            reading = self.rapl.stop(token)
            out.update(energy_j=reading.joules, rapl_dram_j=reading.memory_joules)
        else:
            out["energy_j"] = model_j
        return out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def parse_result(text: str) -> dict | None:
    """The last ``BENCH_RESULT {json}`` line of a child's stdout, or None."""
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER):
            try:
                return json.loads(line[len(MARKER):])
            except json.JSONDecodeError:
                return None
    return None


def spawn(cmd: list[str], timeout_s: float, log_path: Path, charger: Charger, cwd: str | None = None) -> dict:
    """Run `cmd` in its own session; return the outside measurements plus the child's JSON result.

    status: "ok", "error" (the child reported a failure), "crashed" (no result line),
    or "timeout" (killed after `timeout_s`). Leftover processes of the child's
    group are killed once it has exited.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as out_file, open(log_path, "wb") as log:
        token = charger.start()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=cwd)
        timed_out = threading.Event()

        def on_timeout():
            timed_out.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout_s, on_timeout)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        energy = charger.stop(token, cpu)
        _kill_group(proc.pid)  # stray workers the child left behind
        out_file.seek(0)
        stdout = out_file.read().decode("utf-8", "replace")
        log.write(b"\n--- stdout ---\n" + stdout.encode("utf-8"))
    result = parse_result(stdout) or {}
    measured = {"wall_s": wall, "cpu_s": cpu, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
                "peak_rss_mib": usage.ru_maxrss / 1024.0, "returncode": proc.returncode, **energy}
    if timed_out.is_set():
        result.update(status="timeout", error=f"killed after {timeout_s:.0f} s")
    elif not result:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        result.update(status="crashed", error=f"exit {proc.returncode}, no result line: " + " | ".join(tail)[-400:])
    return {**result, **measured}
