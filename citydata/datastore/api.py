"""Data API: the records of a dataset (filter, sort, page, export), and its versions (upload, status, publish)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Literal

import orjson
from django.conf import settings
from django.db.models import F
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from citydata.accounts import authz
from citydata.api_auth import AUTH, caller
from citydata.catalog.models import Dataset
from citydata.datastore import metering, queries, records, services, streams
from citydata.datastore import sql as sql_sandbox
from citydata.datastore.models import DataVersion
from citydata.datastore.storage import get_storage
from citydata.errors import DomainError
from citydata.security.middleware import client_ip

router = Router(tags=["data"])

EXPORT_FORMATS = ("json", "csv", "xlsx", "parquet", "geojson")
XLSX_MAX_ROWS = 1_048_575


class ColumnOut(Schema):
    name: str
    title: str
    type: str


class RecordsOut(Schema):
    dataset: str
    version: int
    columns: list[ColumnOut]
    items: list[dict]
    next: str | None
    total: int | None
    total_exact: bool


class BadRowOut(Schema):
    line: int
    unit: str
    column: str
    kind: str
    reason: str


class VersionOut(Schema):
    number: int
    status: str
    is_current: bool
    phase: str
    progress: int
    source_name: str
    source_format: str
    source_encoding: str
    source_sha256: str
    source_size: int
    row_count: int
    bad_row_count: int
    bad_rows: list[BadRowOut]
    columns: list[ColumnOut]
    cluster_keys: list[str]
    error: str
    error_code: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    published_at: dt.datetime | None


def _readable(request, slug: str, number: int | None, *, lean: bool = False) -> tuple[Dataset, DataVersion]:
    user = caller(request)
    api_key = getattr(request, "api_key", None)
    return queries.readable(user, slug, number, api_key=api_key, ip=client_ip(request), lean=lean)


def _version_number(request) -> int | None:
    raw = request.GET.get("_version")
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise DomainError(_("_version 应为版本号（正整数）。"), code="invalid_query", details={"parameter": "_version"})
    return int(raw)


def _json_value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or Infinity (1/0 in SQL, NaN in a source file)
    return value


@router.get(
    "/datasets/{slug}/records",
    response=RecordsOut,
    summary="Query a dataset's records: filters col__op=value, _sort, _fields, _size, _next, _q, _bbox, _near",
    openapi_extra={
        "parameters": [
            {"name": p, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
            for p, d in (
                ("_sort", "Columns to sort by, comma-separated; a leading - sorts descending"),
                ("_fields", "Columns to return, comma-separated"),
                ("_size", "Rows per page (default 100)"),
                ("_next", "The `next` token of the previous page"),
                ("_offset", "Rows to skip (at most 1000000; _next pages at constant cost)"),
                ("_q", "Text to find in any text column"),
                ("_bbox", "west,south,east,north on the point columns"),
                ("_near", "lng,lat,radius in metres"),
                ("_group_by", "Columns to group by; col:hour|day|month|year buckets a date or datetime column"),
                ("_agg", "With _group_by: count, count_distinct:col, sum:col, avg:col, min:col, max:col"),
                ("_version", "A version number; the current version by default"),
                ("_format", "json (default), csv, xlsx, parquet or geojson; files hold every matching row"),
                ("_bom", "With _format=csv: 1 adds a byte-order mark so Excel reads Chinese correctly"),
            )
        ]
    },
)
def list_records(request, slug: str):
    started = time.perf_counter()
    caller(request)
    meter = metering.caller_of(request)
    fmt = str(request.GET.get("_format") or "json")
    logged = {"dataset": slug, "version": None, "params": dict(request.GET.items()), "fmt": fmt, "started": started}
    try:
        metering.check(meter)
        dataset, version = _readable(request, slug, _version_number(request), lean=True)
        logged["version"], logged["grant"] = version.number, version.grant
        if fmt not in EXPORT_FORMATS:
            raise DomainError(
                _("不支持的格式“%(fmt)s”，可选：%(all)s。") % {"fmt": fmt[:20], "all": "、".join(EXPORT_FORMATS)},
                code="invalid_query",
                details={"parameter": "_format"},
            )
        path = str(get_storage().local_path(version.data_key))
        if fmt != "json":
            Dataset.objects.filter(pk=dataset.pk).update(download_count=F("download_count") + 1)
            return _export(request, dataset, version, path, fmt, lambda rows, size: metering.log(
                meter, rows=rows, size=size, status=200, **logged
            ))  # fmt: skip
        query = records.parse(request.GET, version.columns, version.point, max_size=settings.RECORDS_MAX_PAGE)
        page = records.run(
            query, path, version.columns, version.point, row_count=version.row_count, layout=records.layout_of(version)
        )
    except DomainError as exc:
        metering.log(meter, rows=0, size=0, status=exc.status, **logged)
        raise
    # orjson writes dates as ISO 8601 and NaN/Infinity (1/0 in SQL, NaN in a source file) as null, in C
    body = orjson.dumps(
        {
            "dataset": dataset.slug,
            "version": version.number,
            "columns": records.result_columns(query, version.columns, page.names),
            "items": [dict(zip(page.names, row, strict=True)) for row in _marked(version, page)],
            "next": page.next_cursor,
            "total": page.total,
            "total_exact": page.total_exact,
        },
        default=str,
    )
    metering.log(meter, rows=len(page.rows), size=len(body), status=200, **logged)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _marked(version: DataVersion, page) -> list:
    """A page read through a grant carries the recipient's watermark, as its file exports do."""
    if version.grant is None:
        return page.rows
    from citydata.privacy import watermark

    types = {c["name"]: c.get("type") for c in version.columns}
    marker = watermark.Watermarker(version.grant.watermark_key(), [types.get(n) for n in page.names])
    return list(marker.rows(page.rows))


def _export(request, dataset: Dataset, version: DataVersion, path: str, fmt: str, done):
    """Every matching row (filters and sorts apply, paging does not), streamed or as a file."""
    params = request.GET.copy()
    for control in ("_size", "_next", "_offset"):
        params.pop(control, None)
    query = records.parse(params, version.columns, version.point, max_size=10**12)
    query.size = 10**12 - 1
    sql, args, names = records.compile_select(query, path, version.columns, version.point)
    filename = f"{dataset.slug}-v{version.number}"
    cursor = records.connection(parallel=True)
    if version.grant is not None:
        # Conditional data leaves marked for its recipient, so a leaked file can be traced (`citydata trace-leak`).
        from citydata.privacy import watermark

        watermark.bind(cursor, version.grant.watermark_key())
        types = {c["name"]: c.get("type", "") for c in version.columns}
        sql = watermark.select_marked(sql, [(n, types.get(n, "")) for n in names])
    try:
        result = cursor.execute(sql, args)
    except Exception as exc:
        cursor.close()
        raise records.QueryError(_("查询无法执行：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}) from None
    width = len(names)
    if fmt == "csv":
        bom = request.GET.get("_bom") in ("1", "true")
        chunks = _counted(_csv_chunks(result, names, width, bom, cursor), done)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    elif fmt == "geojson":
        if not version.point:
            cursor.close()
            raise DomainError(_("这个数据集没有坐标列，不能导出 GeoJSON。"), code="invalid_query")
        chunks = _geojson_chunks(result, names, width, version.point, cursor)
        response = StreamingHttpResponse(_counted(chunks, done), content_type="application/geo+json")
    elif fmt == "xlsx":
        response = _xlsx(result, names, width, cursor, done)
    else:
        response = _parquet(sql, args, names, cursor, done)
    extension = {"geojson": "geojson"}.get(fmt, fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response


def _counted(chunks, done):
    """Pass chunks through, then log how many rows (chunks count them) and bytes went out."""
    rows, size = 0, 0
    try:
        for chunk in chunks:
            if isinstance(chunk, tuple):
                rows += chunk[0]
                chunk = chunk[1]
            data = chunk.encode() if isinstance(chunk, str) else chunk
            size += len(data)
            yield data
    finally:
        done(rows, size)


def _csv_chunks(result, names, width, bom, cursor):
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        yield ("\ufeff" if bom else "") + buffer.getvalue()
        while rows := result.fetchmany(5000):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(row[:width] for row in rows)
            yield len(rows), buffer.getvalue()
    finally:
        cursor.close()


def _geojson_chunks(result, names, width, point, cursor):
    try:
        lng = names.index(point["lng"]) if point["lng"] in names else None
        lat = names.index(point["lat"]) if point["lat"] in names else None
        yield '{"type":"FeatureCollection","features":['
        first = True
        while rows := result.fetchmany(5000):
            parts = []
            for row in rows:
                properties = {n: _json_value(v) for n, v in zip(names, row[:width], strict=True)}
                geometry = None
                if lng is not None and lat is not None and row[lng] is not None and row[lat] is not None:
                    geometry = {"type": "Point", "coordinates": [row[lng], row[lat]]}
                feature = {"type": "Feature", "geometry": geometry, "properties": properties}
                parts.append(json.dumps(feature, ensure_ascii=False, default=str))
            yield len(rows), ("" if first else ",") + ",".join(parts)
            first = False
        yield "]}"
    finally:
        cursor.close()


def _xlsx(result, names, width, cursor, done):
    from openpyxl import Workbook

    try:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(names)
        count = 0
        while rows := result.fetchmany(5000):
            count += len(rows)
            if count > XLSX_MAX_ROWS:
                raise DomainError(
                    _("结果超过 Excel 的 1048575 行上限，请加筛选条件或改用 CSV / Parquet 格式。"),
                    code="too_many_rows",
                )
            for row in rows:
                sheet.append(list(row[:width]))
        temp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - FileResponse closes it
        book.save(temp.name)
    finally:
        cursor.close()
    done(count, Path(temp.name).stat().st_size)
    return FileResponse(
        _deleting(Path(temp.name)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _parquet(sql, args, names, cursor, done):
    temp = Path(tempfile.mkstemp(suffix=".parquet")[1])
    try:
        select = ", ".join(records._q(n) for n in names)
        written = cursor.execute(
            f"COPY (SELECT {select} FROM ({sql})) TO '{str(temp).replace(chr(39), chr(39) * 2)}' "
            "(FORMAT parquet, COMPRESSION zstd)",
            args,
        ).fetchone()
    finally:
        cursor.close()
    done(int(written[0]) if written else 0, temp.stat().st_size)
    return FileResponse(_deleting(temp), content_type="application/vnd.apache.parquet")


class _deleting(io.FileIO):
    """A file that removes itself once the response has been sent and closed."""

    def __init__(self, path: Path):
        super().__init__(path, "rb")
        self._path = path

    def close(self) -> None:
        super().close()
        self._path.unlink(missing_ok=True)


class SqlIn(Schema):
    sql: str = Field(max_length=10_000, description="One SELECT over the table `data`")
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="A version number; the current version by default"
    )


class SqlOut(Schema):
    dataset: str
    version: int
    columns: list[str]
    rows: list[list]
    truncated: bool = Field(description="True when more rows matched than CITYDATA_SQL_MAX_ROWS")


@router.post(
    "/datasets/{slug}/query",
    response=SqlOut,
    summary="Run one read-only SELECT over the dataset's table `data` (sandboxed, time- and row-limited)",
)
def run_sql(request, slug: str, body: SqlIn):
    started = time.perf_counter()
    caller(request)
    meter = metering.caller_of(request)
    logged = {"dataset": slug, "version": body.version, "params": {"sql": body.sql[:200]}, "fmt": "sql"}
    try:
        metering.check(meter)
        dataset, version = _readable(request, slug, body.version)
        logged["version"], logged["grant"] = version.number, version.grant
        path = str(get_storage().local_path(version.data_key))
        granted = version.column_names if version.grant is not None else None
        result = sql_sandbox.run_for(request.user, slug, body.sql, path, columns=granted)
    except DomainError as exc:
        metering.log(meter, rows=0, size=0, status=exc.status, started=started, **logged)
        raise
    out = {
        "dataset": dataset.slug,
        "version": version.number,
        "columns": result.columns,
        "rows": [[_json_value(v) for v in row] for row in result.rows],
        "truncated": result.truncated,
    }
    body_bytes = json.dumps(out, ensure_ascii=False, default=str).encode()
    metering.log(meter, rows=len(result.rows), size=len(body_bytes), status=200, started=started, **logged)
    return HttpResponse(body_bytes, content_type="application/json; charset=utf-8")


# --- real-time streams -------------------------------------------------------------------------------


class StreamPushIn(Schema):
    records: list[dict] = Field(
        max_length=1000,
        description='Records {"id": message id (idempotency), "key": e.g. a plate, "time": ISO 8601, "data": {...}}',
    )


class StreamPushOut(Schema):
    accepted: int
    duplicates: int
    state_updates: int


class StreamItemsOut(Schema):
    items: list[dict]
    next: str | None


@router.post(
    "/streams/{slug}/records",
    response=StreamPushOut,
    auth=AUTH,
    summary="Push a batch of real-time records (department staff; idempotent by id, upsert by key)",
)
def push_stream(request, slug: str, body: StreamPushIn):
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug[:100])
    return streams.push(by=request.user, dataset=dataset, records=body.records).__dict__


def _stream_keys(request) -> list[str]:
    return [k for k in str(request.GET.get("key") or "").split(",") if k][:500]


def _metered(request, slug: str):
    caller(request)
    meter = metering.caller_of(request)
    metering.check(meter)
    dataset = queries.readable_dataset(
        request.user, slug, api_key=getattr(request, "api_key", None), ip=client_ip(request)
    )
    metering.log(meter, dataset=slug, version=None, params=dict(request.GET.items()), fmt="stream", rows=0, size=0,
                 status=200, started=time.perf_counter(), grant=dataset.grant)  # fmt: skip
    return dataset


@router.get("/streams/{slug}/latest", response=StreamItemsOut, summary="The latest record of every key")
def stream_latest(
    request, slug: str, key: str = "", after: str = Query("", alias="_after"), size: int = Query(100, alias="_size")
):
    dataset = _metered(request, slug)
    size = max(1, min(size, 1000))
    items = streams.latest(dataset, keys=_stream_keys(request), after=after[:100], size=size)
    return {"items": items, "next": items[-1]["key"] if len(items) == size else None}


@router.get(
    "/streams/{slug}/history",
    response=StreamItemsOut,
    summary="Recent pushed records after a sequence number",
    description="Records stay here for CITYDATA_STREAM_COMPACT_MINUTES; older history is compacted hourly into "
    "the dataset's data, queryable with GET /datasets/{slug}/records (columns stream_key and stream_time).",
)
def stream_history(request, slug: str, key: str = "", since: int = 0, size: int = Query(100, alias="_size")):
    dataset = _metered(request, slug)
    size = max(1, min(size, 1000))
    items = streams.history(dataset, since=min(max(0, since), 2**62), keys=_stream_keys(request), size=size)
    return {"items": items, "next": str(items[-1]["seq"]) if len(items) == size else None}


@router.get(
    "/streams/{slug}/events",
    summary="Live feed (Server-Sent Events): each new record as an `record` event; reconnect with Last-Event-ID",
)
def stream_events(request, slug: str, key: str = "", since: int = 0):
    dataset = _metered(request, slug)
    last = request.headers.get("Last-Event-ID", "")
    start = min(int(last) if last.isdigit() and len(last) < 19 else max(0, since), 2**62)
    response = StreamingHttpResponse(
        streams.feed(dataset, since=start, keys=_stream_keys(request)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tell a fronting nginx not to buffer the feed
    return response


# --- versions ----------------------------------------------------------------------------------------


def _version_out(version: DataVersion) -> dict:
    data = {f: getattr(version, f) for f in VersionOut.model_fields if f not in ("columns", "bad_rows")}
    data["columns"] = version.columns
    data["bad_rows"] = version.bad_rows[:200]
    return data


def _dataset_for_staff(request, slug: str) -> Dataset:
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug[:100])
    authz.authorize(request.user, "catalog.view_drafts", dataset.department)
    return dataset


@router.post(
    "/datasets/{slug}/versions",
    response={202: VersionOut},
    auth=AUTH,
    summary="Upload a file as the dataset's next data version; ingest runs in the background",
)
def upload_version(
    request,
    slug: str,
    file: File[UploadedFile],
    bad_rows: Form[Literal["reject", "quarantine"]] = "reject",
):
    dataset = _dataset_for_staff(request, slug)
    version = services.version_upload(
        by=request.user, dataset=dataset, stream=file, filename=file.name or "upload", bad_rows_policy=bad_rows
    )
    return Status(202, _version_out(version))


@router.get("/datasets/{slug}/versions", response=list[VersionOut], auth=AUTH, summary="The dataset's data versions")
def list_versions(request, slug: str):
    dataset = _dataset_for_staff(request, slug)
    return [_version_out(v) for v in DataVersion.objects.filter(dataset=dataset).order_by("-number")[:100]]


@router.get("/datasets/{slug}/versions/{number}", response=VersionOut, auth=AUTH, summary="One version's progress")
def get_version(request, slug: str, number: int):
    dataset = _dataset_for_staff(request, slug)
    return _version_out(get_object_or_404(DataVersion, dataset=dataset, number=number))


@router.post(
    "/datasets/{slug}/versions/{number}/publish", response=VersionOut, auth=AUTH, summary="Make a version current"
)
def publish_version(request, slug: str, number: int):
    dataset = _dataset_for_staff(request, slug)
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    return _version_out(services.version_publish(by=request.user, version=version))
