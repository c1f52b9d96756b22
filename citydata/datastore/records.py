"""The records API's query language, compiled to one parameterised DuckDB statement over a version's Parquet.

Filters are `column__op=value` (op defaults to exact); every column name is checked against the version's
schema and every value is parsed by the column's type and bound as a parameter, so no input reaches the
SQL text. Paging is by keyset (`_next`, an opaque token of the last row's sort values and its position in
the file), so a deep page costs what the first one does; `_offset` is allowed for small offsets only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import math
import os
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import duckdb
from django.utils.translation import gettext as _

from citydata.datastore.infer import _q
from citydata.datastore.storage import get_storage
from citydata.errors import DomainError

logger = logging.getLogger(__name__)

OPS = {
    "exact": "=",
    "not": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
}
LIST_OPS = {"in", "notin", "between"}
TEXT_OPS = {"contains", "startswith"}
ALL_OPS = set(OPS) | LIST_OPS | TEXT_OPS | {"isnull"}
MAX_OFFSET = 1_000_000
BUCKETS = ("hour", "day", "month", "year")
AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max"}
MAX_IN = 500
ROW = "_row"  # the position of a row in the version's file: the last tie-breaker of every sort
LAYOUTS_KEPT = 256  # version files whose layout a process keeps in memory
ATTACHED_KEPT = 128  # serving copies a process keeps attached
SERVING_TABLE = "t"  # the table of a serving copy (`ingest.add_serving_copy`)


class QueryError(DomainError):
    default_code = "invalid_query"


@dataclass
class Query:
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    fields: list[str] = field(default_factory=list)
    size: int = 100
    offset: int = 0
    after: list[Any] | None = None
    after_tag: int = 0  # the file the `after` position belongs to
    q: str = ""
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float, float] | None = None
    group_by: list[tuple[str, str]] = field(default_factory=list)  # (column, time bucket or "")
    aggregates: list[tuple[str, str]] = field(default_factory=list)  # (function, column or "")


def _error(message: str, parameter: str) -> QueryError:
    return QueryError(message, details={"parameter": parameter})


def _parse_value(raw: str, kind: str, parameter: str) -> Any:
    text = raw.strip()
    try:
        if kind == "integer":
            return int(text)
        if kind == "decimal":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if kind == "boolean":
            lowered = text.lower()
            if lowered in ("true", "1", "是", "yes", "y"):
                return True
            if lowered in ("false", "0", "否", "no", "n"):
                return False
            raise ValueError
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "datetime":
            return dt.datetime.fromisoformat(text)
    except ValueError:
        labels = {
            "integer": _("整数"),
            "decimal": _("数字"),
            "boolean": _("true 或 false"),
            "date": _("日期（如 2026-01-31）"),
            "datetime": _("日期时间（如 2026-01-31T08:00:00）"),
        }
        raise _error(
            _("参数 %(param)s 的值“%(value)s”应为%(kind)s。")
            % {"param": parameter, "value": raw[:40], "kind": labels[kind]},
            parameter,
        ) from None
    return text


def _numbers(raw: str, count: int, parameter: str) -> list[float]:
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise _error(_("参数 %(param)s 应为 %(n)s 个用逗号分隔的数字。") % {"param": parameter, "n": count}, parameter)
    return values


def encode_cursor(values: list[Any]) -> str:
    text = json.dumps(values, default=lambda v: {"$d": v.isoformat()}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def file_tag(path: str) -> int:
    """A short fingerprint of a version's file, carried in keyset tokens: row positions are only meaningful
    in the file they came from (a version's file is swapped once for its clustered copy)."""
    return zlib.crc32(os.path.basename(path).encode()) & 0xFFFF


def decode_cursor(token: str, sort: list[tuple[str, bool]], types: dict[str, str]) -> tuple[list[Any], int]:
    """The sort values and file position of the last row of the previous page, and the file's tag."""
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if (
            not isinstance(values, list)
            or len(values) != len(sort) + 2
            or not all(isinstance(v, int) for v in values[-2:])
        ):
            raise ValueError
        tag = values.pop()
        out: list[Any] = []
        for (column, _desc), value in zip(sort, values, strict=False):
            if isinstance(value, dict):
                parsed = _parse_value(str(value["$d"]), types[column], "_next")
                out.append(parsed)
            else:
                out.append(value)
        out.append(values[-1])
        return out, tag
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError, DomainError):
        raise _error(_("_next 令牌无效或已过期，请从第一页重新开始。"), "_next") from None


def parse(params, columns: list[dict], point: dict, *, max_size: int) -> Query:
    """A Query from the request's parameters, checked against the version's columns."""
    types = {c["name"]: c["type"] for c in columns}
    query = Query()
    for key in params:
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        if key.startswith("_"):
            continue
        name, _sep, op = key.partition("__")
        op = op or "exact"
        if name not in types:
            raise _error(
                _("没有名为“%(name)s”的列。可用的列：%(cols)s。") % {"name": name[:40], "cols": "、".join(types)}, key
            )
        if op not in ALL_OPS:
            raise _error(
                _("不支持的运算“%(op)s”。可用：%(ops)s。") % {"op": op[:20], "ops": "、".join(sorted(ALL_OPS))}, key
            )
        for raw in values:
            query.filters.append((name, op, _filter_value(raw, op, types[name], key)))
    _parse_controls(params, query, types, point, max_size)
    return query


def _filter_value(raw: str, op: str, kind: str, key: str) -> Any:
    if op == "isnull":
        return _parse_value(raw, "boolean", key)
    if op in TEXT_OPS:
        if kind != "string":
            raise _error(_("%(op)s 只能用于文本列。") % {"op": op}, key)
        return raw
    if op in LIST_OPS:
        parts = [p for p in raw.split(",") if p != ""] if raw else []
        if op == "between" and len(parts) != 2:
            raise _error(_("between 需要两个用逗号分隔的值，例如 10,20。"), key)
        if not parts or len(parts) > MAX_IN:
            raise _error(_("in/notin 需要 1 至 %(n)s 个用逗号分隔的值。") % {"n": MAX_IN}, key)
        return [_parse_value(p, kind, key) for p in parts]
    return _parse_value(raw, kind, key)


def _parse_controls(params, query: Query, types: dict[str, str], point: dict, max_size: int) -> None:
    if params.get("_sort"):
        grouped = bool(params.get("_group_by"))
        for item in str(params["_sort"]).split(","):
            desc = item.startswith("-")
            name = item[1:] if desc else item
            if name not in types and not grouped:
                raise _error(_("不能按“%(name)s”排序：没有这一列。") % {"name": name[:40]}, "_sort")
            query.sort.append((name, desc))
    if params.get("_fields"):
        query.fields = [f for f in str(params["_fields"]).split(",") if f]
        unknown = [f for f in query.fields if f not in types]
        if unknown:
            raise _error(_("_fields 中没有这些列：%(cols)s。") % {"cols": "、".join(unknown)[:200]}, "_fields")
    query.size = _int(params.get("_size"), "_size", default=100, low=1, high=max_size)
    query.offset = _int(params.get("_offset"), "_offset", default=0, low=0, high=MAX_OFFSET)
    if params.get("_next"):
        if query.offset:
            raise _error(_("_next 与 _offset 不能同时使用。"), "_offset")
        query.after, query.after_tag = decode_cursor(str(params["_next"]), query.sort, types)
    query.q = str(params.get("_q") or "")[:100].strip()
    if params.get("_group_by"):
        _parse_grouping(params, query, types)
    if params.get("_bbox") or params.get("_near"):
        if not point:
            raise _error(_("这个数据集没有坐标列，不能按位置筛选。"), "_bbox" if params.get("_bbox") else "_near")
        if params.get("_bbox"):
            west, south, east, north = _numbers(str(params["_bbox"]), 4, "_bbox")
            query.bbox = (west, south, east, north)
        if params.get("_near"):
            lng, lat, radius = _numbers(str(params["_near"]), 3, "_near")
            if not 0 < radius <= 100_000:
                raise _error(_("_near 的半径应在 0 至 100000 米之间。"), "_near")
            query.near = (lng, lat, radius)


def _parse_grouping(params, query: Query, types: dict[str, str]) -> None:
    for item in str(params["_group_by"]).split(",")[:5]:
        name, _sep, bucket = item.partition(":")
        if name not in types:
            raise _error(_("不能按“%(name)s”分组：没有这一列。") % {"name": name[:40]}, "_group_by")
        if bucket and (bucket not in BUCKETS or types[name] not in ("date", "datetime")):
            raise _error(_("时间分组只能用于日期或日期时间列，可选 hour、day、month、year。"), "_group_by")
        query.group_by.append((name, bucket))
    for item in str(params.get("_agg") or "count").split(",")[:10]:
        function, _sep, column = item.partition(":")
        if function not in AGGREGATES or (function != "count" and column not in types):
            raise _error(
                _("_agg 的写法是 count、count_distinct:列、sum:列、avg:列、min:列 或 max:列，“%(item)s”不对。")
                % {"item": item[:40]},
                "_agg",
            )
        if function in ("sum", "avg") and types[column] not in ("integer", "decimal"):
            raise _error(_("%(fn)s 只能用于数字列。") % {"fn": function}, "_agg")
        query.aggregates.append((function, column))
    if query.after is not None:
        raise _error(_("分组结果请用 _offset 翻页。"), "_next")
    names = {group_name(c, b) for c, b in query.group_by} | {aggregate_name(f, c) for f, c in query.aggregates}
    query.sort = [(n, d) for n, d in query.sort if n in names] if query.sort else []


def result_columns(query: Query, columns: list[dict], names: list[str]) -> list[dict]:
    """Name, title and type of each column of a result, grouped or not."""
    known = {c["name"]: c for c in columns}
    if not query.group_by:
        return [known[n] for n in names]
    out = []
    for column, bucket in query.group_by:
        base = known[column]
        title = f"{base['title']}（{bucket}）" if bucket else base["title"]
        out.append({"name": group_name(column, bucket), "title": title, "type": base["type"]})
    for function, column in query.aggregates:
        if function in ("count", "count_distinct"):
            kind = "integer"
        elif function == "avg":
            kind = "decimal"
        else:
            kind = known[column]["type"]
        out.append({"name": aggregate_name(function, column), "title": aggregate_name(function, column), "type": kind})
    return out


def group_name(column: str, bucket: str) -> str:
    return f"{column}_{bucket}" if bucket else column


def aggregate_name(function: str, column: str) -> str:
    return f"{function}_{column}" if column else function


def _int(raw, parameter: str, *, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = low - 1
    if not low <= value <= high:
        raise _error(
            _("%(param)s 应为 %(low)s 至 %(high)s 之间的整数。") % {"param": parameter, "low": low, "high": high},
            parameter,
        )
    return value


# --- compiling -------------------------------------------------------------------------------------


def _where(query: Query, columns: list[dict], point: dict) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for name, op, value in query.filters:
        col = _q(name)
        if op in OPS:
            clauses.append(f"{col} {OPS[op]} ?")
            args.append(value)
        elif op == "isnull":
            clauses.append(f"{col} IS {'' if value else 'NOT '}NULL")
        elif op in ("in", "notin"):
            marks = ", ".join("?" for _ in value)
            clauses.append(f"{col} {'NOT ' if op == 'notin' else ''}IN ({marks})")
            args += value
        elif op == "between":
            clauses.append(f"{col} BETWEEN ? AND ?")
            args += value
        elif op == "contains":
            clauses.append(f"contains({col}, ?)")
            args.append(value)
        elif op == "startswith":
            clauses.append(f"starts_with({col}, ?)")
            args.append(value)
    if query.q:
        texts = [c["name"] for c in columns if c["type"] == "string"]
        if texts:
            clauses.append("(" + " OR ".join(f"contains({_q(t)}, ?)" for t in texts) + ")")
            args += [query.q] * len(texts)
        else:
            clauses.append("false")
    if query.bbox:
        lng, lat = _q(point["lng"]), _q(point["lat"])
        clauses.append(f"{lng} BETWEEN ? AND ? AND {lat} BETWEEN ? AND ?")
        west, south, east, north = query.bbox
        args += [west, east, south, north]
    if query.near:
        lng, lat = _q(point["lng"]), _q(point["lat"])
        x, y, radius = query.near
        # A box first (cheap, prunes row groups), then the exact haversine distance in metres.
        dlat = radius / 111_320
        dlng = radius / (111_320 * max(math.cos(math.radians(y)), 0.01))
        clauses.append(f"{lng} BETWEEN ? AND ? AND {lat} BETWEEN ? AND ?")
        args += [x - dlng, x + dlng, y - dlat, y + dlat]
        clauses.append(
            f"2 * 6371008.8 * asin(sqrt(pow(sin(radians({lat} - ?) / 2), 2) + "
            f"cos(radians(?)) * cos(radians({lat})) * pow(sin(radians({lng} - ?) / 2), 2))) <= ?"
        )
        args += [y, y, x, radius]
    return clauses, args


def _row_descending(sort: list[tuple[str, bool]]) -> bool:
    """Ties are broken by file position in the direction of the last sort key: in a file clustered by a key, a
    sort on it in either direction is then the file order forwards or backwards (see `_slice`)."""
    return bool(sort) and sort[-1][1]


def _after(sort: list[tuple[str, bool]], values: list[Any]) -> tuple[str, list[Any]]:
    """Rows after the cursor under ORDER BY sort…, _row with NULLs last: an OR of prefixes."""
    keys = [*sort, (ROW, _row_descending(sort))]
    ors: list[str] = []
    args: list[Any] = []
    for i, (name, desc) in enumerate(keys):
        parts: list[str] = []
        for (prev, _d), value in zip(keys[:i], values[:i], strict=True):
            if value is None:
                parts.append(f"{_q(prev)} IS NULL")
            else:
                parts.append(f"{_q(prev)} = ?")
                args.append(value)
        value = values[i]
        if value is None:
            continue  # nothing sorts after NULL in this column: NULLs are last and equal among themselves
        parts.append(f"({_q(name)} {'<' if desc else '>'} ? OR {_q(name)} IS NULL)")
        args.append(value)
        ors.append("(" + " AND ".join(parts) + ")")
    return ("(" + " OR ".join(ors) + ")") if ors else "false", args


def _source(path: str) -> str:
    return "read_parquet('" + path.replace("'", "''") + "', file_row_number=true)"


def compile_select(
    query: Query, path: str, columns: list[dict], point: dict, *, table: str | None = None
) -> tuple[str, list[Any], list[str]]:
    names = query.fields or [c["name"] for c in columns]
    clauses, args = _where(query, columns, point)
    if query.after is not None:
        clause, more = _after(query.sort, query.after)
        clauses.append(clause)
        args += more
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    row_order = "DESC" if _row_descending(query.sort) else "ASC"
    order = [f"{_q(n)} {'DESC' if d else 'ASC'} NULLS LAST" for n, d in query.sort] + [f"{ROW} {row_order}"]
    keys = [n for n, _d in query.sort if n not in names]
    select = ", ".join([*(_q(n) for n in names), *(_q(k) for k in keys), f"file_row_number AS {ROW}"])
    # In file order a scan already yields rows by position: no sort, so a deep offset only skips rows.
    ordering = f" ORDER BY {', '.join(order)}" if query.sort or query.after is not None else ""
    sql = f"SELECT {select} FROM {table or _source(path)}{where}{ordering} LIMIT {query.size + 1} OFFSET {query.offset}"
    return sql, args, names


def compile_group(
    query: Query, path: str, columns: list[dict], point: dict, *, table: str | None = None
) -> tuple[str, list[Any], list[str]]:
    clauses, args = _where(query, columns, point)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    keys, names = [], []
    for column, bucket in query.group_by:
        expr = f"date_trunc('{bucket}', {_q(column)})" if bucket else _q(column)
        keys.append(f"{expr} AS {_q(group_name(column, bucket))}")
        names.append(group_name(column, bucket))
    aggs = []
    for function, column in query.aggregates:
        expr = {
            "count": "count(*)",
            "count_distinct": f"count(DISTINCT {_q(column)})",
        }.get(function, f"{function}({_q(column)})")
        aggs.append(f"{expr} AS {_q(aggregate_name(function, column))}")
        names.append(aggregate_name(function, column))
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    order = [f"{_q(n)} {'DESC' if d else 'ASC'} NULLS LAST" for n, d in query.sort] or [
        f"{i + 1} ASC NULLS LAST" for i in range(len(keys))
    ]
    sql = (
        f"SELECT {', '.join(keys + aggs)} FROM {table or _source(path)}{where} GROUP BY {group} "
        f"ORDER BY {', '.join(order)} LIMIT {query.size + 1} OFFSET {query.offset}"
    )
    return sql, args, names


def compile_count(
    query: Query, path: str, columns: list[dict], point: dict, *, table: str | None = None
) -> tuple[str, list[Any]]:
    clauses, args = _where(query, columns, point)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return f"SELECT count(*) FROM {table or _source(path)}{where}", args


class _Engine:
    """One DuckDB database per process and kind of work, shared by its threads through cursors, with the serving
    copies (`ingest.add_serving_copy`) it has attached. Sharing one database shares its buffer pool: a hot
    version's blocks are read from disk once per process, not once per thread."""

    def __init__(self, threads: int):
        self.pid = os.getpid()
        self.con = duckdb.connect(config={"memory_limit": "512MB", "threads": threads})
        # Versions are immutable files: their Parquet footers can be cached across requests.
        self.con.execute("SET parquet_metadata_cache = true")
        self.con.execute("SET enable_progress_bar = false")
        self.attached: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def table(self, path: str) -> str:
        """The serving table in the database file at `path`, attached read-only on first use."""
        with self.lock:
            alias = self.attached.get(path)
            if alias is not None:
                self.attached.move_to_end(path)
                return f"{alias}.{SERVING_TABLE}"
            alias = "served_" + hashlib.blake2b(path.encode(), digest_size=8).hexdigest()
            self.con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
            self.attached[path] = alias
            while len(self.attached) > ATTACHED_KEPT:
                # a query still reading the detached file fails and is answered from Parquet (`run`)
                self.con.execute(f"DETACH {self.attached.popitem(last=False)[1]}")
            return f"{alias}.{SERVING_TABLE}"


_engines: dict[str, _Engine] = {}
_engines_lock = threading.Lock()


def _engine(parallel: bool) -> _Engine:
    name = "parallel" if parallel else "serial"
    with _engines_lock:
        engine = _engines.get(name)
        if engine is None or engine.pid != os.getpid():  # a forked server worker opens its own
            engine = _engines[name] = _Engine(2 if parallel else 1)
        return engine


def connection(*, parallel: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor of this process's DuckDB database (cursors are cheap; each request takes its own).

    Row queries read one small row group and run on one thread: a second thread would only start
    decompressing a row group the LIMIT never needs, which halves throughput under concurrent requests.
    Aggregates and exports scan everything and use both cores (`parallel`)."""
    return _engine(parallel).con.cursor()


def served_table(layout: dict | None, *, parallel: bool = False) -> str | None:
    """The table to query instead of the Parquet file: the version's serving copy, when it has one here."""
    key = (layout or {}).get("native")
    if not key:
        return None
    try:
        path = get_storage().local_path(key)
    except (FileNotFoundError, OSError):
        return None
    try:
        return _engine(parallel).table(str(path))
    except duckdb.Error:
        logger.warning("serving copy %s could not be attached; reading the Parquet file", key, exc_info=True)
        return None


class _Counts:
    """Counts of filtered rows, remembered per version file and filter. A version's file never changes
    (a new version is a new file), so a remembered count is never stale; the cache only bounds memory."""

    def __init__(self, size: int = 4096):
        self.size = size
        self.items: OrderedDict[tuple, int] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> int | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: tuple, value: int) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


counts = _Counts()


def _count(cur, sql: str, args: list[Any]) -> int:
    key = (sql, tuple(json.dumps(a, default=str) for a in args))
    total = counts.get(key)
    if total is None:
        total = cur.execute(sql, args).fetchone()[0]
        counts.put(key, total)
    return total


@dataclass
class Page:
    names: list[str]
    rows: list[tuple]
    next_cursor: str | None
    total: int | None
    total_exact: bool


def run_groups(query: Query, path: str, columns: list[dict], point: dict, *, layout: dict | None = None) -> Page:
    return _served(_groups, query, path, columns, point, layout=layout, parallel=True)


def _groups(cur, query: Query, path: str, columns: list[dict], point: dict, table: str | None) -> Page:
    sql, args, names = compile_group(query, path, columns, point, table=table)
    fetched = cur.execute(sql, args).fetchall()
    count_sql = f"SELECT count(*) FROM ({sql.rsplit(' ORDER BY ', 1)[0]})"
    total = _count(cur, count_sql, args)
    return Page(names, fetched[: query.size], None, total, True)


def run(
    query: Query, path: str, columns: list[dict], point: dict, *, row_count: int, layout: dict | None = None
) -> Page:
    """One page of rows. `layout` (`layout_of`) names the version's serving copy, read instead of the Parquet
    file, and describes a clustered file: a page it can locate is read by position (`_slice`)."""
    if query.group_by:
        return run_groups(query, path, columns, point, layout=layout)
    if query.after is not None and query.after_tag != file_tag(path):
        raise _error(_("_next 令牌无效或已过期，请从第一页重新开始。"), "_next")

    def rows(cur, query: Query, path: str, columns: list[dict], point: dict, table: str | None) -> Page:
        page = _slice(cur, query, path, columns, layout, table) if layout and layout.get("zones") else None
        return page or _rows(cur, query, path, columns, point, table, row_count)

    return _served(rows, query, path, columns, point, layout=layout, parallel=False)


def _served(work, query: Query, path: str, columns: list[dict], point: dict, *, layout, parallel: bool) -> Page:
    """`work` on the version's serving copy when it has one, on its Parquet file otherwise. The two hold the same
    rows in the same order, so a copy that cannot be read (detached under load, removed) costs a second try on
    the Parquet file, never a wrong answer."""
    table = served_table(layout, parallel=parallel)
    cur = connection(parallel=parallel)
    try:
        if table is not None:
            try:
                return work(cur, query, path, columns, point, table)
            except duckdb.Error as exc:
                failure = exc
        page = work(cur, query, path, columns, point, None)
        if table is not None:  # the file answered what the copy could not: the copy is at fault, not the query
            logger.warning("serving copy %s failed where its Parquet file did not: %s", table, failure)
        return page
    except duckdb.Error as exc:
        raise QueryError(_("查询无法执行：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}) from None
    finally:
        cur.close()


def _rows(cur, query: Query, path: str, columns: list[dict], point: dict, table: str | None, row_count: int) -> Page:
    sql, args, names = compile_select(query, path, columns, point, table=table)
    fetched = cur.execute(sql, args).fetchall()
    has_more = len(fetched) > query.size
    fetched = fetched[: query.size]
    next_cursor = None
    if has_more and fetched:
        last = fetched[-1]
        index = {n: i for i, n in enumerate([*names, *(n for n, _d in query.sort if n not in names)])}
        next_cursor = encode_cursor([last[index[n]] for n, _d in query.sort] + [last[-1], file_tag(path)])
    filtered = bool(query.filters or query.q or query.bbox or query.near)
    if filtered and not has_more and not query.offset and query.after is None:
        total = len(fetched)  # the whole answer is on this page: no need to count it again
    elif filtered:
        count_sql, count_args = compile_count(query, path, columns, point, table=table)
        total = _count(cur, count_sql, count_args)
    else:
        total = row_count
    return Page(names, [row[: len(names)] for row in fetched], next_cursor, total, True)


# --- pages located by the layout of a clustered file --------------------------------------------------------------


class _Layouts:
    """Layouts of version files, by file. A file never changes, so a layout naming its serving copy never goes
    stale; one without a copy yet (its ingest is still writing it) is read again after `PENDING_SECONDS`."""

    PENDING_SECONDS = 10.0

    def __init__(self) -> None:
        self.items: OrderedDict[str, tuple[dict, float]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, version) -> dict:
        key = version.data_key
        now = time.monotonic()
        with self.lock:
            found, until = self.items.get(key, (None, 0.0))
        if found is None or until < now:
            from citydata.datastore.models import DataVersion

            stored = DataVersion.objects.filter(pk=version.pk).values_list("layout", flat=True).first() or {}
            found = stored if stored.get("file") == key else {}
            until = math.inf if found.get("native") else now + self.PENDING_SECONDS
            with self.lock:
                self.items[key] = (found, until)
                while len(self.items) > LAYOUTS_KEPT:
                    self.items.popitem(last=False)
        return found


_layouts = _Layouts()


def layout_of(version) -> dict:
    """The layout of a version's file: its serving copy (`ingest.add_serving_copy`) and, for a clustered file,
    where each value of its first key sits (`ingest.zones_of`); {} when the file has neither."""
    if not version.data_key:
        return {}
    return _layouts.get(version)


def _slice(cur, query: Query, path: str, columns: list[dict], layout: dict, table: str | None) -> Page | None:
    """A page of `key = value` sorted on the second cluster key, read by position.

    The file is ordered by (first key, second key NULLS LAST), so a value's rows are one range of positions and
    within it the second key ascends, its NULLs last. With ties broken by position in the sort's direction
    (`_row_descending`), the ascending order is that range forwards; the descending one is the filled part
    backwards, then the NULLs backwards. A page is then one or two position ranges: no scan, no sort, and an
    exact total. Anything else (other filters, other sorts, text search, places) returns None."""
    keys = layout["keys"]
    if not query.sort or query.q or query.bbox or query.near or len(query.filters) != 1:
        return None  # unsorted, DuckDB's scan stops at the first rows it needs: cheaper than reading a row group
    name, op, value = query.filters[0]
    second = keys[1] if len(keys) > 1 else None
    if name != keys[0] or op != "exact" or len(query.sort) != 1 or query.sort[0][0] != second:
        return None
    names = query.fields or [c["name"] for c in columns]
    descending = query.sort[0][1]
    start, end, filled = layout["zones"].get(str(value), (0, 0, 0))
    filled_end = start + filled

    def index_of(position: int) -> int:
        if not descending:
            return position - start
        return filled_end - 1 - position if position < filled_end else filled + end - 1 - position

    first = query.offset
    if query.after is not None:
        position = query.after[-1]
        if not start <= position < end:
            return None  # a token from another query: the general path decides what follows it
        first = index_of(position) + 1
    last = min(first + query.size + 1, end - start)  # one more than the page, to know whether another follows
    ranges = []
    if first < last and not descending:
        ranges.append((start + first, start + last - 1))
    elif first < last:
        if first < filled:
            ranges.append((filled_end - min(last, filled), filled_end - 1 - first))
        if last > filled:
            ranges.append((end - (last - filled), end - 1 - (max(first, filled) - filled)))
    extra = [second] if second not in names else []
    select = ", ".join([*(_q(n) for n in names), *(_q(k) for k in extra), f"file_row_number AS {ROW}"])
    fetched: list[tuple] = []
    for low, high in ranges:
        fetched += cur.execute(
            f"SELECT {select} FROM {table or _source(path)} WHERE file_row_number BETWEEN ? AND ?",  # noqa: S608
            [low, high],
        ).fetchall()
    fetched.sort(key=lambda row: index_of(row[-1]))
    has_more = len(fetched) > query.size
    fetched = fetched[: query.size]
    next_cursor = None
    if has_more:
        row = fetched[-1]
        next_cursor = encode_cursor([row[(names + extra).index(second)], row[-1], file_tag(path)])
    return Page(names, [row[: len(names)] for row in fetched], next_cursor, end - start, True)
