"""Seeded generator of the data-quality benchmark table: inspection records with known problems (CSV, UTF-8).

    python benchmarks/quality_data.py OUT.csv [--rows N]

Columns: record_id, district, visit_date, visitors, lng, lat, category, note. About 0.05% of the rows carry
each kind of problem the content checks look for: impossible dates (1899 or 2099), negative visitor counts,
coordinates outside Mianyang, and empty notes in most rows; the last 0.05% repeat earlier rows exactly.
Written with DuckDB's random functions under a fixed seed, so the same command gives the same file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

DISTRICTS = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县", "高新区"]
CATEGORIES = ["餐饮", "住宿", "景区", "商场", "医院", "学校", "车站", "公园"]

# The schema the content checks and frictionless both check the file against.
COLUMNS = [
    {"name": "record_id", "title": "记录编号", "type": "integer"},
    {"name": "district", "title": "区县", "type": "string"},
    {"name": "visit_date", "title": "日期", "type": "date"},
    {"name": "visitors", "title": "人数", "type": "integer"},
    {"name": "lng", "title": "经度", "type": "decimal"},
    {"name": "lat", "title": "纬度", "type": "decimal"},
    {"name": "category", "title": "类别", "type": "string"},
    {"name": "note", "title": "备注", "type": "string"},
]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def generate(path: Path, rows: int) -> Path:
    duplicates = max(rows // 2000, 1)
    unique = rows - duplicates
    con = duckdb.connect()
    con.execute("SELECT setseed(0.17)")
    con.execute(
        f"""CREATE TABLE t AS SELECT
            i + 1 AS record_id,
            {_list(DISTRICTS)}[i % 10 + 1] AS district,
            CASE WHEN i % 2000 = 7 THEN DATE '1899-12-31' WHEN i % 2000 = 11 THEN DATE '2099-02-01'
                 ELSE DATE '2024-01-01' + CAST(floor(random() * 1000) AS INTEGER) END AS visit_date,
            CASE WHEN i % 2000 = 13 THEN -CAST(floor(random() * 50) + 1 AS INTEGER)
                 ELSE CAST(floor(random() * 500) AS INTEGER) END AS visitors,
            CASE WHEN i % 2000 = 17 THEN 116.40 ELSE round(104.50 + random() * 0.6, 6) END AS lng,
            CASE WHEN i % 2000 = 17 THEN 39.90 ELSE round(31.30 + random() * 0.5, 6) END AS lat,
            {_list(CATEGORIES)}[i % 8 + 1] AS category,
            CASE WHEN i % 3 = 0 THEN '已核实' ELSE NULL END AS note
        FROM range({unique}) r(i)"""
    )
    con.execute(f"INSERT INTO t SELECT * FROM t WHERE record_id <= {duplicates}")
    con.execute(f"COPY (SELECT * FROM t) TO '{path}' (HEADER)")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    generate(args.out, args.rows)
    print(args.out)


if __name__ == "__main__":
    main()
