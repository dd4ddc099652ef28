"""Run by Dask in each worker process of a `local:N` cluster as it starts (a worker preload).

A terminal's Ctrl-C reaches every process in its group, this fit's workers too. The driver
handles it (it cancels the tasks and closes the cluster), so a worker ignores it instead of
printing a traceback. A forked worker would also keep the driver's SIGTERM handler (Ctrl-C's
twin, commands.py); a worker that its nanny terminates just ends.
"""

from __future__ import annotations

import signal


def dask_setup(worker) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
