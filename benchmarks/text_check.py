"""No table of the tabular suite has free text, so text typing must leave its fits as they were.

    python benchmarks/text_check.py            # exit 1 if a column of the 22 is typed as text

Types every dataset's feature columns as `fit` does and lists any column read as text; with
none, every candidate sees exactly the columns it saw before text typing existed (the
leaderboards are then the same: tests/test_text.py checks it on the bundled tables).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite_data  # noqa: E402


def main() -> int:
    from kiss_automl.columns import ColumnTyper

    found = {}
    table = suite_data.manifest()
    for name, row in table.items():
        X, _ = suite_data.load(row)
        typer = ColumnTyper().fit(X)
        if typer.text_columns_:
            found[name] = typer.text_columns_
    print(f"{len(table)} datasets typed; free-text columns: {found or 'none'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
