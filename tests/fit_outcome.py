"""What every fit on any CSV must end in, checked the same way for the fuzzed corpus
(test_fuzz.py) and for the fixed cases it found (tests/malformed/fuzz/, test_fuzz_cases.py):
exit 0 with a complete output folder that predicts the same file, or exit 2 with one line."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

from kiss_automl.cli import main
from kiss_automl.data import read_csv

# A tiny search: the cases are about reading and typing data, not about models.
SEARCH = ["--config", "fast", "--max-trials", "3", "--trial-timeout", "60"]
OUTPUT_FILES = {"model.skops", "model.json", "leaderboard.csv", "run.json", "journal.jsonl"}


def run(argv: list[str], capfd) -> tuple[int, str]:
    """main(argv) in this process (no start-up cost per case), with its exit code and stderr.

    Python warnings reach stderr as they would in a user's shell (pytest would collect them).
    """
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)  # Python's own defaults
        warnings.showwarning = _to_stderr
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own refusals
            code = exit_.code
    return code, capfd.readouterr().err


def _to_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def fit(source: Path, target: str, task: str, quiet: bool, out: Path, capfd) -> tuple[int, str]:
    return run(["fit", str(source), f"--target={target}", f"--task={task}", "--out", str(out), *SEARCH,
                *(["--quiet"] if quiet else [])], capfd)


def check_refusal(err: str, quiet: bool) -> str:
    """Exit 2's stderr: the error as its last line, no traceback; with --quiet, nothing else."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("kiss-automl: error:"), err
    assert "Traceback" not in err, err
    if quiet:
        assert len(lines) == 1, err
    return lines[-1]


def check_quiet(err: str) -> None:
    """--quiet on a fit that worked: nothing on stderr."""
    assert not err.strip(), err


def check_model(source: Path, out: Path, capfd) -> None:
    """Exit 0's folder: complete, and it predicts every row of the file it was fitted on."""
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert json.loads((out / "run.json").read_text())["stop_reason"]
    pred = out.parent / "pred.csv"
    code, err = run(["predict", str(out), str(source), "--output", str(pred)], capfd)
    assert code == 0, err
    assert "Ignoring" not in err, err  # the target column of the file itself is not an extra column
    target = json.loads((out / "model.json").read_text())["target"]
    written = pd.read_csv(pred, keep_default_na=False)
    assert len(written) == len(read_csv(source))
    assert written.columns[0] == (target or "Unnamed: 0")  # pandas names an empty header so
