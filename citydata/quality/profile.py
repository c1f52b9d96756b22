"""Measure a table for the content checks in one vectorised DuckDB pass (plus one small query for examples).

`measure()` works on any DuckDB source (a version's Parquet file, or a CSV in the benchmark): row count,
an order-independent content fingerprint (to find the same data under two titles), duplicate rows, nulls per
column, values that do not parse as the declared type, impossible dates, negative counts and coordinates
outside the city. `for_version()` keeps the result as a `VersionProfile`: versions never change, so each is
measured once, together with the privacy detectors' column classification.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from typing import Any

from django.db import IntegrityError, transaction

from citydata.quality.models import VersionProfile

logger = logging.getLogger("citydata.quality")

# Mianyang's extent (WGS-84, with a margin): a coordinate outside it is wrong for a city dataset.
CITY_BBOX = (103.7, 30.6, 105.8, 33.1)  # west, south, east, north
EARLIEST_DATE = dt.date(1900, 1, 1)
FUTURE_DAYS = 366  # a date further ahead than this is a typo, not a plan
EXAMPLES = 3
COUNT_UNITS = {
    "人",
    "个",
    "次",
    "辆",
    "家",
    "所",
    "张",
    "床",
    "件",
    "户",
    "台",
    "座",
    "条",
    "人次",
    "套",
    "间",
    "名",
    "只",
    "头",
}
COUNT_WORDS = re.compile(r"数$|数量|人数|次数|人次|总数|count|num|total|qty|quantity", re.IGNORECASE)
DATE_WORDS = re.compile(r"日期|date$|_date|day$", re.IGNORECASE)
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y%m%d"]
TIMESTAMP_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
# Personal-data types whose presence in open data is a finding; business identifiers and public phone lines are not.
PERSONAL_TYPES = {
    "resident_id",
    "mobile",
    "bank_card",
    "passport",
    "hk_macau_permit",
    "person_name",
    "email",
    "vehicle_plate",
    "student_id",
}
PRIVACY_MIN_CONFIDENCE = 0.8


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_source(path: str) -> str:
    return f"read_parquet({lit(path)})"


def _strptime(expr: str, formats: list[str]) -> str:
    return f"try_strptime({expr}, [{', '.join(lit(f) for f in formats)}])"


def _parses(expr: str, kind: str) -> str:
    """SQL that is NOT NULL when the text `expr` is a valid value of `kind`."""
    if kind == "integer":
        return f"TRY_CAST({expr} AS BIGINT)"
    if kind == "decimal":
        return f"TRY_CAST({expr} AS DOUBLE)"
    if kind == "boolean":
        return f"CASE WHEN lower({expr}) IN ('true','false','是','否','y','n','yes','no','1','0') THEN 1 END"
    if kind == "date":
        return f"coalesce(TRY_CAST({expr} AS DATE), {_strptime(expr, DATE_FORMATS)})"
    if kind == "datetime":
        return f"coalesce(TRY_CAST({expr} AS TIMESTAMP), {_strptime(expr, TIMESTAMP_FORMATS + DATE_FORMATS)})"
    return expr


def _count_like(column: dict, field: Any) -> bool:
    if column["type"] not in ("integer", "decimal"):
        return False
    words = " ".join([column["name"], column.get("title", ""), getattr(field, "title", "") or ""])
    unit = (getattr(field, "unit", "") or "").strip()
    return unit in COUNT_UNITS or bool(COUNT_WORDS.search(words))


def _expected_type(column: dict, field: Any) -> str:
    """The type a text column should hold: its declared field type, or date when its name says so."""
    declared = getattr(field, "type", "") or ""
    if declared in ("integer", "decimal", "boolean", "date", "datetime"):
        return declared
    words = " ".join([column["name"], column.get("title", ""), column.get("header", "")])
    return "date" if DATE_WORDS.search(words) else ""


def plan(columns: list[dict], fields: dict[str, Any], point: dict, *, today: dt.date) -> list[tuple[str, str, str]]:
    """The measures to take: (key, SQL aggregate, SQL condition for examples or '')."""
    measures: list[tuple[str, str, str]] = [("rows", "count(*)", "")]
    names = [q(c["name"]) for c in columns]
    if names:
        row_hash = f"hash({', '.join(names)})"
        measures += [
            ("fingerprint", f"sum({row_hash}::HUGEINT)", ""),
            ("distinct", f"count(DISTINCT {row_hash})", ""),
        ]
    latest = today + dt.timedelta(days=FUTURE_DAYS)
    for i, column in enumerate(columns):
        col, kind, field = q(column["name"]), column["type"], fields.get(column["name"])
        if kind == "string":
            value = f"nullif(trim({col}), '')"
            measures.append((f"c{i}.filled", f"count({value})", ""))
            expected = _expected_type(column, field)
            if expected:
                bad = f"{value} IS NOT NULL AND {_parses(value, expected)} IS NULL"
                measures.append((f"c{i}.invalid", f"count(*) FILTER (WHERE {bad})", bad))
                measures.append((f"c{i}.expected", lit(expected), ""))
        else:
            measures.append((f"c{i}.filled", f"count({col})", ""))
        if kind in ("date", "datetime"):
            bad = f"{col} < DATE '{EARLIEST_DATE.isoformat()}' OR {col} > DATE '{latest.isoformat()}'"
            measures += [
                (f"c{i}.out_of_range", f"count(*) FILTER (WHERE {bad})", bad),
                (f"c{i}.min", f"min({col})::VARCHAR", ""),
                (f"c{i}.max", f"max({col})::VARCHAR", ""),
            ]
        if _count_like(column, field):
            bad = f"{col} < 0"
            measures += [(f"c{i}.negative", f"count(*) FILTER (WHERE {bad})", bad), (f"c{i}.min", f"min({col})", "")]
    if point.get("lng") and point.get("lat"):
        west, south, east, north = CITY_BBOX
        lng, lat = q(point["lng"]), q(point["lat"])
        bad = f"({lng} NOT BETWEEN {west} AND {east} OR {lat} NOT BETWEEN {south} AND {north})"
        measures.append(("outside_city", f"count(*) FILTER (WHERE {bad})", bad))
    return measures


def measure(con, source: str, columns: list[dict], fields: dict[str, Any], point: dict, *, today: dt.date) -> dict:
    """Every content measure of the table in `source` (a DuckDB table expression) in one scan."""
    measures = plan(columns, fields, point, today=today)
    sql = f"SELECT {', '.join(expr for _key, expr, _bad in measures)} FROM {source}"  # noqa: S608 - names quoted
    values = con.execute(sql).fetchone()
    raw = dict(zip((key for key, _e, _b in measures), values or (), strict=True))
    rows = int(raw.get("rows") or 0)
    out: dict[str, Any] = {
        "rows": rows,
        "duplicates": rows - int(raw.get("distinct") or rows),
        "fingerprint": hashlib.sha256(f"{rows}:{raw.get('fingerprint')}:{len(columns)}".encode()).hexdigest(),
        "outside_city": int(raw.get("outside_city") or 0),
        "columns": {},
    }
    examples_sql = []
    for i, column in enumerate(columns):
        stats: dict[str, Any] = {"type": column["type"], "filled": int(raw.get(f"c{i}.filled") or 0)}
        stats["nulls"] = rows - stats["filled"]
        stats["null_rate"] = round(stats["nulls"] / rows, 4) if rows else 0.0
        for key in ("invalid", "out_of_range", "negative"):
            if raw.get(f"c{i}.{key}"):
                stats[key] = int(raw[f"c{i}.{key}"])
        for key in ("expected", "min", "max"):
            if raw.get(f"c{i}.{key}") is not None:
                stats[key] = raw[f"c{i}.{key}"] if isinstance(raw[f"c{i}.{key}"], str) else float(raw[f"c{i}.{key}"])
        out["columns"][column["name"]] = stats
        for key, _expr, bad in measures:
            if key.startswith(f"c{i}.") and bad and stats.get(key.split(".", 1)[1]):
                examples_sql.append((column["name"], key.split(".", 1)[1], bad))
    if out["outside_city"]:
        examples_sql.append(("", "outside_city", next(b for k, _e, b in measures if k == "outside_city")))
    # Examples of each kind of bad value: cheap, since each query stops after a few matching rows.
    for name, key, bad in examples_sql:
        select = f"{q(name)}::VARCHAR" if name else f"{q(point['lng'])}::VARCHAR || ',' || {q(point['lat'])}::VARCHAR"
        found = con.execute(f"SELECT {select} FROM {source} WHERE {bad} LIMIT {EXAMPLES}").fetchall()  # noqa: S608
        target = out["columns"][name] if name else out
        target.setdefault("examples", {})[key] = [str(r[0])[:40] for r in found]
    return out


def _fields_key(fields: dict[str, Any]) -> str:
    parts = sorted((name, f.type, f.unit, f.title) for name, f in fields.items())
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:16]


def privacy_columns(path: str) -> list[dict[str, Any]]:
    """Columns the privacy detectors classify as personal data (from their sample)."""
    from citydata.privacy import scan

    found = []
    for column in scan.classify_columns(path):
        for score in column.types:
            if score.type in PERSONAL_TYPES and score.confidence >= PRIVACY_MIN_CONFIDENCE:
                found.append({"column": column.name, "type": score.type, "share": round(score.share, 4)})
    return found


def for_version(version, fields: list[Any]) -> VersionProfile:
    """The version's profile, measured now unless it is already kept for the same field declarations."""
    from citydata.datastore import records
    from citydata.datastore.storage import get_storage

    declared = {f.name: f for f in fields}
    key = _fields_key(declared)
    existing = VersionProfile.objects.filter(version=version).first()
    if existing is not None and existing.stats.get("fields_key") == key:
        return existing
    path = str(get_storage().local_path(version.data_key))
    from django.utils import timezone

    stats = measure(
        records.connection(parallel=True),
        parquet_source(path),
        version.columns,
        declared,
        version.point or {},
        today=timezone.localdate(),
    )
    stats["fields_key"] = key
    privacy = existing.privacy if existing is not None else privacy_columns(path)
    values = {"fingerprint": stats.pop("fingerprint"), "row_count": stats["rows"], "stats": stats, "privacy": privacy}
    try:
        with transaction.atomic():
            profile, _created = VersionProfile.objects.update_or_create(version=version, defaults=values)
    except IntegrityError:  # measured by another worker at the same moment: theirs is as good as ours
        profile = VersionProfile.objects.get(version=version)
    return profile
