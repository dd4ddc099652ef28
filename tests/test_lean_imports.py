"""The `kiss-automl` process's lean imports: scipy's docstrings left unparsed, imports made
with the garbage collector paused, and nothing that a fit or a prediction computes changed."""

from __future__ import annotations

import gc
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from kiss_automl import lean_imports

from .conftest import DATASETS

# The same scipy calls in two processes: one as a user's program imports scipy, one as ours does.
PROBE = """
import inspect, json, sys
lean = sys.argv[1] == "lean"
if lean:
    from kiss_automl.lean_imports import skip_scipy_docstring_parsing
    assert skip_scipy_docstring_parsing()
import scipy.stats, sklearn.linear_model
from scipy._lib._docscrape import FunctionDoc
result = scipy.stats.ttest_ind([1.0, 2.0, 3.0, float("nan"), 4.0], [2.0, 3.0, 4.0, 9.0, 7.0], nan_policy="omit")
print(json.dumps({"p": float(result.pvalue), "doc": scipy.stats.ttest_ind.__doc__,
                  "parameters": list(inspect.signature(scipy.stats.ttest_ind).parameters),
                  "parses": not getattr(FunctionDoc, "keeps_docstring_as_written", False)}))
"""


def _probe(kind: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, kind], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_scipy_imported_without_parsing_docstrings_computes_the_same_and_keeps_the_docstrings_as_written():
    plain, lean = _probe("plain"), _probe("lean")
    assert plain["parses"] and not lean["parses"]
    assert lean["p"] == plain["p"] and 0 < lean["p"] < 1
    assert lean["parameters"] == plain["parameters"] and "nan_policy" in lean["parameters"]
    # The written docstring is there; only the notes that parsing appends are not.
    summary = plain["doc"].strip().splitlines()[0]
    assert lean["doc"].strip().splitlines()[0] == summary
    assert len(lean["doc"]) < len(plain["doc"])


def test_too_late_to_skip_the_parsing_once_scipy_stats_is_imported():
    importlib.import_module("scipy.stats")
    from scipy._lib import _docscrape

    before = _docscrape.FunctionDoc
    assert lean_imports.skip_scipy_docstring_parsing() is False
    assert _docscrape.FunctionDoc is before


def test_imports_with_the_collector_paused_leave_it_as_it_was_and_freeze_what_they_made():
    frozen = gc.get_freeze_count()
    try:
        lean_imports.import_with_gc_paused(["json"])
        assert gc.isenabled() and gc.get_freeze_count() >= frozen
        gc.disable()
        lean_imports.import_with_gc_paused(["csv"])
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_command_process_fits_and_predicts_with_lean_imports_as_a_library_fit_does(tmp_path: Path):
    """The `kiss-automl` entry point in its own process: scipy's parsing skipped and the imports
    frozen there, and the model folder it writes predicts what an in-process fit's does."""
    from kiss_automl.cli import main

    args = ["--target", "class", "--config", "fast", "--max-trials", "4", "--seed", "3", "--quiet"]
    csv = str(DATASETS / "car.csv")
    probe = ("import atexit, gc, sys\n"
             "from kiss_automl import cli\n"
             "def report():\n"
             "    from scipy._lib._docscrape import FunctionDoc\n"
             "    print('LEAN', getattr(FunctionDoc, 'keeps_docstring_as_written', False), gc.get_freeze_count() > 0)\n"
             "atexit.register(report)\n"
             "sys.argv = ['kiss-automl'] + sys.argv[1:]\n"
             "cli.run()\n")
    command = subprocess.run([sys.executable, "-c", probe, "fit", csv, "--out", str(tmp_path / "cmd"), *args],
                             capture_output=True, text=True)
    assert command.returncode == 0, command.stderr
    assert "LEAN True True" in command.stdout
    assert main(["fit", csv, "--out", str(tmp_path / "lib"), *args]) == 0
    for name in ("cmd", "lib"):
        predicted = subprocess.run([sys.executable, "-c", probe, "predict", str(tmp_path / name), csv,
                                    "--output", str(tmp_path / f"{name}.csv")], capture_output=True, text=True)
        assert predicted.returncode == 0, predicted.stderr
        assert "LEAN True True" in predicted.stdout
    command_board = pd.read_csv(tmp_path / "cmd" / "leaderboard.csv")
    library_board = pd.read_csv(tmp_path / "lib" / "leaderboard.csv")
    assert command_board[["family", "params", "score"]].equals(library_board[["family", "params", "score"]])
    assert pd.read_csv(tmp_path / "cmd.csv").equals(pd.read_csv(tmp_path / "lib.csv"))
