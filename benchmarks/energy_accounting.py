"""Where a fit's energy goes: per-candidate joules against the whole process and codecarbon.

    python benchmarks/energy_accounting.py [--datasets credit-approval,phoneme]

Runs `kiss-automl fit` on each dataset of ../shared/datasets in its own process and prints,
from its run.json: the sum over candidates, the refit, the whole `fit` call and the whole
process (start-up and imports included), all under the same meter and constants, with the
gap explained, beside codecarbon's whole-run figure (process mode).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def account(name: str, out_root: Path) -> dict:
    manifest = pd.read_csv(SHARED / "MANIFEST.csv").set_index("name")
    row = manifest.loc[name]
    out = out_root / name
    subprocess.run([sys.executable, "-m", "kiss_automl", "fit", str(SHARED / row.file), "--target", row.target,
                    "--out", str(out), "--quiet"], check=True)
    run = json.loads((out / "run.json").read_text())
    energy, parts = run["energy"], run["energy"]["process_cpu_s_parts"]
    watts = energy["constants"]["watts_per_core"]
    inside = energy["candidates_j"] + energy["refit_j"]
    return {
        "dataset": name,
        "candidates_J": energy["candidates_j"],
        "refit_J": energy["refit_j"],
        "fit_call_J": energy["fit_command_j"],
        "process_J": energy["process_j"],
        "gap_J": energy["process_j"] - inside,
        "startup_imports_J": parts["startup_and_imports"] * watts,
        "read_check_J": parts["read_and_check"] * watts,
        "fit_outside_candidates_J": parts["fit"] * watts - inside,
        "search_overhead_%wall": 100 * run["time"]["search_overhead_fraction"],
        "codecarbon_J": energy["codecarbon_whole_run_j"],
        "method": energy["method"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="credit-approval,phoneme")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [account(name, Path(tmp)) for name in args.datasets.split(",")]
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
