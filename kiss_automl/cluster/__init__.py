"""Past one machine: the same search with candidates as tasks on a Dask cluster (the `dask`
extra). The driver keeps the study (search.py); this package connects (connect.py), runs
candidates as tasks (runner.py, task.py), measures them on their workers (worker_meter.py),
adds up what the cluster cost (accounting.py) and sets up a local cluster's workers
(worker_setup.py). Importing it does not import dask.
"""

from __future__ import annotations

from .connect import EXTRA, require

__all__ = ["EXTRA", "require", "start_runner"]


def start_runner(scheduler, data, plan, config):
    """A DaskRunner on `scheduler` (an address, 'local:N' or a distributed.Client) holding
    `data` and `plan` on every worker."""
    from .connect import connect
    from .runner import DaskRunner

    return DaskRunner(connect(scheduler, config.memory_limit), data, plan)
