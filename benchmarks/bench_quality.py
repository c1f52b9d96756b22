"""Content checks of a 2,000,000-row table vs `frictionless validate` on the same CSV file, in one run.

    python benchmarks/bench_quality.py [--rows N] [--skip-frictionless]

Generates the table (benchmarks/quality_data.py: dates, counts, coordinates, nulls, duplicate rows with known
problems), then times:

* CityData's content checks (`citydata.quality.profile.measure`: row count, fingerprint, duplicate rows, nulls
  per column, type violations, impossible dates, negative counts, coordinates outside the city) as one
  vectorised DuckDB pass over the CSV, the same file frictionless reads;
* the same checks over the Parquet file the platform keeps for a data version (what inspections run on);
* `frictionless validate` of the CSV with a Table Schema holding the same rules (types, minimum visitors,
  date and coordinate ranges) plus its duplicate-row check, with no error limit, so it reads every row.

Prints rows/s of each and the speed-up, and checks both found the same number of problems.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")
os.environ.setdefault("CITYDATA_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402
from quality_data import COLUMNS, generate  # noqa: E402

from citydata.quality import profile  # noqa: E402

TODAY = dt.date(2026, 11, 28)  # fixed, so the date range is the same in every run
DUCK_TYPES = {"integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "string": "VARCHAR"}


class Field:
    """A declared field as the checks read it (type, unit, title)."""

    def __init__(self, column: dict, unit: str = ""):
        self.type, self.unit, self.title = column["type"], unit, column["title"]


def ours(source: str) -> tuple[float, dict]:
    con = duckdb.connect(config={"threads": os.cpu_count() or 2})
    fields = {c["name"]: Field(c, "人" if c["name"] == "visitors" else "") for c in COLUMNS}
    started = time.perf_counter()
    stats = profile.measure(con, source, COLUMNS, fields, {"lng": "lng", "lat": "lat"}, today=TODAY)
    return time.perf_counter() - started, stats


def problems_of(stats: dict) -> dict[str, int]:
    columns = stats["columns"]
    return {
        "impossible dates": columns["visit_date"].get("out_of_range", 0),
        "negative counts": columns["visitors"].get("negative", 0),
        "outside the city": stats["outside_city"],
        "duplicate rows": stats["duplicates"],
    }


def frictionless_run(path: Path) -> tuple[float, dict[str, int], int]:
    from frictionless import Checklist, Resource, Schema, checks, validate

    west, south, east, north = profile.CITY_BBOX
    latest = (TODAY + dt.timedelta(days=profile.FUTURE_DAYS)).isoformat()
    schema = Schema.from_descriptor(
        {
            "fields": [
                {"name": "record_id", "type": "integer"},
                {"name": "district", "type": "string"},
                {"name": "visit_date", "type": "date", "constraints": {"minimum": "1900-01-01", "maximum": latest}},
                {"name": "visitors", "type": "integer", "constraints": {"minimum": 0}},
                {"name": "lng", "type": "number", "constraints": {"minimum": west, "maximum": east}},
                {"name": "lat", "type": "number", "constraints": {"minimum": south, "maximum": north}},
                {"name": "category", "type": "string"},
                {"name": "note", "type": "string"},
            ]
        }
    )
    resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)  # frictionless refuses absolute paths
    started = time.perf_counter()
    report = validate(resource, checklist=Checklist(checks=[checks.duplicate_row()]), limit_errors=10**9)
    elapsed = time.perf_counter() - started
    task = report.tasks[0]
    found = {"impossible dates": 0, "negative counts": 0, "outside the city": 0, "duplicate rows": 0}
    outside_rows: set[int] = set()
    for error in task.errors:
        note = error.type
        field = getattr(error, "field_name", "")
        if note == "duplicate-row":
            found["duplicate rows"] += 1
        elif note == "constraint-error" and field == "visit_date":
            found["impossible dates"] += 1
        elif note == "constraint-error" and field == "visitors":
            found["negative counts"] += 1
        elif note == "constraint-error" and field in ("lng", "lat"):
            outside_rows.add(error.row_number)
    found["outside the city"] = len(outside_rows)
    return elapsed, found, task.stats.get("rows") or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--skip-frictionless", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    csv_path = work / "quality.csv"
    print(f"generating {args.rows:,} rows …", flush=True)
    generate(csv_path, args.rows)
    types = ", ".join(f"'{c['name']}': '{DUCK_TYPES[c['type']]}'" for c in COLUMNS)
    csv_source = f"read_csv('{csv_path}', header=true, columns={{{types}}})"
    parquet_path = work / "quality.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM {csv_source}) TO '{parquet_path}' (FORMAT parquet)")

    print(f"{'what':<44}{'seconds':>10}{'rows/s':>14}")
    csv_seconds, csv_stats = ours(csv_source)
    print(f"{'CityData content checks, CSV':<44}{csv_seconds:>10.2f}{args.rows / csv_seconds:>14,.0f}", flush=True)
    pq_seconds, pq_stats = ours(profile.parquet_source(str(parquet_path)))
    print(f"{'CityData content checks, Parquet version':<44}{pq_seconds:>10.2f}{args.rows / pq_seconds:>14,.0f}")
    assert problems_of(csv_stats) == problems_of(pq_stats)
    print("problems found:", problems_of(csv_stats))
    if args.skip_frictionless:
        return
    fl_seconds, fl_found, fl_rows = frictionless_run(csv_path)
    print(f"{'frictionless validate, CSV':<44}{fl_seconds:>10.2f}{fl_rows / fl_seconds:>14,.0f}")
    print("frictionless found:", fl_found, f"({fl_rows:,} rows read)")
    print(f"speed-up on the same CSV: {fl_seconds / csv_seconds:.0f}×  (Parquet: {fl_seconds / pq_seconds:.0f}×)")
    if fl_found != problems_of(csv_stats):
        print("note: the two counts differ (see above)")


if __name__ == "__main__":
    main()
