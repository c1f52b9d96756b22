"""Read-only SQL over a data version, in a sandbox.

Four fences, each enough on its own for the cases it covers:
1. DuckDB's own parser must see exactly one SELECT statement (no COPY, ATTACH, SET, PRAGMA, INSTALL, …).
2. The parsed tree may name only the table `data` (and the query's own CTEs), no table functions
   (read_csv, glob, duckdb_settings …) and only functions on an allow-list.
3. The connection runs with file access disabled except the version's own Parquet file, extensions
   neither installed nor loaded, the configuration locked, one thread and a memory cap.
4. A time limit interrupts the query; at most `max_rows` rows come back.
Every refusal is logged with its reason, and audited.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

import duckdb
from django.conf import settings
from django.utils.translation import gettext as _

from citydata.errors import DomainError

logger = logging.getLogger("citydata.datastore.sql")

AGGREGATES = {
    "count", "count_star", "sum", "avg", "mean", "min", "max", "median", "mode", "quantile_cont", "quantile_disc",
    "stddev", "stddev_samp", "stddev_pop", "var_samp", "var_pop", "variance", "string_agg", "group_concat",
    "list", "array_agg", "first", "last", "any_value", "arg_min", "arg_max", "approx_count_distinct", "bool_and",
    "bool_or", "corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "histogram",
}  # fmt: skip
WINDOWS = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
           "first_value", "last_value", "nth_value"}  # fmt: skip
SCALARS = {
    "abs", "round", "floor", "ceil", "ceiling", "trunc", "sqrt", "cbrt", "power", "pow", "ln", "log", "log2",
    "log10", "exp", "sign", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "radians", "degrees", "pi",
    "greatest", "least", "coalesce", "nullif", "ifnull", "isnan", "isinf", "lower", "upper", "lcase", "ucase",
    "length", "strlen", "char_length", "substr", "substring", "left", "right", "trim", "ltrim", "rtrim",
    "replace", "concat", "concat_ws", "contains", "starts_with", "ends_with", "prefix", "suffix", "strpos",
    "position", "instr", "reverse", "repeat", "lpad", "rpad", "split_part", "string_split", "regexp_matches",
    "regexp_replace", "regexp_extract", "regexp_full_match", "like_escape", "ilike_escape", "printf", "format",
    "date_trunc", "datetrunc", "date_part", "datepart", "extract", "year", "month", "day", "hour", "minute",
    "second", "dayofweek", "dayofyear", "week", "weekofyear", "quarter", "isodow", "strftime", "strptime",
    "try_strptime", "make_date", "make_timestamp", "date_diff", "datediff", "date_sub", "datesub", "date_add",
    "epoch", "to_timestamp", "time_bucket", "current_date", "today", "age", "last_day", "monthname", "dayname",
    "list_value", "list_extract", "array_length", "len", "unnest", "struct_pack", "row", "hash",
    "~~", "!~~", "~~*", "!~~*", "like", "ilike", "not_like", "not_ilike",
}  # fmt: skip
ALLOWED_FUNCTIONS = AGGREGATES | WINDOWS | SCALARS
TABLE = "data"


class SqlRefused(DomainError):
    default_code = "sql_refused"


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    truncated: bool


def _refuse(message: str, reason: str, sql: str) -> SqlRefused:
    logger.warning("SQL refused (%s): %s", reason, sql[:500].replace("\n", " "))
    return SqlRefused(message, details={"reason": reason})


def _walk(node, visit) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for item in node:
            _walk(item, visit)


def check(sql: str) -> None:
    """Refuse anything but one SELECT over `data` with allowed functions. Raises SqlRefused."""
    text = (sql or "").strip()
    if not text:
        raise _refuse(_("请输入一条 SELECT 语句。"), "empty", text)
    if len(text) > 10_000:
        raise _refuse(_("SQL 过长（最多 10000 个字符）。"), "too_long", text)
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise _refuse(
            _("SQL 语法错误：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}, "syntax", text
        ) from None
    if len(statements) != 1:
        raise _refuse(_("一次只能执行一条语句。"), "multiple_statements", text)
    if statements[0].type != duckdb.StatementType.SELECT:
        raise _refuse(_("只允许查询（SELECT），不能修改数据、读写文件或更改设置。"), "not_select", text)
    parser = duckdb.connect()
    try:
        tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [text]).fetchone()[0])
    finally:
        parser.close()
    if tree.get("error"):
        raise _refuse(_("不支持这种写法，请使用标准的 SELECT 查询。"), "unsupported", text)
    ctes: set[str] = set()

    def collect_ctes(node: dict) -> None:
        for entry in (node.get("cte_map") or {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(str(entry.get("key", "")).lower())

    _walk(tree, collect_ctes)
    problems: list[tuple[str, str]] = []

    def table_ref(ref) -> None:
        if not isinstance(ref, dict):
            return
        kind = ref.get("type")
        if kind == "BASE_TABLE":
            name = str(ref.get("table_name", "")).lower()
            if ref.get("schema_name") or ref.get("catalog_name") or name not in ({TABLE} | ctes):
                problems.append((_("只能查询表 data（本数据集），不能查询“%(name)s”。") % {"name": name}, "table"))
        elif kind == "JOIN":
            table_ref(ref.get("left"))
            table_ref(ref.get("right"))
        elif kind == "TABLE_FUNCTION":
            problems.append((_("不能调用表函数（例如读取文件）。"), "table_function"))
        elif kind not in ("SUBQUERY", "EMPTY", "EXPRESSION_LIST"):
            problems.append((_("不支持这种数据来源，请只查询表 data。"), "table_ref"))

    def visit(node: dict) -> None:
        if "from_table" in node:
            table_ref(node["from_table"])
        if node.get("class") in ("FUNCTION", "WINDOW", "AGGREGATE") and "function_name" in node:
            name = str(node["function_name"]).lower()
            if not node.get("is_operator") and name not in ALLOWED_FUNCTIONS:
                problems.append((_("不允许使用函数 %(name)s。") % {"name": name}, "function"))

    _walk(tree, visit)
    if problems:
        message, reason = problems[0]
        raise _refuse(message, reason, text)


def run(
    sql: str,
    parquet: str,
    *,
    max_rows: int | None = None,
    timeout_ms: int | None = None,
    columns: list[str] | None = None,
) -> Result:
    """Check and run `sql` over the Parquet file as table `data` (only `columns` of it when given: a
    grant's fields)."""
    check(sql)
    max_rows = max_rows or settings.SQL_MAX_ROWS
    timeout_ms = timeout_ms or settings.SQL_TIME_LIMIT_MS
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "threads": 1,
            "memory_limit": "256MB",
        }
    )
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET allowed_paths = [" + "'" + parquet.replace("'", "''") + "']")
        con.execute("SET enable_external_access = false")
        select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns) if columns is not None else "*"
        source = parquet.replace("'", "''")
        con.execute(f"CREATE VIEW {TABLE} AS SELECT {select} FROM read_parquet('{source}')")
        con.execute("SET lock_configuration = true")
        timer = threading.Timer(timeout_ms / 1000, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(sql)
            rows = cursor.fetchmany(max_rows + 1)
            columns = [d[0] for d in cursor.description or []]
        except duckdb.InterruptException:
            raise SqlRefused(
                _("查询超过 %(s)s 秒的时间上限，已中止。请加筛选条件或聚合后再试。") % {"s": timeout_ms / 1000},
                code="sql_timeout",
            ) from None
        except duckdb.Error as exc:
            raise SqlRefused(
                _("查询无法执行：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}, code="sql_error"
            ) from None
        finally:
            timer.cancel()
    finally:
        con.close()
    return Result(columns, rows[:max_rows], len(rows) > max_rows)


def run_for(user, slug: str, text: str, parquet: str, **limits) -> Result:
    """`run`, recording a refused query in the audit trail against who tried it (security monitoring)."""
    from django.db import transaction

    from citydata.security import audit

    try:
        return run(text, parquet, **limits)
    except SqlRefused as exc:
        if exc.code == "sql_refused":
            with transaction.atomic():
                shown = text[:300].replace("\x00", "\\x00")  # PostgreSQL refuses NUL in text
                audit.record(user, "sql.refused", note=f"{slug}: {exc.details.get('reason')}: {shown}")
        raise
