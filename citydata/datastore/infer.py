"""Column names and types of an upload: the dataset's declared fields first, then inference over every value.

Inference is strict: a column gets a type only when every non-empty value parses as it, so no value is
lost to a guess. Identifier-like columns stay text even when all digits (mobile, resident ID and bank card
numbers, codes and postcodes with leading zeros), which DuckDB's own sniffer turns into BIGINT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Cells meaning "no value" in Chinese government spreadsheets.
NULL_TOKENS = ["", "NULL", "null", "N/A", "n/a", "NA", "-", "--", "—", "无", "空"]

# Header words of identifier-like columns: their values are labels, not numbers.
ID_HINTS = re.compile(
    r"(电话|手机|号码|编号|编码|代码|证号|卡号|账号|帐号|邮编|邮政编码|身份证|车牌|工号|学号|"
    r"phone|mobile|tel|code|zip|postcode|card|account|no$|_no|number|id$|_id)",
    re.IGNORECASE,
)
LNG_NAMES = {"lng", "lon", "long", "longitude", "经度", "x坐标"}
LAT_NAMES = {"lat", "latitude", "纬度", "y坐标"}

DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d"]
TIMESTAMP_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
TRUE_WORDS = ["true", "false", "是", "否", "y", "n", "yes", "no"]
INT_PATTERN = r"[+-]?[0-9]{1,18}"
NUMBER_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"


@dataclass
class Column:
    name: str
    header: str
    title: str
    type: str = "string"
    declared: bool = False
    # A declared integer column holding values with a fraction: read as DOUBLE, those rows refused, the rest cast.
    needs_integer_check: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "header": self.header, "title": self.title, "type": self.type}


def name_columns(headers: list[str], declared: list) -> list[Column]:
    """Match headers to declared fields by name or Chinese title; others keep their header, made unique."""
    by_key: dict[str, Any] = {}
    for field in declared:
        by_key.setdefault(field.name.lower(), field)
        by_key.setdefault(field.title.strip(), field)
    columns: list[Column] = []
    used: set[str] = set()
    for index, raw in enumerate(headers, start=1):
        header = (raw or "").strip().lstrip("\ufeff")
        field = by_key.get(header.lower()) or by_key.get(header)
        if field is not None and field.name.lower() not in used:
            column = Column(field.name, header, field.title, field.type if field.type != "point" else "string", True)
        else:
            base = re.sub(r"\W+", "_", header).strip("_")[:60] or f"column_{index}"
            if base[0].isdigit():
                base = f"c_{base}"
            name, n = base, 2
            while name.lower() in used:
                name, n = f"{base}_{n}", n + 1
            column = Column(name, header, header or name)
        used.add(column.name.lower())
        columns.append(column)
    return columns


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stats_sql(columns: list[Column]) -> str:
    """One aggregate over the all-text read: per column, how many non-empty values parse as each type."""
    parts = []
    for i, c in enumerate(columns):
        v = _q(c.name)
        parts += [
            f"count({v}) AS n{i}",
            f"count(*) FILTER (WHERE regexp_full_match({v}, '{INT_PATTERN}')) AS int{i}",
            f"count(*) FILTER (WHERE regexp_full_match({v}, '{NUMBER_PATTERN}')) AS dec{i}",
            f"count(*) FILTER (WHERE lower({v}) IN ({', '.join(repr(w) for w in TRUE_WORDS)})) AS bool{i}",
            f"count(*) FILTER (WHERE regexp_full_match({v}, '0[0-9]+') OR regexp_full_match({v}, '[0-9]{{11,}}'))"
            f" AS ident{i}",
        ]
        for k, fmt in enumerate(DATE_FORMATS):
            parts.append(
                f"count(*) FILTER (WHERE length({v}) <= 11 AND TRY_STRPTIME({v}, '{fmt}') IS NOT NULL) AS d{i}_{k}"
            )
        for k, fmt in enumerate(TIMESTAMP_FORMATS):
            parts.append(f"count(TRY_STRPTIME({v}, '{fmt}')) AS t{i}_{k}")
    return "SELECT count(*) AS rows, " + ", ".join(parts)


def choose_types(columns: list[Column], stats: dict[str, int]) -> tuple[str | None, str | None]:
    """Set each undeclared column's type from the statistics; returns the file's date and timestamp formats."""
    date_votes: dict[int, int] = {}
    ts_votes: dict[int, int] = {}
    for i, c in enumerate(columns):
        n = stats[f"n{i}"]
        if c.declared:
            if c.type == "integer" and stats[f"dec{i}"] > stats[f"int{i}"]:
                c.needs_integer_check = True
            if c.type == "date":
                date_votes[_best(stats, f"d{i}_", len(DATE_FORMATS))] = 1
            if c.type == "datetime":
                ts_votes[_best(stats, f"t{i}_", len(TIMESTAMP_FORMATS))] = 1
            continue
        if n == 0:
            continue
        if stats[f"ident{i}"] or (ID_HINTS.search(c.header) and stats[f"int{i}"] == n):
            c.type = "string"
        elif stats[f"bool{i}"] == n and stats[f"int{i}"] < n:
            c.type = "boolean"
        elif stats[f"int{i}"] == n:
            c.type = "integer"
        elif stats[f"dec{i}"] == n:
            c.type = "decimal"
        elif any(stats[f"d{i}_{k}"] == n for k in range(len(DATE_FORMATS))):
            c.type = "date"
            k = next(k for k in range(len(DATE_FORMATS)) if stats[f"d{i}_{k}"] == n)
            date_votes[k] = date_votes.get(k, 0) + 1
        elif any(stats[f"t{i}_{k}"] == n for k in range(len(TIMESTAMP_FORMATS))):
            c.type = "datetime"
            k = next(k for k in range(len(TIMESTAMP_FORMATS)) if stats[f"t{i}_{k}"] == n)
            ts_votes[k] = ts_votes.get(k, 0) + 1
    date_format = DATE_FORMATS[max(date_votes, key=date_votes.__getitem__)] if date_votes else None
    ts_format = TIMESTAMP_FORMATS[max(ts_votes, key=ts_votes.__getitem__)] if ts_votes else None
    # DuckDB reads one date and one timestamp format per file: columns in another format stay text.
    for i, c in enumerate(columns):
        if c.declared:
            continue
        if c.type == "date" and date_format and stats[f"d{i}_{DATE_FORMATS.index(date_format)}"] != stats[f"n{i}"]:
            c.type = "string"
        ts_index = TIMESTAMP_FORMATS.index(ts_format) if ts_format else -1
        if c.type == "datetime" and ts_format and stats[f"t{i}_{ts_index}"] != stats[f"n{i}"]:
            c.type = "string"
    return date_format, ts_format


def _best(stats: dict[str, int], prefix: str, count: int) -> int:
    return max(range(count), key=lambda k: stats[f"{prefix}{k}"])


def point_columns(columns: list[Column]) -> dict[str, str]:
    """{"lng": name, "lat": name} when the upload has a numeric longitude/latitude pair."""
    lng = next((c for c in columns if c.name.lower() in LNG_NAMES or c.header in LNG_NAMES), None)
    lat = next((c for c in columns if c.name.lower() in LAT_NAMES or c.header in LAT_NAMES), None)
    if lng and lat and {lng.type, lat.type} <= {"decimal", "integer"}:
        return {"lng": lng.name, "lat": lat.name}
    return {}
