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
    """One aggregate over the all-text read: per column, how many non-empty values parse as each type. Only
    vectorised casts and string tests, so the pass costs about what reading the file does."""
    parts = []
    for i, c in enumerate(columns):
        v = _q(c.name)
        is_int = f"(TRY_CAST({v} AS BIGINT) IS NOT NULL AND NOT contains({v}, '.'))"
        parts += [
            f"count({v}) AS n{i}",
            f"count(*) FILTER (WHERE {is_int}) AS int{i}",
            f"count(TRY_CAST({v} AS DOUBLE)) AS dec{i}",
            f"count(*) FILTER (WHERE lower({v}) IN ({', '.join(repr(w) for w in TRUE_WORDS)})) AS bool{i}",
            f"count(*) FILTER (WHERE {is_int} AND ((starts_with({v}, '0') AND length({v}) > 1) OR length({v}) >= 11))"
            f" AS ident{i}",
            f"count(*) FILTER (WHERE length({v}) <= 10 AND TRY_CAST({v} AS DATE) IS NOT NULL) AS date{i}",
            f"count(TRY_CAST({v} AS TIMESTAMP)) AS ts{i}",
            f"min({v}) AS sample{i}",
            f"approx_count_distinct({v}) AS distinct{i}",
        ]
    return "SELECT count(*) AS rows, " + ", ".join(parts)


DATE_LIKE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")
TIMESTAMP_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2})?")


SAMPLE_ROWS = 20_000


def check_sql(columns: list[Column]) -> str:
    """The cheap full pass (string tests only) that guards what a sample cannot: integer columns whose later
    values have a fraction, a leading zero or eleven digits (DuckDB would round or strip them silently), and
    boolean columns with other words (they would turn into NULL). Also counts the rows."""
    parts = ["count(*) AS rows"]
    for i, c in enumerate(columns):
        v = _q(c.name)
        if c.type == "integer":
            parts += [
                f"count(*) FILTER (WHERE contains({v}, '.') OR contains(lower({v}), 'e')) AS frac{i}",
                f"count(*) FILTER (WHERE (starts_with({v}, '0') AND length({v}) > 1) OR length({v}) >= 11) AS lead{i}",
            ]
        elif c.type == "boolean":
            parts.append(
                f"count(*) FILTER (WHERE lower({v}) NOT IN ({', '.join(repr(w) for w in TRUE_WORDS)})) AS nb{i}"
            )
    return "SELECT " + ", ".join(parts)


def apply_checks(columns: list[Column], checks: dict) -> None:
    for i, c in enumerate(columns):
        if c.type == "integer":
            if c.declared:
                c.needs_integer_check = bool(checks[f"frac{i}"])
            elif checks[f"lead{i}"]:
                c.type = "string"
            elif checks[f"frac{i}"]:
                c.type = "decimal"
        elif c.type == "boolean" and checks[f"nb{i}"] and not c.declared:
            c.type = "string"


def format_sql(columns: list[Column], candidates: list[int]) -> str:
    """Second, targeted pass: for the few columns that look like dates in another notation, how many values
    each strptime format reads."""
    parts = []
    for i in candidates:
        v = _q(columns[i].name)
        parts += [f"count(TRY_STRPTIME({v}, '{f}')) AS d{i}_{k}" for k, f in enumerate(DATE_FORMATS)]
        parts += [f"count(TRY_STRPTIME({v}, '{f}')) AS t{i}_{k}" for k, f in enumerate(TIMESTAMP_FORMATS)]
    return "SELECT " + ", ".join(parts)


def choose_types(columns: list[Column], stats: dict, formats: dict | None = None) -> tuple[str | None, str | None]:
    """Set each undeclared column's type from the statistics; returns the file's date and timestamp formats
    (None: ISO, DuckDB's default). `formats` holds the second pass's counts for date-like columns."""
    formats = formats or {}
    date_choice: dict[int, str | None] = {}
    ts_choice: dict[int, str | None] = {}

    def fitting(i: int, prefix: str, options: list[str]) -> str:
        """The notation that reads every sampled value of column i, or ""."""
        n = stats[f"n{i}"]
        return next((fmt for k, fmt in enumerate(options) if n and formats.get(f"{prefix}{i}_{k}") == n), "")

    for i, c in enumerate(columns):
        n = stats[f"n{i}"]
        if c.declared:
            if c.type == "date" and stats[f"date{i}"] < n:
                date_choice[i] = fitting(i, "d", DATE_FORMATS) or None
            if c.type == "datetime" and stats[f"ts{i}"] < n:
                ts_choice[i] = fitting(i, "t", TIMESTAMP_FORMATS) or None
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
        elif stats[f"date{i}"] == n:
            c.type, date_choice[i] = "date", None
        elif stats[f"ts{i}"] == n:
            c.type, ts_choice[i] = "datetime", None
        elif found := fitting(i, "d", DATE_FORMATS):
            c.type, date_choice[i] = "date", found
        elif found := fitting(i, "t", TIMESTAMP_FORMATS):
            c.type, ts_choice[i] = "datetime", found
    # DuckDB reads one date and one timestamp notation per file: undeclared columns in another stay text.
    return _one_format(columns, date_choice), _one_format(columns, ts_choice)


def _one_format(columns: list[Column], choice: dict[int, str | None]) -> str | None:
    if not choice:
        return None
    votes: dict[str | None, int] = {}
    for i, fmt in choice.items():
        votes[fmt] = votes.get(fmt, 0) + (100 if columns[i].declared else 1)
    winner = max(votes, key=lambda f: votes[f])
    for i, fmt in choice.items():
        if fmt != winner and not columns[i].declared:
            columns[i].type = "string"
    return winner


def format_candidates(columns: list[Column], stats: dict) -> list[int]:
    """Columns worth the second pass: text that looks like a date or time in a non-ISO notation."""
    found = []
    for i, c in enumerate(columns):
        n, sample = stats[f"n{i}"], stats.get(f"sample{i}") or ""
        if not n or stats[f"date{i}"] == n or stats[f"ts{i}"] == n or stats[f"dec{i}"] == n:
            continue
        if c.declared and c.type not in ("date", "datetime"):
            continue
        if DATE_LIKE.fullmatch(sample) or TIMESTAMP_LIKE.fullmatch(sample):
            found.append(i)
    return found


CLUSTER_MIN_ROWS = 100_000


def cluster_keys(columns: list[Column], stats: dict, rows: int) -> list[str]:
    """How to order a big version's rows so filters and sorts read few row groups: a category-like text
    column (2 to 5,000 distinct values in the sample, not an identifier), then the first time column.
    Measured on 2M bus rows: `line_no = X ORDER BY ts DESC` goes from 44 ms to 8 ms (docs/performance.md)."""
    if rows < CLUSTER_MIN_ROWS:
        return []
    keys = []
    for i, c in enumerate(columns):
        if c.type == "string" and 2 <= stats.get(f"distinct{i}", 0) <= 5000 and not stats.get(f"ident{i}"):
            keys.append(c.name)
            break
    time_column = next((c.name for c in columns if c.type in ("datetime", "date")), None)
    if time_column:
        keys.append(time_column)
    return keys


def point_columns(columns: list[Column]) -> dict[str, str]:
    """{"lng": name, "lat": name} when the upload has a numeric longitude/latitude pair."""
    lng = next((c for c in columns if c.name.lower() in LNG_NAMES or c.header in LNG_NAMES), None)
    lat = next((c for c in columns if c.name.lower() in LAT_NAMES or c.header in LAT_NAMES), None)
    if lng and lat and {lng.type, lat.type} <= {"decimal", "integer"}:
        return {"lng": lng.name, "lat": lat.name}
    return {}
