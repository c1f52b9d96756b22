"""Seeded generators of the benchmark files: 2,000,000 bus positions and 200,000 enterprises (CSV, UTF-8).

    python benchmarks/generate.py [OUT_DIR] [--bus-rows N] [--enterprise-rows N]

Written with DuckDB's own random functions under a fixed seed, so the same command gives the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

DISTRICTS = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县", "高新区"]
INDUSTRIES = [
    "批发和零售业",
    "制造业",
    "住宿和餐饮业",
    "信息传输、软件和信息技术服务业",
    "建筑业",
    "租赁和商务服务业",
    "交通运输、仓储和邮政业",
    "农、林、牧、渔业",
    "科学研究和技术服务业",
    "居民服务、修理和其他服务业",
]
WORDS = ["科技", "商贸", "建筑", "餐饮", "物流", "电子", "农业", "文化", "医药", "机械", "食品", "家政", "旅游", "信息"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "个体工商户", "合伙企业"]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def bus(path: Path, rows: int) -> Path:
    """Positions of 1,500 buses on 120 lines every 10 seconds: line_no, vehicle_no, plate, lng, lat, speed,
    ts, passengers. Plates are text that looks like numbers to nobody; vehicle numbers keep leading zeros."""
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""COPY (
            SELECT
                (i % 120 + 1) || '路' AS line_no,
                lpad(CAST(i % 1500 AS VARCHAR), 5, '0') AS vehicle_no,
                '川B' || lpad(CAST(10000 + i % 1500 AS VARCHAR), 5, '0') AS plate,
                round(104.60 + random() * 0.30, 6) AS lng,
                round(31.38 + random() * 0.20, 6) AS lat,
                round(random() * 60, 1) AS speed,
                strftime(TIMESTAMP '2026-11-20 05:30:00' + INTERVAL (10 * (i // 1500)) SECOND, '%Y-%m-%d %H:%M:%S')
                    AS ts,
                CAST(floor(random() * 80) AS INTEGER) AS passengers
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER)"""
    )
    return path


def bus_file(folder: Path, rows: int) -> Path:
    """`bus-<rows>.csv` in `folder`, generated on first use and reused after (the generator is seeded)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bus-{rows}.csv"
    return path if path.exists() else bus(path, rows)


def enterprises(path: Path, rows: int) -> Path:
    con = duckdb.connect()
    con.execute("SELECT setseed(0.17)")
    con.execute(
        f"""COPY (
            SELECT
                list_extract({_list(DISTRICTS)}, CAST(i % 10 AS INTEGER) + 1)
                    || list_extract({_list(WORDS)}, CAST(floor(random() * 14) AS INTEGER) + 1)
                    || list_extract({_list(WORDS)}, CAST(floor(random() * 14) AS INTEGER) + 1)
                    || lpad(CAST(i AS VARCHAR), 6, '0')
                    || list_extract({_list(FORMS)}, CAST(floor(random() * 5) AS INTEGER) + 1) AS 企业名称,
                '915107' || lpad(CAST(i AS VARCHAR), 12, '0') AS 统一社会信用代码,
                list_extract({_list(INDUSTRIES)}, CAST(floor(random() * 10) AS INTEGER) + 1) AS 行业,
                list_extract({_list(DISTRICTS)}, CAST(i % 10 AS INTEGER) + 1) AS 所属区县,
                round(random() * 5000, 2) AS 注册资本万元,
                strftime(DATE '1995-01-01' + CAST(floor(random() * 11000) AS INTEGER), '%Y-%m-%d') AS 成立日期,
                '0816-' || CAST(2200000 + CAST(floor(random() * 199999) AS INTEGER) AS VARCHAR) AS 联系电话
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER)"""
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", default="benchmarks/data")
    parser.add_argument("--bus-rows", type=int, default=2_000_000)
    parser.add_argument("--enterprise-rows", type=int, default=200_000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(bus(out / "bus.csv", args.bus_rows))
    print(enterprises(out / "enterprises.csv", args.enterprise_rows))


if __name__ == "__main__":
    main()
