"""What a fit on a cluster cost, for run.json: per host, the driver, the workers' idle share.

The candidates' own readings are taken on the workers (task.py). Around them, the workers'
processes and the driver burn CPU too (Dask's messages, unpickling, waiting on the slowest
task): counted here from each process's CPU-seconds, so that a distributed fit does not look
cheaper than it was.
"""

from __future__ import annotations

from typing import Iterable

LOST_METHOD = "wall-time bound"


def summarize(figures: dict, candidates: Iterable, driver_watts_per_core: float, window: int) -> dict:
    """`figures` from DaskRunner.close(); `candidates` the search's (replayed ones excluded)."""
    hosts: dict[str, dict] = {}
    measured_j = lost_j = 0.0
    for c in candidates:
        if c.replayed or c.family == "ensemble" or not c.placement:
            continue
        host = hosts.setdefault(c.placement["host"], {"candidates": 0, "failed": 0, "joules": 0.0, "cpu_s": 0.0,
                                                      "methods": []})
        host["candidates"] += 1
        host["failed"] += int(not c.ok)
        host["joules"] += c.evaluation.joules
        host["cpu_s"] += c.evaluation.fit_cpu_s
        if c.placement["method"] not in host["methods"]:
            host["methods"].append(c.placement["method"])
        if c.placement["method"].startswith(LOST_METHOD):
            lost_j += c.evaluation.joules
        else:
            measured_j += c.evaluation.joules
    for host in hosts.values():
        host["method"] = host["methods"][0] if len(host["methods"]) == 1 else "mixed: " + "; ".join(host["methods"])
    driver_j = figures["driver_cpu_s"] * driver_watts_per_core
    workers = figures.get("workers")
    workers_j = sum(w["joules"] for w in workers.values()) if workers is not None else None
    for w in (workers or {}).values():
        host = hosts.setdefault(w["host"], {"candidates": 0, "failed": 0, "joules": 0.0, "cpu_s": 0.0,
                                            "methods": [], "method": ""})
        host["worker_processes_j"] = host.get("worker_processes_j", 0.0) + w["joules"]
    # The workers' processes hold the candidates they ran to the end; a worker that died
    # took its figure with it, and its candidate counts at its wall-time bound instead.
    on_workers_j = max(workers_j, measured_j) if workers_j is not None else measured_j
    return {
        "scheduler": figures["scheduler"],
        "local": figures["local"],
        "slots": figures["slots"],
        "in_flight": window,
        "workers_started": figures.get("workers_started"),
        "hosts": hosts,
        "driver_j": driver_j,
        "driver_cpu_s": figures["driver_cpu_s"],
        "driver_method": f"cpu-time-model(W/core={driver_watts_per_core:.3g}), this process only",
        "candidates_on_workers_j": measured_j + lost_j,
        "workers_processes_j": workers_j,
        "workers_method": "cpu-time-model of each worker process, W/core of its machine",
        "workers_idle_j": max(workers_j - measured_j, 0.0) if workers_j is not None else None,
        "lost_tasks_j": lost_j,
        "total_j": driver_j + on_workers_j + lost_j,
        # local:N workers are this process's children, or its forkserver's (forkserver.py): once
        # reaped, the fit's own meter (the CPU-time model's reaped children, or RAPL's whole
        # machine) holds them already.
        "workers_in_fit_meter": figures["local"],
    }
