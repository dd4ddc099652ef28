"""The delimiter of a CSV, sniffed from a sample: standard library only, so that `estimate`
reads files as `fit` does without importing pandas."""

from __future__ import annotations

import csv

#: Delimiters the sniffer may choose from.
DELIMITERS = ",;\t|"


def sniff_delimiter(text: str) -> str:
    """The delimiter among :data:`DELIMITERS`, from complete lines of the sample."""
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut mid-way
    header = lines[0] if lines else ""
    try:
        found = csv.Sniffer().sniff("\n".join(lines[:200]), delimiters=DELIMITERS).delimiter
        # A delimiter absent from the header came from a text field ("x;y" in every row).
        if found in header or not any(d in header for d in DELIMITERS):
            return found
    except csv.Error:
        pass  # it gives up on some files, e.g. with a single data row
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","
