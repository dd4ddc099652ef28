"""run.json: what a fit was, what it found and what it cost, for people and for `report`.

Both doors write it: the CLI with its whole-command meter and codecarbon's cross-check, a
fitted estimator (for `kiss_automl.report`) with the figures its search measured.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from typing import Any

from . import __version__
from .config import SearchConfig


def build(estimator, data: dict[str, Any], *, command: str | None = None, whole=None,
          cpu_parts: dict[str, float] | None = None, tracker=None, wall_s: float | None = None,
          pue_source: str | None = None) -> dict:
    """The run record of a fitted `estimator`.

    `data` says what it was fit on (csv, target, rows, columns). The CLI adds the reading of
    its meter around the whole fit (`whole`), the process's CPU-seconds by phase
    (`cpu_parts`), codecarbon's `tracker` and the command's wall time; without them those
    figures are None. `pue_source` says where the PUE came from (default: the config's).
    """
    summary = estimator.search_summary_
    settings = estimator._settings()
    energy = dict(summary["energy"])
    constants = whole.constants if whole is not None else energy["constants"]
    watts = constants.get("watts_per_core")
    g_per_j = summary["carbon_intensity"]["g_per_kwh"] * summary["pue"] / 3.6e6
    if whole is not None:
        # The meter around the fit: typing, search and refit (GPUs included where present).
        # process_j adds the process's start-up, imports and CSV reading (CPU-time model).
        energy.update(fit_command_j=whole.joules, fit_command_memory_j=whole.memory_joules)
    if cpu_parts is not None:
        energy.update(process_cpu_s=sum(cpu_parts.values()), process_cpu_s_parts=cpu_parts,
                      process_j=sum(cpu_parts.values()) * watts if watts is not None else None)
    # codecarbon's whole-run figure, when asked for (--cross-check), and what running it cost.
    energy.update(codecarbon_whole_run_j=tracker and tracker.energy_joules, codecarbon_error=tracker and tracker.error,
                  codecarbon_overhead_j=tracker.overhead_cpu_s * watts if tracker and watts is not None else None)
    cluster = summary.get("cluster")
    if cluster is not None and not cluster["workers_in_fit_meter"]:
        _add_workers(energy, cluster)
    co2 = dict(summary["co2_g"])
    if whole is not None:
        co2["fit_command"] = energy["fit_command_j"] * g_per_j
    if energy.get("process_j") is not None:
        co2["process"] = energy["process_j"] * g_per_j
    co2["codecarbon_whole_run"] = tracker and tracker.emissions_g
    return {
        "kiss_automl_version": __version__,
        "command": command,
        "data": data,
        "task": summary["task"],
        "metric": summary["metric"],
        "seed": _seed(estimator),
        "stop_reason": summary["stop_reason"],
        "stop_detail": summary.get("stop_detail", {}),
        "selected": summary["selected"],
        "evaluation": summary["evaluation"],
        "n_candidates": summary["n_candidates"],
        "n_failed": summary["n_failed"],
        "n_replayed": summary["n_replayed"],
        "skipped_families": summary["skipped_families"],
        "notes": estimator.notes_,
        "energy": energy,
        "co2_g": co2,
        "carbon_intensity": summary["carbon_intensity"],
        "pue": {"value": summary["pue"], "source": pue_source or _pue_source(settings)},
        "time": {**summary["time"], "fit_command_s": wall_s, "process_s": _process_seconds() if whole else None},
        "config": dataclasses.asdict(settings),
        **({"cluster": cluster} if cluster is not None else {}),
        **({"text": summary["text"]} if "text" in summary else {}),  # how free text was used
        # The choice trained on every row of the file on the cluster (fit --refit-whole-file).
        **({"whole_file_refit": summary["whole_file_refit"]} if "whole_file_refit" in summary else {}),
        "hardware": hardware(constants, settings.n_jobs),
        "versions": versions(),
    }


def _add_workers(energy: dict, cluster: dict) -> None:
    """A remote cluster's workers are not in this process's meter: their energy (candidates,
    idle share, lost tasks; `cluster.total_j` less the driver) is added to the fit's figures,
    so that a distributed fit does not look cheaper than it was."""
    workers_j = cluster["total_j"] - cluster["driver_j"]
    energy["workers_added_j"] = workers_j
    for name in ("fit_command_j", "process_j"):
        if energy.get(name) is not None:
            energy[name] += workers_j


def _process_seconds() -> float:
    """Wall time since this process started: the span `process_j` covers."""
    import time

    import psutil

    return time.time() - psutil.Process().create_time()


def _seed(estimator) -> Any:
    seed = estimator.random_state
    return seed if seed is None or isinstance(seed, int) else repr(seed)


def _pue_source(settings: SearchConfig) -> str:
    return "default" if settings.pue == SearchConfig().pue else "config"


def hardware(constants: dict, n_jobs: int = 1) -> dict:
    """The machine, as a carbon statement names it: CPU model, cores used, GPUs, memory."""
    import psutil

    cpus = os.cpu_count() or 1
    return {"cpu_model": constants.get("cpu_model", platform.processor()), "logical_cpus": cpus,
            # One thread per model; n_jobs candidates' folds at once (-1: every core).
            "cores_used": cpus if n_jobs == -1 else min(max(n_jobs, 1), cpus),
            "gpus": constants.get("gpu_names", []),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "platform": platform.platform()}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("scikit-learn", "lightgbm", "xgboost", "torch", "optuna", "codecarbon", "pandas", "numpy",
                    "skops", "matplotlib"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out
