"""Compaction of real-time history into Parquet (R1.3).

Pushed records stay in the database only while they are hot (CITYDATA_STREAM_COMPACT_MINUTES): that is
what the live feed and `/history?since=` read. A periodic job appends older records to the dataset's data
as a new version — the current version's rows, minus records older than CITYDATA_STREAM_HISTORY_DAYS, plus
the new ones — publishes it in one transaction and deletes the records it now holds. From then on the
history is queryable like any data: the records API's filters, sorts, group-by and exports, charts and SQL.

Each record becomes a row of its data fields plus `stream_key` and `stream_time` (event time, else
arrival time). Fields the current version already has keep its column types (values that do not fit become
empty, never an error); new fields take their declared types.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
import uuid
from pathlib import Path

import duckdb
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.catalog.models import Dataset, DatasetField
from citydata.datastore import infer, services
from citydata.datastore.infer import _q
from citydata.datastore.ingest import ROW_GROUP_SIZE, add_serving_copy
from citydata.datastore.models import DataVersion, StreamMessage, StreamState, VersionStatus
from citydata.datastore.storage import get_storage

logger = logging.getLogger("citydata.datastore")

KEY, TIME = "stream_key", "stream_time"
SOURCE_FORMAT = "stream"
DUCK_TYPES = {
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "string": "VARCHAR",
    "point": "VARCHAR",
}
MAX_RECORDS = 2_000_000  # per run; a backlog larger than this is taken over the next runs
KEEP_STREAM_VERSIONS = 2  # earlier compacted versions are discarded and their files cleaned up


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def compact_all(now: dt.datetime | None = None) -> dict[str, int]:
    """Compact every dataset with records older than the hot window; one failing dataset does not stop
    the others."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.STREAM_COMPACT_MINUTES)
    ids = StreamMessage.objects.filter(received_at__lt=cutoff).values_list("dataset_id", flat=True).distinct()
    report = {"datasets": 0, "records": 0, "failed": 0}
    for dataset in Dataset.objects.filter(pk__in=list(ids)):
        try:
            done = _compact(dataset, now)
        except Exception:
            logger.exception("compacting the real-time history of %s failed", dataset.slug)
            report["failed"] += 1
            continue
        if done is not None:
            report["datasets"] += 1
            report["records"] += done[1]
    return report


def compact(dataset: Dataset, *, now: dt.datetime | None = None) -> DataVersion | None:
    """Append the dataset's records older than the hot window to its data as a new, published version."""
    done = _compact(dataset, now or timezone.now())
    return done[0] if done else None


def _compact(dataset: Dataset, now: dt.datetime) -> tuple[DataVersion, int] | None:
    """The new version and how many records it took from the database, or None when none were cold."""
    cutoff = now - dt.timedelta(minutes=settings.STREAM_COMPACT_MINUTES)
    cold = StreamMessage.objects.filter(dataset=dataset, received_at__lt=cutoff).order_by("id")
    last_id = cold[:MAX_RECORDS].aggregate(last=Max("id"))["last"]
    if last_id is None:
        return None
    cold = cold.filter(id__lte=last_id)
    current = services.current_version(dataset)
    declared = dict(DatasetField.objects.filter(dataset=dataset).values_list("name", "type"))
    work = Path(settings.VAR_DIR) / "work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix="compact-") as folder:
        records, seen = _write_records(cold, Path(folder) / "records.jsonl")
        columns = _columns(current, declared, seen)
        parquet = Path(folder) / "data.parquet"
        rows = _build(current, columns, Path(folder) / "records.jsonl", parquet, now)
        return _publish(dataset, current, columns, parquet, rows, records, last_id, cutoff)


def _write_records(messages, path: Path) -> tuple[int, set[str]]:
    """The records as JSON lines of text values (DuckDB casts them), and the field names seen."""
    seen: set[str] = set()
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for key, payload, event_time, received_at in messages.values_list(
            "key", "payload", "event_time", "received_at"
        ).iterator(chunk_size=5000):
            when = timezone.localtime(event_time or received_at).replace(tzinfo=None)
            row = {name: None if value is None else _text(value) for name, value in payload.items()}
            row[KEY], row[TIME] = key, when.isoformat(sep=" ")
            seen.update(payload)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count, seen


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _columns(current: DataVersion | None, declared: dict[str, str], seen: set[str]) -> list[dict]:
    """The new version's columns: the current ones in their order and types, then new fields, then the
    stream's key and time."""
    columns = [dict(c) for c in current.columns] if current else []
    have = {c["name"] for c in columns}
    for name in sorted(seen - have, key=lambda n: list(declared).index(n) if n in declared else len(declared)):
        kind = declared.get(name, "string")
        columns.append({"name": name, "title": name, "type": kind if kind != "point" else "string", "header": name})
    if KEY not in have:
        columns.append({"name": KEY, "title": str(_("实时数据主键")), "type": "string", "header": KEY})
    if TIME not in have:
        columns.append({"name": TIME, "title": str(_("实时数据时间")), "type": "datetime", "header": TIME})
    return columns


def _build(current: DataVersion | None, columns: list[dict], records: Path, parquet: Path, now) -> int:
    con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
    try:
        text_columns = ", ".join(f"{_literal(c['name'])}: 'VARCHAR'" for c in columns)
        fresh = ", ".join(f"TRY_CAST({_q(c['name'])} AS {DUCK_TYPES[c['type']]}) AS {_q(c['name'])}" for c in columns)
        parts = [
            f"SELECT {fresh} FROM read_json({_literal(str(records))}, format='newline_delimited', "
            f"columns={{{text_columns}}})"
        ]
        if current is not None:
            old = _literal(str(get_storage().local_path(current.data_key)))
            have = {c["name"] for c in current.columns}
            kept = ", ".join(
                _q(c["name"]) if c["name"] in have else f"NULL::{DUCK_TYPES[c['type']]} AS {_q(c['name'])}"
                for c in columns
            )
            horizon = (timezone.localtime(now) - dt.timedelta(days=settings.STREAM_HISTORY_DAYS)).replace(tzinfo=None)
            keep = f" WHERE {_q(TIME)} IS NULL OR {_q(TIME)} >= {_literal(horizon.isoformat(sep=' '))}"
            parts.insert(0, f"SELECT {kept} FROM read_parquet({old})" + (keep if TIME in have else ""))
        con.execute(
            f"COPY ({' UNION ALL '.join(parts)}) TO {_literal(str(parquet))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
        (rows,) = con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(parquet))})").fetchall()[0]
        return int(rows)
    finally:
        con.close()


def _publish(
    dataset, current, columns, parquet: Path, rows: int, records: int, last_id: int, cutoff
) -> tuple[DataVersion, int] | None:
    number = (DataVersion.objects.filter(dataset=dataset).aggregate(n=Max("number"))["n"] or 0) + 1
    key = f"versions/{dataset.pk}/v{number}-stream-{uuid.uuid4().hex[:8]}.parquet"
    storage = get_storage()
    size = storage.put(parquet, key)
    point = (
        current.point
        if current and current.point
        else infer.point_columns(
            [infer.Column(c["name"], c.get("header", ""), c.get("title", ""), c["type"]) for c in columns]
        )
    )
    try:
        with transaction.atomic():
            Dataset.objects.select_for_update().get(pk=dataset.pk)  # one compaction of a dataset at a time
            if (
                StreamMessage.objects.filter(dataset=dataset, id__lte=last_id, received_at__lt=cutoff).count()
                != records
            ):
                raise _Raced()
            now = timezone.now()
            version = DataVersion.objects.create(
                dataset=dataset,
                number=number,
                status=VersionStatus.READY,
                source_name=str(_("实时数据归档（%(n)s 条新记录）")) % {"n": records},
                source_format=SOURCE_FORMAT,
                row_count=rows,
                columns=columns,
                point=point,
                data_key=key,
                data_size=size,
                progress=100,
                phase="done",
                created_at=now,
                finished_at=now,
            )
            version = services.version_publish(by=None, version=version)
            messages = StreamMessage.objects.filter(dataset=dataset, id__lte=last_id, received_at__lt=cutoff)
            StreamState.objects.filter(dataset=dataset, message__in=messages).update(message=None)
            messages.delete()
            for old in DataVersion.objects.filter(
                dataset=dataset, source_format=SOURCE_FORMAT, status=VersionStatus.READY, is_current=False
            ).order_by("-number")[KEEP_STREAM_VERSIONS - 1 :]:
                services.version_discard(by=None, version=old)
    except _Raced:
        storage.delete(key)  # another run took these records first; nothing changed
        return None
    except BaseException:
        storage.delete(key)
        raise
    transaction.on_commit(lambda: add_serving_copy(version.pk))
    return version, records


class _Raced(Exception):
    pass
