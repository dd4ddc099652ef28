"""Importing kiss_automl.energy must stay cheap: no heavy optional imports."""

import os
import subprocess
import sys
from pathlib import Path

import kiss_automl.energy as energy

REPO = Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_heavy_module():
    code = (
        "import sys, kiss_automl.energy\n"
        "heavy = ('codecarbon', 'pynvml', 'torch', 'pycountry', 'pandas', 'psutil')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_public_api():
    for name in ["Reading", "make_meter", "measure", "split_by_cpu_share", "CpuTimeMeter", "RaplMeter",
                 "NvmlMeter", "parse_energy", "parse_co2", "format_joules", "carbon_intensity", "grams_co2",
                 "WholeRunTracker"]:
        assert name in energy.__all__ and hasattr(energy, name)
