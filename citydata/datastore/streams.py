"""Real-time datasets (R1.3): providers push batches of keyed records; consumers read the latest state per
key, the history, or follow a live Server-Sent Events feed.

A push is idempotent by message id (a retried batch is recognised, never doubled) and upserts the latest
state of each key unless the stored state is newer. The feed reads history rows after the client's last
event id, so a reconnecting client (Last-Event-ID) misses nothing kept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.catalog.models import Dataset
from citydata.datastore.models import StreamMessage, StreamState
from citydata.errors import DomainError

logger = logging.getLogger("citydata.datastore")

MAX_BATCH = 1000


@dataclass
class PushReport:
    accepted: int = 0
    duplicates: int = 0
    state_updates: int = 0


def _record_error(index: int, message: str) -> DomainError:
    return DomainError(message, code="invalid_record", details={"record": index})


def _clean(index: int, record: Any, fields: set[str]) -> tuple[str, str, dict, dt.datetime | None]:
    if not isinstance(record, dict):
        raise _record_error(index, _("第 %(i)s 条记录应为对象。") % {"i": index + 1})
    message_id = str(record.get("id") or "").strip()
    key = str(record.get("key") or "").strip()
    data = record.get("data")
    if not message_id or len(message_id) > 80:
        raise _record_error(index, _("第 %(i)s 条记录缺少消息标识 id（最长 80 个字符）。") % {"i": index + 1})
    if not key or len(key) > 100:
        raise _record_error(index, _("第 %(i)s 条记录缺少主键 key（最长 100 个字符）。") % {"i": index + 1})
    if not isinstance(data, dict) or not data:
        raise _record_error(index, _("第 %(i)s 条记录缺少数据 data。") % {"i": index + 1})
    unknown = sorted(set(data) - fields) if fields else []
    if unknown:
        raise _record_error(
            index,
            _("第 %(i)s 条记录含有数据集未登记的字段：%(names)s。") % {"i": index + 1, "names": "、".join(unknown[:5])},
        )
    event_time = None
    if record.get("time"):
        event_time = parse_datetime(str(record["time"]))
        if event_time is None:
            raise _record_error(
                index, _("第 %(i)s 条记录的时间 time 无法识别，请用 ISO 8601 格式。") % {"i": index + 1}
            )
        if timezone.is_naive(event_time):
            event_time = timezone.make_aware(event_time)
    if len(json.dumps(data, ensure_ascii=False, default=str)) > 8000:
        raise _record_error(index, _("第 %(i)s 条记录过大（最多 8000 个字符）。") % {"i": index + 1})
    return message_id, key, data, event_time


def push(*, by: User | None, dataset: Dataset, records: list) -> PushReport:
    """Store a batch. Every record is checked first: one bad record refuses the batch, naming it."""
    if by is not None:
        authz.authorize(by, "catalog.edit", dataset.department)
    if not isinstance(records, list) or not records:
        raise DomainError(_("records 应为非空数组。"), code="invalid_batch")
    if len(records) > MAX_BATCH:
        raise DomainError(_("一批最多 %(n)s 条记录。") % {"n": MAX_BATCH}, code="batch_too_large")
    fields = set(dataset.fields.values_list("name", flat=True))
    cleaned = [_clean(i, r, fields) for i, r in enumerate(records)]
    report = PushReport()
    now = timezone.now()
    with transaction.atomic():
        known = set(
            StreamMessage.objects.filter(dataset=dataset, message_id__in=[c[0] for c in cleaned]).values_list(
                "message_id", flat=True
            )
        )
        for message_id, key, data, event_time in cleaned:
            if message_id in known:
                report.duplicates += 1
                continue
            try:
                with transaction.atomic():
                    message = StreamMessage.objects.create(
                        dataset=dataset,
                        message_id=message_id,
                        key=key,
                        payload=data,
                        event_time=event_time,
                        received_at=now,
                    )
            except IntegrityError:  # the same id pushed concurrently
                report.duplicates += 1
                continue
            known.add(message_id)
            report.accepted += 1
            report.state_updates += _upsert_state(dataset, key, data, event_time, message, now)
        if report.accepted:
            Dataset.objects.filter(pk=dataset.pk).update(last_data_update=now)
    return report


def _upsert_state(dataset, key, data, event_time, message, now) -> int:
    state = StreamState.objects.select_for_update().filter(dataset=dataset, key=key).first()
    if state is None:
        try:
            with transaction.atomic():
                StreamState.objects.create(
                    dataset=dataset, key=key, payload=data, event_time=event_time, message=message, updated_at=now
                )
            return 1
        except IntegrityError:
            state = StreamState.objects.select_for_update().get(dataset=dataset, key=key)
    if state.event_time and event_time and event_time < state.event_time:
        return 0  # an older record arriving late goes to history, not over the newer state
    StreamState.objects.filter(pk=state.pk).update(payload=data, event_time=event_time, message=message, updated_at=now)
    return 1


def _row(message_or_state, fields: list[str] | None = None) -> dict:
    """One record as served; read through a grant (`fields`), only the granted fields of its data."""
    data = message_or_state.payload
    if fields is not None and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k in fields}
    return {
        "key": message_or_state.key,
        "time": timezone.localtime(message_or_state.event_time).isoformat() if message_or_state.event_time else None,
        "data": data,
    }


def latest(dataset: Dataset, *, keys: list[str] | None = None, after: str = "", size: int = 100) -> list[dict]:
    states = StreamState.objects.filter(dataset=dataset).order_by("key")
    if keys:
        states = states.filter(key__in=keys[:500])
    if after:
        states = states.filter(key__gt=after)
    fields = getattr(dataset, "granted_fields", None)
    return [{**_row(s, fields), "updated_at": timezone.localtime(s.updated_at).isoformat()} for s in states[:size]]


def history(dataset: Dataset, *, since: int = 0, keys: list[str] | None = None, size: int = 100) -> list[dict]:
    messages = StreamMessage.objects.filter(dataset=dataset, id__gt=since).order_by("id")
    if keys:
        messages = messages.filter(key__in=keys[:500])
    fields = getattr(dataset, "granted_fields", None)
    return [{"seq": m.pk, "id": m.message_id, **_row(m, fields)} for m in messages[:size]]


def feed(dataset: Dataset, *, since: int, keys: list[str] | None = None, seconds: float | None = None,
         poll: float = 1.0) -> Iterator[str]:  # fmt: skip
    """Server-Sent Events: every new record after `since`, then a retry hint; the connection ends after
    `seconds` (the browser's EventSource reconnects with Last-Event-ID and continues)."""
    seconds = settings.SSE_MAX_SECONDS if seconds is None else seconds
    if since <= 0:  # a new subscriber starts from the moment it subscribed, not from the whole history
        since = StreamMessage.objects.filter(dataset=dataset).order_by("-id").values_list("id", flat=True).first() or 0
    return _events(dataset, since, keys, seconds, poll)


def _events(dataset: Dataset, since: int, keys: list[str] | None, seconds: float, poll: float) -> Iterator[str]:
    deadline = time.monotonic() + seconds
    last_beat = time.monotonic()
    yield "retry: 2000\n\n"
    while True:
        try:
            batch = history(dataset, since=since, keys=keys, size=500)
        except Exception:  # the database went away (restart, shutdown): end the feed; the client reconnects
            logger.warning("live feed of %s ended by a database error", dataset.slug, exc_info=True)
            return
        for item in batch:
            since = item["seq"]
            yield f"id: {item['seq']}\nevent: record\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
        if time.monotonic() >= deadline:
            return
        if not batch:
            if time.monotonic() - last_beat > 15:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            time.sleep(poll)


def prune(days: int | None = None) -> int:
    """History older than CITYDATA_STREAM_HISTORY_DAYS goes; the latest state of every key stays."""
    cutoff = timezone.now() - dt.timedelta(days=days or settings.STREAM_HISTORY_DAYS)
    removed = 0
    while True:
        ids = list(StreamMessage.objects.filter(received_at__lt=cutoff).values_list("id", flat=True)[:5000])
        if not ids:
            return removed
        StreamState.objects.filter(message_id__in=ids).update(message=None)
        removed += StreamMessage.objects.filter(id__in=ids).delete()[0]
