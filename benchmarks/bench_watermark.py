"""Watermark benchmark: detection rate over leak transformations, false accusations, and embed throughput.

    .venv/bin/python benchmarks/bench_watermark.py [--trials 40] [--rows 200000]

A seeded generator writes a 10-column conditional health-service table; each recipient's export is marked through
the real export path (`select_marked` over DuckDB). Every trial picks a recipient out of 50 candidates, transforms
their export the way a leaker might, writes it as CSV, XLSX, Parquet or JSON in turn, reads the file back and asks
`detect` who it was. Counted: identified correctly, named someone else (a false accusation), or cannot tell.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citydata.privacy import watermark  # noqa: E402

COLUMNS = [
    ("编号", "integer"),
    ("机构", "string"),
    ("性别", "string"),
    ("年龄", "integer"),
    ("费用", "decimal"),
    ("经度", "decimal"),
    ("纬度", "decimal"),
    ("就诊时间", "datetime"),
    ("诊断", "string"),
    ("备注", "string"),
]
NAMES = [n for n, _ in COLUMNS]
DUCK = {"integer": "BIGINT", "string": "VARCHAR", "decimal": "DOUBLE", "datetime": "TIMESTAMP"}
PLACES = [
    f"{d}{k}"
    for d in ("涪城区", "游仙区", "安州区", "江油市", "三台县")
    for k in ("人民医院", "中医院", "社区卫生服务中心(东)")
]
DIAGNOSES = ["高血压", "2型糖尿病", "上呼吸道感染", "冠心病", "骨折(左腿)", "体检", "腰椎间盘突出"]
NOTES = ["复查,血压正常", "首诊(门诊)", "无", "转诊;需随访!", "已缴费", "待复核?", "", "医保:已结算", "家属陪同"]


def generate(rows: int, seed: int = 20260301) -> list[tuple]:
    """The source table: published precision 2 decimals for 费用, 6 for coordinates, minutes for 就诊时间."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, 8, 0)
    return [
        (
            i,
            rng.choice(PLACES),
            rng.choice("男女"),
            rng.randint(1, 95),
            round(rng.lognormvariate(5, 1), 2),
            round(rng.uniform(104.4, 105.1), 6),
            round(rng.uniform(31.2, 31.8), 6),
            start + dt.timedelta(minutes=rng.randint(0, 525_000)),
            rng.choice(DIAGNOSES),
            rng.choice(NOTES) + (f"(第{i % 5 + 1}次)" if i % 4 == 0 else ""),
        )
        for i in range(rows)
    ]


def load(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE data (" + ", ".join(f'"{n}" {DUCK[t]}' for n, t in COLUMNS) + ")")
    con.executemany(f"INSERT INTO data VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    return con


def export(con: duckdb.DuckDBPyConnection, secret: bytes | None) -> list[tuple]:
    sql = 'SELECT * FROM data ORDER BY "编号"'
    if secret is not None:
        watermark.bind(con, secret)
        sql = watermark.select_marked(sql, COLUMNS)
    return con.execute(sql).fetchall()


# ---- what a leaker does ---------------------------------------------------------------------------------------------


def transform(rows: list[tuple], how: dict, rng: random.Random) -> tuple[list[str], list[list]]:
    names = list(NAMES)
    keep = list(range(len(NAMES)))
    if how.get("only"):
        keep = [i for i in keep if NAMES[i] in how["only"]]
    for _ in range(how.get("drop", 0)):
        keep.remove(rng.choice(keep[1:]))  # never the whole table
    out = [[r[i] for i in keep] for r in rows]
    if how.get("shuffle"):
        rng.shuffle(out)
    if how.get("share"):
        out = rng.sample(out, max(1, round(len(out) * how["share"])))
    if how.get("round"):
        digits = {"费用": 2, "经度": 6, "纬度": 6}
        out = [
            [
                round(v, digits[NAMES[i]])
                if NAMES[i] in digits and v is not None
                else (v.replace(microsecond=0) if isinstance(v, dt.datetime) else v)
                for i, v in zip(keep, r, strict=True)
            ]
            for r in out
        ]
    if how.get("fold"):
        out = [[v.translate(watermark.TO_HALF) if isinstance(v, str) else v for v in r] for r in out]
    return [names[i] for i in keep], out


def write(path: Path, names: list[str], rows: list[list]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            writer.writerows(rows)
    elif path.suffix == ".xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(names)
        for r in rows:
            sheet.append(r)
        book.save(path)
    elif path.suffix == ".parquet":
        con = duckdb.connect()
        kinds = dict(COLUMNS)
        con.execute("CREATE TABLE t (" + ", ".join(f'"{n}" {DUCK[kinds[n]]}' for n in names) + ")")
        con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(names))})", rows)
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
        con.close()
    else:
        items = [
            {n: (str(v) if isinstance(v, dt.datetime) else v) for n, v in zip(names, r, strict=True)} for r in rows
        ]
        path.write_text(json.dumps({"items": items}, ensure_ascii=False), encoding="utf-8")
    return path


TRANSFORMS = [
    ("shuffled", {"shuffle": True}),
    ("2 columns dropped", {"drop": 2}),
    ("10% sample", {"share": 0.1}),
    ("shuffled + 1 column dropped + 10% sample", {"shuffle": True, "drop": 1, "share": 0.1}),
    ("shuffled + 2 columns dropped + 10% sample", {"shuffle": True, "drop": 2, "share": 0.1}),
    ("shuffled + 2 columns dropped + 1% sample", {"shuffle": True, "drop": 2, "share": 0.01}),
    ("text columns only, 10% sample", {"only": ("编号", "机构", "性别", "诊断", "备注"), "share": 0.1}),
    ("attack: numbers rounded, timestamps cut to seconds, 10%", {"round": True, "share": 0.1}),
    ("attack: the above + punctuation made half-width, 10%", {"round": True, "fold": True, "share": 0.1}),
]
FORMATS = (".csv", ".xlsx", ".parquet", ".json")


def detection(exports, candidates, trials, sizes, work: Path) -> list[tuple]:
    results = []
    for size in sizes:
        for name, how in TRANSFORMS:
            rng = random.Random(f"{size}-{name}")
            hit = wrong = unsure = 0
            rows_used = 0
            for t in range(trials):
                label, _ = rng.choice(candidates)
                names, rows = transform(exports[label][:size], how, rng)
                rows_used += len(rows)
                path = write(work / f"leak{FORMATS[t % len(FORMATS)]}", names, rows)
                verdict = watermark.detect(watermark.read_rows(path), candidates)
                hit += verdict.recipient == label
                wrong += verdict.recipient not in (None, label)
                unsure += verdict.recipient is None
            results.append((size, name, rows_used // trials, hit / trials, wrong / trials, unsure / trials))
    return results


def false_accusations(con, exports, candidates, outsiders, trials, work: Path) -> list[tuple]:
    rng = random.Random("fp")
    plain = export(con, None)
    rows = []
    for name, source in (("unwatermarked 10% samples", lambda: plain), ("non-candidates' 10% samples", None)):
        accused = 0
        for t in range(trials):
            data = source() if source else exports[rng.choice(outsiders)[0]]
            names, sample = transform(data[:10_000], {"shuffle": True, "share": 0.1, "drop": t % 3}, rng)
            path = write(work / f"fp{FORMATS[t % len(FORMATS)]}", names, sample)
            accused += watermark.detect(watermark.read_rows(path), candidates).recipient is not None
        rows.append((name, trials, accused))
    return rows


def throughput(rows_count: int) -> list[tuple]:
    rows = generate(rows_count, seed=5)
    con = load(rows)
    secret = b"bench"
    out = []
    base = 'SELECT * FROM data ORDER BY "编号"'

    def timed(label, fn):
        best = None
        for _ in range(3):
            started, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            if best is None or wall < best[0]:
                best = (wall, used)
        out.append((label, rows_count, best[0], best[1], rows_count / best[0]))

    def drain(sql):
        result = con.execute(sql)
        while result.fetchmany(5000):
            pass

    timed("DuckDB fetch, unmarked (baseline)", lambda: drain(base))
    watermark.bind(con, secret)
    timed(
        "DuckDB fetch, select_marked (CSV/XLSX/JSON export path)", lambda: drain(watermark.select_marked(base, COLUMNS))
    )
    parquet = Path(tempfile.mkstemp(suffix=".parquet")[1])
    timed(
        "DuckDB COPY to Parquet, unmarked (baseline)",
        lambda: con.execute(f"COPY ({base}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)"),
    )
    timed(
        "DuckDB COPY to Parquet, select_marked",
        lambda: con.execute(
            f"COPY ({watermark.select_marked(base, COLUMNS)}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)"
        ),
    )
    parquet.unlink()
    marker = watermark.Watermarker(secret, [t for _, t in COLUMNS])
    timed("Python Watermarker.rows over fetched rows", lambda: sum(1 for _ in marker.rows(rows)))
    marked = list(marker.rows(rows))
    candidates = [(f"r{i}", f"s{i}".encode()) for i in range(50)]
    sample = marked[: rows_count // 10]
    out.append(("detect, 50 candidates (rows of a 10% sample)", len(sample), *_detect_time(sample, candidates)))
    return out


def _detect_time(rows, candidates):
    started, cpu = time.perf_counter(), time.process_time()
    watermark.detect(rows, candidates)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    return wall, used, len(rows) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="Leaked files per transformation and export size.")
    parser.add_argument("--rows", type=int, default=200_000, help="Rows for the throughput runs.")
    args = parser.parse_args()
    began = time.perf_counter()
    source = generate(10_000)
    con = load(source)
    people = [(f"授权-{i:03d}", f"grant-{i}".encode()) for i in range(60)]
    candidates, outsiders = people[:50], people[50:]
    exports = {label: export(con, secret) for label, secret in people}
    print(
        f"Watermark detection: 50 candidates, {args.trials} leaked files per cell, "
        "formats cycling CSV/XLSX/Parquet/JSON"
    )
    print(f"2 cores; load average before: {os.getloadavg()[0]:.2f}\n")
    print("| export rows | transformation | rows in leaked file | identified | wrong recipient | cannot tell |")
    print("|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size, name, used, hit, wrong, unsure in detection(exports, candidates, args.trials, (1000, 10_000), work):
            print(f"| {size:,} | {name} | {used:,} | {hit:.0%} | {wrong:.0%} | {unsure:.0%} |")
        print("\n| files that must accuse nobody | files | accused |")
        print("|---|---:|---:|")
        for name, trials, accused in false_accusations(con, exports, candidates, outsiders, args.trials * 5, work):
            print(f"| {name} (10,000-row export) | {trials} | {accused} |")
    print(f"\nThroughput, {args.rows:,} rows × {len(COLUMNS)} columns; best of 3")
    print("| path | rows | wall s | CPU s | rows/s |")
    print("|---|---:|---:|---:|---:|")
    for label, rows, wall, cpu, rate in throughput(args.rows):
        print(f"| {label} | {rows:,} | {wall:.3f} | {cpu:.3f} | {rate:,.0f} |")
    print(f"\n(total {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
