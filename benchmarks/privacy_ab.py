"""Before/after timing of `scan_table` on one file, for a machine whose load comes and goes: two source trees
(checkouts of two commits) are timed alternately, each run in a fresh process that scans once to warm up and then
times `--scans` scans, so both trees see the same load.

    git archive OLD_COMMIT citydata | tar -x -C /tmp/old      # the tree to compare with
    python benchmarks/privacy_data.py /tmp/pii                # or any CSV/Parquet file
    python benchmarks/privacy_ab.py /tmp/old . /tmp/pii/health.csv [--rounds 4] [--scans 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TIMER = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")
import django
django.setup()
from citydata.privacy import scan
scan.scan_table(sys.argv[1])
times = []
for _ in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    scan.scan_table(sys.argv[1])
    times.append((time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="Source tree of the old code (holds citydata/).")
    parser.add_argument("after", help="Source tree of the new code.")
    parser.add_argument("file", help="CSV, TSV, Excel or Parquet file to scan.")
    parser.add_argument("--rounds", type=int, default=4, help="Processes per tree, alternating.")
    parser.add_argument("--scans", type=int, default=3, help="Timed scans per process.")
    args = parser.parse_args()
    env = {**os.environ}
    env.setdefault("CITYDATA_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))
    times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    loads = []
    for _ in range(args.rounds):
        for name in times:
            loads.append(os.getloadavg()[0])
            out = subprocess.run(
                [sys.executable, "-c", TIMER, os.path.abspath(args.file), str(args.scans)],
                cwd=getattr(args, name),
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            times[name] += json.loads(out.strip().splitlines()[-1])
    print(f"{args.file}: {args.rounds} processes × {args.scans} scans per tree, alternating")
    print(f"load average (1 min) before each process: {min(loads):.2f}–{max(loads):.2f}\n")
    print("| code | wall s median | wall s best | CPU s median | rows/s (median wall) |")
    print("|---|---:|---:|---:|---:|")
    rows = _rows(args.file)
    for name, pairs in times.items():
        walls, cpus = [w for w, _c in pairs], [c for _w, c in pairs]
        wall = statistics.median(walls)
        print(f"| {name} | {wall:.3f} | {min(walls):.3f} | {statistics.median(cpus):.3f} | {rows / wall:,.0f} |")


def _rows(path: str) -> int:
    import duckdb

    reader = "read_parquet" if path.endswith(".parquet") else "read_csv"
    return duckdb.connect().execute(f"SELECT count(*) FROM {reader}(?)", [path]).fetchone()[0]  # type: ignore[index]


if __name__ == "__main__":
    main()
