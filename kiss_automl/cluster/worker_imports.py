"""Imported once, by a server started as a new interpreter for a `local:N` cluster's workers to
be forked from (forkserver.py; the `kiss-automl` command forks its server from itself instead,
once it has imported the same modules): what a worker needs to run candidates, so that no
worker imports it again.

The imports are made lean (lean_imports.py), as in the `kiss-automl` command: the server and
its workers are this fit's processes alone. A worker forked from it ends with `os._exit`, so
no collection walks these objects at its exit either.
"""

from __future__ import annotations

import os
import signal

from .connect import WORKER_ENV
from .forkserver import import_worker_modules

# A terminal's Ctrl-C reaches the server too, here mid-import (the estimator starts it as its
# `fit` begins): the fit that started it stops it (forkserver.stop). multiprocessing's server
# ignores Ctrl-C once its imports are done, and so do the workers forked from it.
signal.signal(signal.SIGINT, signal.SIG_IGN)
# Read by OpenMP, OpenBLAS and MKL when they load, which is here, not in a worker forked later.
os.environ.update(WORKER_ENV)

import_worker_modules()  # each module on its own: one that fails fails again, with its reason, in a worker
