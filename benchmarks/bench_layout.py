"""The records API's queries on a version's Parquet file against the same queries on its DuckDB serving copy,
in-process (no HTTP), on the 2,000,000-row bus file, in the same run.

    python benchmarks/bench_layout.py [--rows N] [--rounds N]

The file goes through CityData's own ingest (types, clustered rewrite, layout, serving copy) in a scratch
folder. Each query is a `records.run` call, the function the API calls, once with the serving copy and once
without, alternating round by round so both see the same machine. Reported: the median wall time and the
median CPU time of the calling thread (DuckDB runs row queries on that thread), in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")

QUERIES = [
    ("point filter", {"line_no": "57路", "_size": "100"}),
    ("filter + sort (by position)", {"line_no": "57路", "_sort": "-ts", "_size": "100"}),
    ("filter + other sort", {"line_no": "57路", "_sort": "-speed", "_size": "100"}),
    ("two filters", {"line_no": "57路", "speed__gte": "50", "_size": "100"}),
    ("sort everything by time", {"_sort": "-ts", "_size": "100"}),
    ("group by", {"_group_by": "line_no", "_agg": "count,avg:speed", "_size": "200"}),
    ("substring", {"plate__contains": "B1123", "_size": "20"}),
]


def build(csv: Path, work: Path) -> tuple[Path, dict, list[dict], dict, int]:
    import duckdb

    from citydata.datastore import ingest, sources
    from citydata.datastore.storage import get_storage

    con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(work / "spill")})
    prepared = sources.prepare(csv, csv.name, work)
    built = ingest.build(prepared, [], work, con)
    prepared.finish()
    clustered = work / "clustered.parquet"
    ingest.cluster(con, built.parquet, clustered, built.cluster_keys)
    layout = ingest.zones_of(con, clustered, built.cluster_keys)
    copy = work / "serving.duckdb"
    ingest.write_serving_copy(con, clustered, copy, rows=built.rows)
    con.close()
    get_storage().put(copy, "bench/serving.duckdb")  # the layout names the copy by its storage key
    layout.update(file=str(clustered), native="bench/serving.duckdb")
    return clustered, layout, [c.as_dict() for c in built.columns], built.point, built.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(ROOT / "benchmarks" / "data"))
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-layout-"))
    os.environ["CITYDATA_VAR_DIR"] = str(work / "var")  # storage (var/datastore) in the scratch folder
    os.environ["DATABASE_URL"] = ""
    import django

    django.setup()
    from django.http import QueryDict

    from benchmarks import generate
    from citydata.datastore import records

    csv = generate.bus_file(Path(args.data), args.rows)
    try:
        parquet, layout, columns, point, rows = build(csv, work)
        print(f"\nRecords queries on {rows:,} bus rows, in-process, median of {args.rounds} rounds (ms)\n")
        print("| query | Parquet wall | Parquet CPU | serving copy wall | serving copy CPU | Parquet ÷ copy (wall) |")
        print("|---|---:|---:|---:|---:|---:|")
        depth = min(1_000_000, rows // 2)  # as deep as bench_api.py pages
        for name, params in [*QUERIES, (f"offset {depth:,}", {"_offset": str(depth), "_size": "100"})]:
            query = records.parse(QueryDict(urlencode(params)), columns, point, max_size=1000)
            timings: dict[str, tuple[list[float], list[float]]] = {"parquet": ([], []), "copy": ([], [])}
            for round_ in range(args.rounds + 3):
                for side, used in (("parquet", {k: v for k, v in layout.items() if k != "native"}), ("copy", layout)):
                    wall, cpu = time.perf_counter(), time.thread_time()
                    page = records.run(query, str(parquet), columns, point, row_count=rows, layout=used)
                    if round_ >= 3:  # the first rounds warm caches on both sides
                        timings[side][0].append(time.perf_counter() - wall)
                        timings[side][1].append(time.thread_time() - cpu)
                    assert page.rows, name
            p_wall, p_cpu = (statistics.median(t) * 1000 for t in timings["parquet"])
            c_wall, c_cpu = (statistics.median(t) * 1000 for t in timings["copy"])
            print(f"| {name} | {p_wall:.2f} | {p_cpu:.2f} | {c_wall:.2f} | {c_cpu:.2f} | {p_wall / c_wall:.1f}× |")
        print(f"\nSizes: Parquet {parquet.stat().st_size / 2**20:.1f} MiB, serving copy "
              f"{(work / 'serving.duckdb').stat().st_size / 2**20:.1f} MiB")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
