"""`kiss-automl report`: a later issue; the verb exists so the contract's place is kept."""

from __future__ import annotations

import argparse

from .errors import KissError


def report_command(args: argparse.Namespace) -> int:
    raise KissError("The report verb is not available yet; use `kiss-automl leaderboard DIR --format markdown`")
