"""Ingest throughput: CityData's ingest (parse, infer types over every value, check, write Parquet) against
DuckDB's own read_csv→Parquet, PostgreSQL COPY (CKAN xloader's path) and sqlite-utils insert (Datasette's
path), measured in the same run on the same file. Reports medians of several runs and peak memory.

    python benchmarks/bench_ingest.py [--rows N] [--runs N] [--sqlite-utils-rows N]

PostgreSQL is the local server (DATABASE_URL's host, or 127.0.0.1:5432 as postgres). sqlite-utils is slow
enough (thousands of rows per second) that it loads a prefix of the file; its rate is per row like the rest.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")


def _median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def citydata_ingest(path: Path, *, then_cluster: bool = False) -> None:
    """Our pipeline without the database bookkeeping (that is a few row updates per file): the file is
    queryable when this returns. `then_cluster` adds what follows in the background: the clustered rewrite and
    the serving copy the records API reads."""
    import duckdb

    from citydata.datastore import ingest, sources

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(work / "spill")})
    con.execute("SET enable_progress_bar = false")  # as `ingest.run` does
    try:
        prepared = sources.prepare(path, path.name, work)
        built = ingest.build(prepared, [], work, con)
        assert prepared.finish() and len(prepared.sha256) == 64
        assert built.rows > 0 and built.bad_total == 0
        if then_cluster:
            assert built.cluster_keys
            ingest.cluster(con, built.parquet, work / "clustered.parquet", built.cluster_keys)
            ingest.write_serving_copy(con, work / "clustered.parquet", work / "serving.duckdb", rows=built.rows)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def citydata_ingest_and_cluster(path: Path) -> None:
    citydata_ingest(path, then_cluster=True)


def duckdb_raw(path: Path) -> None:
    import duckdb

    out = Path(tempfile.mkdtemp(prefix="bench-")) / "raw.parquet"
    try:
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_csv('{path}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def postgres_copy(path: Path) -> None:
    import psycopg

    url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    header = path.open(encoding="utf-8").readline().strip().split(",")
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE UNLOGGED TABLE bench_copy (" + ", ".join(f'"{h}" text' for h in header) + ")")
        with (
            conn.cursor().copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.execute("DROP TABLE bench_copy")


def sqlite_utils_insert(path: Path) -> None:
    out = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        subprocess.run(
            [str(Path(sys.executable).parent / "sqlite-utils"), "insert", str(out / "b.db"), "t", str(path), "--csv"],
            check=True,
            capture_output=True,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


def peak_memory_mb(path: Path) -> float:
    """Peak resident memory of one CityData ingest in a fresh process."""
    code = (
        f"import sys, django; sys.path.insert(0, {str(ROOT)!r}); django.setup(); "
        "from benchmarks.bench_ingest import citydata_ingest; from pathlib import Path; "
        f"citydata_ingest(Path({str(path)!r}))"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(ROOT / "benchmarks" / "data"))
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite-utils-rows", type=int, default=50_000)
    args = parser.parse_args()

    import django

    django.setup()
    from benchmarks import generate

    bus = generate.bus_file(Path(args.data), args.rows)
    prefix = generate.bus_file(Path(args.data), args.sqlite_utils_rows)

    results = []
    for name, fn, path, rows in (
        ("CityData ingest", citydata_ingest, bus, args.rows),
        ("CityData ingest + clustering + copy", citydata_ingest_and_cluster, bus, args.rows),
        ("DuckDB read_csv → Parquet", duckdb_raw, bus, args.rows),
        ("PostgreSQL COPY (text)", postgres_copy, bus, args.rows),
        ("sqlite-utils insert", sqlite_utils_insert, prefix, args.sqlite_utils_rows),
    ):
        runs = 1 if name == "sqlite-utils insert" else args.runs
        seconds = _median_seconds(lambda fn=fn, path=path: fn(path), runs)
        results.append((name, rows, seconds, rows / seconds))
    ours = results[0][3]
    print(
        f"\nIngest of the bus-position CSV ({args.rows:,} rows, {bus.stat().st_size / 2**20:.0f} MiB), median of "
        f"{args.runs} runs\n"
    )
    print(f"| {'path':<28} | {'rows':>10} | {'seconds':>8} | {'rows/s':>10} | {'CityData ÷ this':>15} |")
    print(f"|{'-' * 30}|{'-' * 12}|{'-' * 10}|{'-' * 12}|{'-' * 17}|")
    for name, rows, seconds, rate in results:
        print(f"| {name:<28} | {rows:>10,} | {seconds:>8.2f} | {rate:>10,.0f} | {ours / rate:>14.2f}× |")
    print(f"\nPeak memory of one CityData ingest of {args.rows:,} rows: {peak_memory_mb(bus):.0f} MiB")


if __name__ == "__main__":
    main()
