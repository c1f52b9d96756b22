"""Open a table for a personal-data scan: rows in memory, a DuckDB relation, or a Parquet, CSV/TSV or Excel file,
as view `t` of an own in-memory DuckDB database with a 0-based row number and every column as text."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
from django.utils.translation import gettext as _

from citydata.errors import DomainError

TableSource = Any  # Table | str | Path | tuple[columns, rows] | duckdb.DuckDBPyRelation


class TableError(DomainError):
    default_code = "invalid_table"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Table:
    """A table opened for scanning: view `t` in its own DuckDB connection, with `__row` (0-based data row) and the
    columns as VARCHAR `c0`, `c1`, … in order; `columns` keeps their names."""

    def __init__(self, con: duckdb.DuckDBPyConnection, columns: list[str], work: Path, *, lazy_rows: bool = False):
        self.con = con
        self.columns = columns
        self.work = work
        self.lazy_rows = lazy_rows  # `t` reads a file on every query rather than a table in memory
        self.rows: int = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# DuckDB gets every core but one: a scan runs its own second thread (Python validates findings while DuckDB flags
# the next texts), and DuckDB's workers would take CPU from it. On this 2-core machine, with other processes taking
# about one core, one DuckDB thread scans the 100,000-row benchmark table 10-15% faster (wall and CPU) than two.
DUCKDB_THREADS = max(1, (os.cpu_count() or 2) - 1)


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "temp_directory": str(work / "spill"),
        "memory_limit": "2GB",
        "threads": DUCKDB_THREADS,
    }
    return duckdb.connect(config=config)


def open_table(source: TableSource) -> Table:
    """Open `source` for scanning: (column names, rows), a DuckDB relation, or a path to a Parquet, CSV/TSV or
    Excel file (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030, found out from the bytes)."""
    if isinstance(source, Table):
        return source
    work = Path(tempfile.mkdtemp(prefix="pii-"))
    try:
        if isinstance(source, tuple) and len(source) == 2:
            return _open_rows(list(source[0]), source[1], work)
        if isinstance(source, duckdb.DuckDBPyRelation):
            path = work / "relation.parquet"
            source.write_parquet(str(path))
            return _open_parquet(path, work)
        path = Path(source)
        if not path.is_file():
            raise TableError(_("找不到文件：%(path)s") % {"path": str(source)}, code="not_found")
        if path.suffix.lower() == ".parquet":
            return _open_parquet(path, work)
        return _open_delimited(path, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _open_rows(columns: list[str], rows: Iterable[Sequence[Any]], work: Path) -> Table:
    values: list[list[str | None]] = [[] for _ in columns]
    for row in rows:
        for i, column in enumerate(values):
            column.append(_cell_text(row[i]) if i < len(row) else None)
    con = _connect(work)
    if not columns:
        con.execute("CREATE TABLE src (__row BIGINT)")
        con.execute("CREATE VIEW t AS SELECT * FROM src")
        return Table(con, [], work)
    select = ", ".join(f"unnest(${i + 1}::VARCHAR[]) AS c{i}" for i in range(len(columns)))
    con.execute(f"CREATE TABLE src AS SELECT {select}", values)  # noqa: S608 - generated names only
    con.execute("CREATE VIEW t AS SELECT rowid AS __row, * FROM src")
    return Table(con, columns, work)


def _open_parquet(path: Path, work: Path) -> Table:
    con = _connect(work)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_literal(str(path))})").fetchall()  # noqa: S608
    except duckdb.Error as exc:
        con.close()
        raise TableError(_("无法读取 Parquet 文件：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}) from None
    columns = [row[0] for row in described]
    select = ", ".join(f"CAST({_ident(name)} AS VARCHAR) AS c{i}" for i, name in enumerate(columns))
    con.execute(
        f"CREATE VIEW t AS SELECT file_row_number AS __row{', ' if select else ''}{select} "  # noqa: S608
        f"FROM read_parquet({sql_literal(str(path))}, file_row_number=true)"
    )
    return Table(con, columns, work, lazy_rows=True)


def _open_delimited(path: Path, work: Path) -> Table:
    """CSV, TSV and Excel through the upload reader of the datastore (encoding detection, Excel to CSV). A file whose
    first megabyte is UTF-8 is read as UTF-8 without hashing it first: DuckDB refuses bytes that are not UTF-8, and
    only then is the file checked and, when it is not UTF-8 after all, read again as GB18030."""
    from citydata.datastore import sources

    prepared = sources.prepare(path, path.name, work, digest=False)
    header = sources.read_header(prepared)
    try:
        con = _load_delimited(prepared.path, prepared.delimiter, len(header), work)
    except TableError:
        if sources.utf8_throughout(prepared.path):
            raise
        prepared.cleanup()
        prepared = sources.prepare(path, path.name, work, encoding="gb18030")
        prepared.finish()
        header = sources.read_header(prepared)
        con = _load_delimited(prepared.path, prepared.delimiter, len(header), work)
    return Table(con, [name or _("第%(n)s列") % {"n": i + 1} for i, name in enumerate(header)], work)


def _load_delimited(path: Path, delimiter: str, width: int, work: Path) -> duckdb.DuckDBPyConnection:
    """Table `src` and view `t` of a UTF-8 CSV with a header row of `width` fields, every column as text."""
    con = _connect(work)
    columns = {f"c{i}": "VARCHAR" for i in range(width)}
    struct = "{" + ", ".join(f"{sql_literal(k)}: 'VARCHAR'" for k in columns) + "}"
    options = [
        "header=true",
        f"delim={sql_literal(delimiter)}",
        "quote='\"'",
        "escape='\"'",
        f"columns={struct}",
        "auto_detect=false",
        "null_padding=true",
        "strict_mode=false",
        "parallel=true",
    ]
    try:
        reader = f"read_csv({sql_literal(str(path))}, {', '.join(options)})"
        con.execute(f"CREATE TABLE src AS SELECT * FROM {reader}")  # noqa: S608 - a quoted path and our options
    except duckdb.Error as exc:
        con.close()
        raise TableError(_("无法读取文件：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}) from None
    con.execute("CREATE VIEW t AS SELECT rowid AS __row, * FROM src")
    return con


def in_background(table: Table, produce: Callable[[Any], Iterator[Any]]) -> Generator[Any, None, None]:
    """The items `produce(cursor)` yields, computed by a background thread on its own cursor of the table's
    connection: DuckDB runs a query without the GIL, so the caller works in Python on one item while DuckDB computes
    the next. Close the generator (contextlib.closing) to stop the thread early."""
    out: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    cursor = table.con.cursor()

    def run() -> None:
        try:
            for item in produce(cursor):
                if stop.is_set():
                    break
                out.put(item)
        except BaseException as exc:  # handed to the consumer
            out.put(exc)
        finally:
            out.put(None)

    worker = threading.Thread(target=run, name="pii-scan-fetch", daemon=True)
    worker.start()
    try:
        while (item := out.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                out.get_nowait()  # let a producer blocked on a full queue finish
            worker.join(0.01)
        cursor.close()
