"""Ingest one uploaded file into a Parquet data version.

Steps: check and convert the source (sources.py) → name columns and infer types over every value
(infer.py) → read again with those types, DuckDB recording each malformed row with its line number →
write Parquet (zstd) to a temporary file → store it under its final key → mark the version ready in one
transaction. A crash at any step leaves no version pointing at a partial file; `cleanup` removes what a
crashed run left behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.catalog.models import DatasetField
from citydata.datastore import infer, sources
from citydata.datastore.models import BadRowPolicy, DataVersion, VersionStatus
from citydata.datastore.records import SERVING_TABLE
from citydata.datastore.storage import get_storage
from citydata.errors import DomainError
from citydata.security import audit

logger = logging.getLogger("citydata.datastore")

BAD_ROWS_KEPT = 1000
ROW_GROUP_SIZE = 30_720  # 15 DuckDB vectors: a point lookup decompresses 30k rows, not 100k (docs/performance.md)
PHASES = {"checking": (0, 10), "inferring": (10, 35), "loading": (35, 90), "finishing": (90, 100)}


class IngestError(DomainError):
    default_code = "ingest_failed"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _struct(columns: list[infer.Column], *, typed: bool) -> str:
    def duck(c: infer.Column) -> str:
        if not typed or c.type == "boolean":
            return "VARCHAR"
        if c.needs_integer_check:
            return "DOUBLE"  # DuckDB's CSV reader would round 35.5 into BIGINT 36 without a word
        return infer.DUCK_TYPES.get(c.type, "VARCHAR")

    return "{" + ", ".join(f"{_literal(c.name)}: {_literal(duck(c))}" for c in columns) + "}"


def _read_csv(
    prepared: sources.Prepared, columns: list[infer.Column], *, typed: bool, formats=(None, None), rejects: str = ""
) -> str:
    options = [
        "header=true",
        f"delim={_literal(prepared.delimiter)}",
        "quote='\"'",
        "escape='\"'",
        f"columns={_struct(columns, typed=typed)}",
        "nullstr=[" + ", ".join(_literal(t) for t in infer.NULL_TOKENS) + "]",
        "ignore_errors=true",
        "auto_detect=false",
        "parallel=true",
    ]
    if typed:
        options += ["store_rejects=true", f"rejects_table='{rejects}'", f"rejects_scan='{rejects}_scan'"]
        date_format, ts_format = formats
        if date_format:
            options.append(f"dateformat={_literal(date_format)}")
        if ts_format:
            options.append(f"timestampformat={_literal(ts_format)}")
    return f"read_csv({_literal(str(prepared.path))}, {', '.join(options)})"


def _select_list(columns: list[infer.Column]) -> str:
    parts = []
    for c in columns:
        q = infer._q(c.name)
        if c.type == "boolean":
            yes = ", ".join(_literal(w) for w in ("true", "是", "y", "yes", "1", "t"))
            no = ", ".join(_literal(w) for w in ("false", "否", "n", "no", "0", "f"))
            parts.append(f"CASE WHEN lower({q}) IN ({yes}) THEN true WHEN lower({q}) IN ({no}) THEN false END AS {q}")
        elif c.needs_integer_check:
            parts.append(f"CAST({q} AS BIGINT) AS {q}")
        else:
            parts.append(q)
    return ", ".join(parts)


def _fraction_filter(columns: list[infer.Column]) -> str:
    """Rows whose declared integer columns hold a fraction."""
    checks = [f"({infer._q(c.name)} <> trunc({infer._q(c.name)}))" for c in columns if c.needs_integer_check]
    return " OR ".join(checks)


class _Progress:
    """Writes the phase and percentage to the version row; for long loads a thread follows DuckDB's own
    progress and keeps a heartbeat, so a stuck ingest can be told from a slow one."""

    def __init__(self, version: DataVersion, con, *, watch: bool, listener=None):
        self.version, self.con, self.watch, self.listener = version, con, watch, listener
        self.phase = "checking"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set(self, phase: str, fraction: float = 0.0) -> None:
        self.phase = phase
        low, high = PHASES[phase]
        value = int(low + (high - low) * max(0.0, min(fraction, 1.0)))
        DataVersion.objects.filter(pk=self.version.pk).update(phase=phase, progress=value, heartbeat_at=timezone.now())
        if self.listener is not None:
            self.listener(phase, value)

    def __enter__(self):
        if self.watch:
            self._thread = threading.Thread(target=self._follow, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _follow(self) -> None:
        try:
            while not self._stop.wait(2.0):
                try:
                    fraction = max(float(self.con.query_progress()), 0.0) / 100
                except Exception:  # noqa: S112 - progress is best effort; the heartbeat still goes out
                    fraction = 0.0
                self.set(self.phase, fraction)
        finally:
            close_old_connections()


def _fail(version: DataVersion, message: str, code: str, **extra: Any) -> None:
    DataVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.FAILED,
        error=message,
        error_code=code,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        **extra,
    )
    audit.record(version.created_by, "data_version.failed", version, note=f"{code}: {message}"[:500])


def run(version_id: int, listener=None) -> DataVersion:
    """Ingest a queued version. Safe to call twice: only a queued version is claimed. `listener(phase, percent)`
    hears about progress (the CLI draws its bar with it)."""
    claimed = DataVersion.objects.filter(pk=version_id, status=VersionStatus.QUEUED).update(
        status=VersionStatus.RUNNING, phase="checking", progress=0, heartbeat_at=timezone.now()
    )
    version = DataVersion.objects.select_related("dataset", "created_by").get(pk=version_id)
    if not claimed:
        return version
    work = Path(tempfile.mkdtemp(prefix="ingest-", dir=_work_dir()))
    con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(work / "spill")})
    con.execute("SET enable_progress_bar = false")  # progress is ours to report; DuckDB's bar costs time
    try:
        keys = _ingest(version, work, con, listener)
        if keys:
            _cluster_version(version.pk, keys, work, con)
        add_serving_copy(version.pk, work=work, con=con)
    except (DomainError, sources.SourceError) as exc:
        _fail(version, str(exc.message), exc.code, **getattr(exc, "extra", {}))
    except duckdb.Error as exc:
        logger.warning("ingest of version %s failed in DuckDB: %s", version.pk, exc)
        _fail(version, _("文件无法解析：%(reason)s") % {"reason": str(exc).splitlines()[0][:300]}, "unreadable")
    except Exception:
        logger.exception("ingest of version %s failed", version.pk)
        _fail(version, _("处理过程中出现内部错误，已记录。请稍后重试或联系平台运营方。"), "internal_error")
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    version.refresh_from_db()
    return version


def cluster(con, source: Path, target: Path, keys: list[str]) -> None:
    """Rewrite a version's file ordered by `keys` (a category-like column, then time), so row-group statistics
    let filters on the category and top-N sorts on time skip most of the file (docs/performance.md)."""
    order = ", ".join(f"{infer._q(k)} NULLS LAST" for k in keys)
    con.execute(
        f"COPY (SELECT * FROM read_parquet({_literal(str(source))}) ORDER BY {order}) TO {_literal(str(target))} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    )


MAX_ZONES = 50_000  # values of the first cluster key a layout lists; more would make it a second file


def zones_of(con, path: Path, keys: list[str]) -> dict:
    """Where each value of the first cluster key sits in a clustered file: its rows are positions [start, end),
    and the first `filled` of them have the second key set (NULLs sort last), in that key's order. Read from the
    written file itself; an empty dict when a value's rows are not contiguous (then the file is not what its
    keys say, and readers take the general path)."""
    first = infer._q(keys[0])
    second = f"count({infer._q(keys[1])})" if len(keys) > 1 else "count(*)"
    rows = con.execute(
        f"SELECT {first}, min(file_row_number), max(file_row_number), count(*), {second} "  # noqa: S608
        f"FROM read_parquet({_literal(str(path))}, file_row_number=true) WHERE {first} IS NOT NULL GROUP BY 1"
    ).fetchall()
    if len(rows) > MAX_ZONES:
        return {}
    zones = {}
    for value, start, last, count, filled in rows:
        if last - start + 1 != count:
            logger.warning("clustered file %s is not ordered by %s; no layout kept", path.name, keys[0])
            return {}
        zones[str(value)] = [start, last + 1, filled]
    return {"keys": keys[:2], "zones": zones}


def _cluster_version(version_id: int, keys: list[str], work: Path, con) -> None:
    """The ready version is already served (or publishable) in file order; swap in the clustered file when it
    is written. Readers see one file or the other, both whole; keyset tokens name their file, so a token from
    before the swap asks for a restart instead of skipping rows. A failure here only costs speed."""
    version = DataVersion.objects.get(pk=version_id)
    if version.status != VersionStatus.READY or not version.data_key:
        return
    storage = get_storage()
    target = work / "clustered.parquet"
    key = version.data_key.removesuffix(".parquet") + "-c.parquet"
    try:
        cluster(con, storage.local_path(version.data_key), target, keys)
        types = {c["name"]: c["type"] for c in version.columns}
        layout = zones_of(con, target, keys) if types.get(keys[0]) == "string" else {}
        size = storage.put(target, key)
    except (duckdb.Error, OSError):
        logger.warning("clustering version %s failed; it stays in file order", version_id, exc_info=True)
        return
    if layout:
        layout["file"] = key
    with transaction.atomic():
        swapped = DataVersion.objects.filter(pk=version_id, data_key=version.data_key).update(
            data_key=key, data_size=size, cluster_keys=keys, layout=layout
        )
    if not swapped:
        storage.delete(key)
    # the file-order copy is no longer named by any version: the cleanup job removes it after its grace period


SMALL_COPY_ROWS = 50_000


def write_serving_copy(con, source: Path, target: Path, *, rows: int) -> None:
    """Write the DuckDB database file `target` holding the Parquet file `source` as table `SERVING_TABLE`, in file
    order, with each row's position in `source` as `file_row_number`."""
    # DuckDB's 256 KiB blocks would make even a ten-row copy half a megabyte; small versions take 16 KiB ones
    block = "" if rows >= SMALL_COPY_ROWS else " (BLOCK_SIZE 16384)"
    con.execute(f"ATTACH {_literal(str(target))} AS serving_copy{block}")
    try:
        con.execute(
            f"CREATE TABLE serving_copy.{SERVING_TABLE} AS "  # noqa: S608
            f"SELECT * FROM read_parquet({_literal(str(source))}, file_row_number=true) ORDER BY file_row_number"
        )
    finally:
        con.execute("DETACH serving_copy")


def add_serving_copy(version_id: int, *, work: Path | None = None, con=None) -> bool:
    """Copy a version's Parquet file into a DuckDB database file that the records API reads instead.

    DuckDB plans a query over a native table in a fraction of the time it takes over `read_parquet`, and reads
    it without decompressing zstd pages, so row queries cost a third and aggregates about two thirds of what they
    cost on the Parquet file (docs/performance.md). The table keeps the file's order and carries each row's
    position in the Parquet file as `file_row_number`, so the same SQL, layouts and keyset tokens apply to both.
    The Parquet file stays the version's data (downloads, the SQL sandbox, inspections); the copy is named in
    the layout next to the file it mirrors, so a rewritten file (masking) stops being served from a stale copy.
    A failure only costs speed: queries go on reading the Parquet file. Returns whether a copy was added."""
    version = DataVersion.objects.filter(pk=version_id).only("status", "data_key", "layout", "row_count").first()
    if version is None or version.status != VersionStatus.READY or not version.data_key:
        return False
    storage = get_storage()
    data_key = version.data_key
    key = data_key.removesuffix(".parquet") + ".duckdb"
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="serve-", dir=_work_dir())) if work is None else work
    target = work / "serving.duckdb"
    target.unlink(missing_ok=True)
    own_con = con is None
    con = duckdb.connect(config={"memory_limit": "1GB"}) if con is None else con
    try:
        write_serving_copy(con, storage.local_path(data_key), target, rows=version.row_count)
        storage.put(target, key)
    except (duckdb.Error, OSError):
        logger.warning("no serving copy for version %s; it is served from its Parquet file", version_id, exc_info=True)
        return False
    finally:
        if own_con:
            con.close()
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    layout = version.layout if (version.layout or {}).get("file") == data_key else {"file": data_key}
    updated = DataVersion.objects.filter(pk=version_id, data_key=data_key).update(layout={**layout, "native": key})
    if not updated:
        storage.delete(key)  # the file was rewritten meanwhile: this copy mirrors nothing
    return bool(updated)


def _work_dir() -> Path:
    path = Path(settings.VAR_DIR) / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ingest(version: DataVersion, work: Path, con, listener) -> list[str]:
    storage = get_storage()
    source = storage.local_path(version.source_key)
    if source.stat().st_size > settings.INGEST_MAX_BYTES:
        raise IngestError(
            _("文件超过 %(mb)s MB 的上限。") % {"mb": settings.INGEST_MAX_BYTES // 2**20}, code="too_large"
        )
    declared = list(version.dataset.fields.all())
    with _Progress(version, con, watch=source.stat().st_size > 20 * 2**20, listener=listener) as progress:
        progress.set("checking")
        prepared = sources.prepare(source, version.source_name, work)
        try:
            try:
                built = build(prepared, declared, work, con, progress)
            except duckdb.Error:
                if prepared.finish():
                    raise
                built = None
            if not prepared.finish():  # UTF-8 in its first megabyte only: read it again as GB18030
                prepared.cleanup()
                prepared = sources.prepare(source, version.source_name, work, encoding="gb18030")
                built = build(prepared, declared, work, con, progress)
            assert built is not None
            DataVersion.objects.filter(pk=version.pk).update(
                source_format=prepared.format,
                source_encoding=prepared.encoding,
                source_sha256=prepared.sha256,
                source_size=prepared.size,
            )
            _load(version, prepared, built, progress)
        finally:
            prepared.cleanup()
    return built.cluster_keys


@dataclass
class Built:
    """What converting one prepared source produced: a Parquet file and the report about it."""

    parquet: Path
    columns: list[infer.Column]
    rows: int
    bad_total: int
    bad_rows: list[dict]
    cluster_keys: list[str]

    @property
    def point(self) -> dict:
        return infer.point_columns(self.columns)


def build(prepared: sources.Prepared, declared: list, work: Path, con, progress=None) -> Built:
    """Name and type the columns, read every row with DuckDB and write the Parquet file. No database access:
    the benchmarks time exactly this."""
    headers = sources.read_header(prepared)
    if len(headers) > settings.INGEST_MAX_COLUMNS:
        raise IngestError(
            _("文件有 %(n)s 列，超过 %(max)s 列的上限。") % {"n": len(headers), "max": settings.INGEST_MAX_COLUMNS},
            code="too_many_columns",
        )
    columns = infer.name_columns(headers, declared)
    if progress:
        progress.set("inferring")
    # Types from a sample (all casts), then one cheap full pass for what a sample could miss silently; what
    # it could miss loudly (a later value that does not cast) comes back as a rejected cast and demotes the
    # column below. Reading every value through every cast would cost more than the load itself.
    text = _read_csv(prepared, columns, typed=False)
    sample = f"(SELECT * FROM {text} LIMIT {infer.SAMPLE_ROWS})"
    stats = _one_row(con, infer.stats_sql(columns) + f" FROM {sample}")
    candidates = infer.format_candidates(columns, stats)
    notations = _one_row(con, infer.format_sql(columns, candidates) + f" FROM {sample}") if candidates else {}
    formats = infer.choose_types(columns, stats, notations)
    checks = _one_row(con, infer.check_sql(columns) + f" FROM {text}")
    if checks["rows"] > settings.INGEST_MAX_ROWS:
        raise IngestError(
            _("文件有 %(n)s 行，超过 %(max)s 行的上限。") % {"n": checks["rows"], "max": settings.INGEST_MAX_ROWS},
            code="too_many_rows",
        )
    infer.apply_checks(columns, checks)
    # Written in file order; a big version is rewritten clustered by these keys once it is ready (`cluster`).
    keys = infer.cluster_keys(columns, stats, checks["rows"])
    if progress:
        progress.set("loading")
    parquet = work / "data.parquet"
    run = uuid.uuid4().hex[:8]
    for attempt in range(len(columns) + 1):
        rejects = f"rejects_{run}_{attempt}"
        source = _read_csv(prepared, columns, typed=True, formats=formats, rejects=rejects)
        fractions = _fraction_filter(columns)
        where = f" WHERE NOT ({fractions})" if fractions else ""
        con.execute(
            f"COPY (SELECT {_select_list(columns)} FROM {source}{where}) "
            f"TO {_literal(str(parquet))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
        misread = {
            name
            for (name,) in con.execute(
                f"SELECT DISTINCT column_name FROM {rejects} WHERE error_type = 'CAST' AND column_name IS NOT NULL"
            ).fetchall()
        }
        demote = [c for c in columns if c.name in misread and not c.declared and c.type != "string"]
        if not demote:
            break
        for column in demote:  # the sample was wrong about this column: keep every value as text
            column.type = "string"
    bad_total = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchone()[0]
    bad_rows = [
        _bad_row(line, column, kind, message, prepared)
        for line, column, kind, message in con.execute(
            f"SELECT line, column_name, error_type, error_message FROM {rejects} ORDER BY line, column_idx "
            f"LIMIT {BAD_ROWS_KEPT}"
        ).fetchall()
    ]
    if fractions:
        # Rare (declared integers holding decimals): DuckDB gives no line here, so these are named by record.
        ordinals = con.execute(
            f"SELECT ordinal FROM (SELECT row_number() OVER () AS ordinal, * FROM {source}) WHERE {fractions} "
            "ORDER BY ordinal"
        ).fetchall()
        bad_total += len(ordinals)
        bad_rows += [
            {
                "line": ordinal,
                "unit": "record",
                "column": ", ".join(c.name for c in columns if c.needs_integer_check),
                "kind": "CAST",
                "reason": _("值不是整数"),
                "detail": "",
            }
            for (ordinal,) in ordinals[:BAD_ROWS_KEPT]
        ]
    rows = con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(parquet))})").fetchone()[0]
    return Built(parquet, columns, rows, bad_total, bad_rows, keys)


def _one_row(con, sql: str) -> dict:
    cursor = con.execute(sql)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _load(version: DataVersion, prepared: sources.Prepared, built: Built, progress: _Progress) -> None:
    report = {"bad_rows": built.bad_rows, "bad_row_count": built.bad_total, "row_count": built.rows}
    if built.bad_total and version.bad_rows_policy == BadRowPolicy.REJECT:
        error = IngestError(
            _("有 %(n)s 行数据有误，按“有错误行则整个文件不导入”的设置未导入。请修改后重新上传，或选择隔离错误行。")
            % {"n": built.bad_total},
            code="bad_rows",
        )
        error.extra = report  # type: ignore[attr-defined]
        raise error
    if built.rows == 0:
        raise IngestError(_("文件中没有可导入的数据行。"), code="no_rows")
    progress.set("finishing")
    # Privacy (issue 6): mask what the dataset's plan and classification rules require, then scan the result for
    # the publication gate, before the file is stored: a stored version never holds what the plan masks.
    from citydata.privacy import services as privacy

    privacy.before_store(version, built)
    key = f"versions/{version.dataset_id}/v{version.number}-{prepared.sha256[:12]}-{uuid.uuid4().hex[:8]}.parquet"
    size = get_storage().put(built.parquet, key)
    with transaction.atomic():
        DataVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.READY,
            columns=[c.as_dict() for c in built.columns],
            point=built.point,
            data_key=key,
            data_size=size,
            progress=100,
            phase="done",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            **report,
        )
        _declare_new_fields(version, built.columns)
        version.refresh_from_db()
        audit.record(
            version.created_by,
            "data_version.ready",
            version,
            changes={"rows": built.rows, "bad_rows": built.bad_total, "sha256": prepared.sha256},
        )
    if not settings.KEEP_RAW_UPLOADS:
        get_storage().delete(version.source_key)
        DataVersion.objects.filter(pk=version.pk).update(source_key="")
    elif not version.source_key.endswith(".sealed"):
        # Kept, but never in the clear: the raw file may hold what the published version masks.
        from citydata.datastore import rawvault

        DataVersion.objects.filter(pk=version.pk).update(source_key=rawvault.seal(version.source_key))


def _bad_row(line: int, column: str | None, kind: str, message: str, prepared: sources.Prepared) -> dict:
    """One rejected row for the report: where and why, without echoing long cell contents."""
    reasons = {
        "CAST": _("值与字段类型不符"),
        "MISSING COLUMNS": _("列数不足"),
        "TOO MANY COLUMNS": _("列数过多"),
        "UNQUOTED VALUE": _("引号使用有误"),
        "LINE SIZE OVER MAXIMUM": _("行过长"),
        "INVALID UNICODE": _("含无法识别的字符"),
    }
    where = int(line) - 1 if prepared.record_numbers else int(line)
    return {
        "line": where,
        "unit": "record" if prepared.record_numbers else "line",
        "column": column or "",
        "kind": kind,
        "reason": str(reasons.get(kind, kind)),
        "detail": message[:160],
    }


def _declare_new_fields(version: DataVersion, columns: list[infer.Column]) -> None:
    """Columns the dataset did not declare are added to its field list, titled by their header, so the field
    table matches the data; providers then describe them (the standard asks for it)."""
    existing = set(DatasetField.objects.filter(dataset=version.dataset).values_list("name", flat=True))
    position = len(existing)
    new = []
    for column in columns:
        if column.name not in existing and len(column.name) <= 64:
            new.append(
                DatasetField(
                    dataset=version.dataset,
                    position=position,
                    name=column.name,
                    title=(column.title or column.name)[:60],
                    type=column.type,
                )
            )
            position += 1
    DatasetField.objects.bulk_create(new)
