"""Records API over HTTP against `datasette serve` on the same data, concurrency 1 and 8, in one run.

    python benchmarks/bench_api.py [--rows N] [--seconds S] [--only NAME ...] [--scratch DIR]

Builds the 2,000,000-row bus dataset (and the 200,000-row enterprise one) twice: ingested into a scratch
CityData (SQLite metadata, local files; the tasks the ingest queues are run to the end first) served by
`citydata serve --no-worker`, and loaded into SQLite with the indexes
sqlite-utils would add for Datasette. Each query runs for S seconds per concurrency level over keep-alive
connections on 127.0.0.1; the table gives requests/s and p50/p99 latency. Datasette runs with facet
suggestions off (they cost it seconds per request on 2M rows) and four SQL threads.
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on {port} did not answer {path}")


def citydata_env(var: Path) -> dict:
    return {
        **os.environ,
        "CITYDATA_VAR_DIR": str(var),
        "DATABASE_URL": "",
        "CITYDATA_DEBUG": "false",
        # the benchmark measures queries, not the quota: one client on 127.0.0.1 makes thousands of calls a minute
        "CITYDATA_RATE_ANON_PER_MINUTE": "100000000",
    }


def build_citydata(var: Path, bus: Path, enterprises: Path) -> dict:
    env = citydata_env(var)
    run = lambda *args: subprocess.run([str(BIN / "citydata"), *args], env=env, check=True, capture_output=True)  # noqa: E731
    run("migrate", "-v", "0")
    code = (
        "from citydata.accounts import services as s; from citydata.accounts.models import Department as D\n"
        "D.objects.filter(code='BENCH').exists() or s.department_create(by=None, code='BENCH', name='基准测试部门')"
    )
    run("shell", "-c", code)
    for slug, path in (("bench-bus", bus), ("bench-enterprises", enterprises)):
        # bus plates and enterprise phones are public business data here; the gate would otherwise keep them back
        reason = "基准测试数据：公交车牌与企业电话为公开的单位信息"
        run("ingest", str(path), "--dataset", slug, "--department", "BENCH", "--publish", "--override-reason", reason,
            "-v", "0")  # fmt: skip
    publish = (
        "from citydata.catalog.models import Dataset; "
        "Dataset.objects.filter(slug__startswith='bench-').update(status='published')"
    )
    run("shell", "-c", publish)
    # The work an ingest queues (search indexing, the privacy scan, the quality inspection) runs now, before
    # anything is timed, rather than in the server's worker in the middle of a measurement.
    run("worker", "--batch", "-v", "0")
    return env


def build_sqlite(db: Path, bus: Path, enterprises: Path) -> None:
    """The tables typed as sqlite-utils detects them, with its indexes and full-text search."""
    con = sqlite3.connect(db)
    for table, path, types in (
        ("bus", bus, ["TEXT", "TEXT", "TEXT", "REAL", "REAL", "REAL", "TEXT", "INTEGER"]),
        ("enterprises", enterprises, ["TEXT", "TEXT", "TEXT", "TEXT", "REAL", "TEXT", "TEXT"]),
    ):
        with path.open(encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            columns = ", ".join(f'"{h}" {t}' for h, t in zip(header, types, strict=True))
            con.execute(f'CREATE TABLE "{table}" ({columns})')
            marks = ", ".join("?" for _ in header)
            con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', reader)
    con.commit()
    con.close()
    utils = str(BIN / "sqlite-utils")
    for args in (("bus", "line_no"), ("bus", "ts"), ("bus", "line_no", "ts")):
        subprocess.run([utils, "create-index", str(db), *args], check=True)
    subprocess.run([utils, "enable-fts", str(db), "enterprises", "企业名称", "--fts5"], check=True)


def load(port: int, path: str, seconds: float, concurrency: int) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except OSError:
                errors[0] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan")
    return len(latencies) / elapsed, p50, p99, errors[0]


def file_tag(port: int) -> int:
    """The served file's tag, which keyset tokens carry: read off the first page's `next` token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/datasets/bench-bus/records?_size=1")
    token = json.loads(conn.getresponse().read())["next"]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))[-1]


def queries(line: str, words: str, depth: int, tag: int) -> list[tuple[str, str, str]]:
    """(name, CityData path, Datasette path) for the same question."""
    ours = "/api/v1/datasets/bench-bus/records?"
    ents = "/api/v1/datasets/bench-enterprises/records?"
    keyset = base64.urlsafe_b64encode(json.dumps([depth - 1, tag]).encode()).decode().rstrip("=")
    sql = lambda q: "/bench.json?" + urlencode({"sql": q, "_shape": "objects"})  # noqa: E731
    return [
        (
            "point filter",
            ours + urlencode({"line_no": line, "_size": 100}),
            "/bench/bus.json?" + urlencode({"line_no": line, "_size": 100}),
        ),
        (
            "filter + sort",
            ours + urlencode({"line_no": line, "_sort": "-ts", "_size": 100}),
            "/bench/bus.json?" + urlencode({"line_no": line, "_sort_desc": "ts", "_size": 100}),
        ),
        (
            "group by",
            ours + urlencode({"_group_by": "line_no", "_agg": "count,avg:speed", "_size": 200}),
            sql("select line_no, count(*) as count, avg(speed) from bus group by line_no order by line_no"),
        ),
        (
            "text contains (enterprises)",
            ents + urlencode({"企业名称__contains": words, "_size": 20}),
            "/bench/enterprises.json?" + urlencode({"企业名称__contains": words, "_size": 20}),
        ),
        (
            f"offset page at {depth:,}",
            ours + urlencode({"_offset": depth, "_size": 100}),
            sql(f"select * from bus limit 100 offset {depth}"),
        ),
        (
            f"keyset page at {depth:,}",
            ours + urlencode({"_next": keyset, "_size": 100}),
            "/bench/bus.json?" + urlencode({"_next": depth, "_size": 100}),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(ROOT / "benchmarks" / "data"))
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--enterprise-rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", nargs="*", default=[], help="query names to run (prefixes), e.g. point filter")
    parser.add_argument(
        "--scratch", help="a folder to build both systems in, or to reuse when an earlier run built them there"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks import generate

    data = Path(args.data)
    bus, ents = generate.bus_file(data, args.rows), data / f"enterprises-{args.enterprise_rows}.csv"
    if not ents.exists():
        generate.enterprises(ents, args.enterprise_rows)

    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="citydata-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    db = scratch / "bench.db"
    if (scratch / "built").exists():
        env = citydata_env(scratch / "var")
    else:
        env = build_citydata(scratch / "var", bus, ents)
        build_sqlite(db, bus, ents)
        (scratch / "built").touch()
    ours_port, theirs_port = _free_port(), _free_port()
    servers = [
        subprocess.Popen(
            [str(BIN / "citydata"), "serve", "--port", str(ours_port), "--no-worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [str(BIN / "datasette"), "serve", str(db), "--port", str(theirs_port), "--setting", "max_returned_rows",
             "1000", "--setting", "sql_time_limit_ms", "20000", "--setting", "num_sql_threads", "4",
             "--setting", "suggest_facets", "off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        _wait(ours_port, "/api/v1/datasets/bench-bus/records?_size=1")
        _wait(theirs_port, "/bench/bus.json?_size=1")
        rows = []
        for name, ours, theirs in queries("57路", "科技物流", min(1_000_000, args.rows // 2), file_tag(ours_port)):
            if args.only and not any(name.startswith(prefix) for prefix in args.only):
                continue
            for concurrency in (1, 8):
                ours_result = load(ours_port, ours, args.seconds, concurrency)
                theirs_result = load(theirs_port, theirs, args.seconds, concurrency)
                rows.append((name, concurrency, ours_result, theirs_result))
        print(
            f"\nRecords API on {args.rows:,} bus rows and {args.enterprise_rows:,} enterprises, "
            f"{args.seconds:.0f} s per cell\n"
        )
        print("| query | conc. | CityData req/s | p50 ms | p99 ms | Datasette req/s | p50 ms | p99 ms | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, concurrency, (r1, a50, a99, e1), (r2, b50, b99, e2) in rows:
            flag = " (errors)" if e1 or e2 else ""
            print(
                f"| {name}{flag} | {concurrency} | {r1:.0f} | {a50:.1f} | {a99:.1f} | {r2:.0f} | {b50:.1f} | {b99:.1f} "
                f"| {r1 / r2 if r2 else float('inf'):.1f}× |"
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
