"""Record and verify the audit trail. Every service write calls `record()` inside its transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from citydata.security import context
from citydata.security.models import GENESIS_HASH, AuditEvent, AuditHead

HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "note",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
)


def _plain(value: Any) -> Any:
    """A JSON-native copy, so the hash of what we write equals the hash of what we read back."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _canonical(event: AuditEvent) -> bytes:
    data = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        data[name] = value
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as {field: {"before": …, "after": …}}."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changed[key] = {"before": before.get(key), "after": after.get(key)}
    return _plain(changed)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _label_of(user) -> str:
    """The login (unique, not editable by the user) first, then the display name."""
    name = user.display_name or ""
    return (f"{user.login_label} {name}".strip() if name else user.login_label)[:254]


def _role_of(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system" if actor is None else "visitor"
    from citydata.accounts.authz import primary_role

    return primary_role(actor)


@transaction.atomic
def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Append one event to the chain. Call it inside the service's transaction."""
    ctx = context.current()
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        seq=head.seq + 1,
        created_at=timezone.now(),
        actor=user,
        actor_label=_label_of(user) if user else ("" if actor is None else "anonymous"),
        actor_role=_role_of(actor),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes=_plain(dict(changes or {})),
        note=note,
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        prev_hash=head.hash,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    AuditHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify(events: Iterator[AuditEvent] | None = None) -> tuple[int, Break | None]:
    """Walk the chain in order. Returns (events checked, first broken link or None)."""
    rows = events if events is not None else AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in rows:
        if event.seq != expected_seq:
            return checked, Break(expected_seq, f"第 #{expected_seq} 条记录缺失（下一条为 #{event.seq}）")
        if event.prev_hash != expected_prev:
            return checked, Break(event.seq, "其 prev_hash 与前一条记录的哈希不一致")
        if compute_hash(event) != event.hash:
            return checked, Break(event.seq, "内容与其哈希不一致（记录被改动过）")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != expected_prev):
        return checked, Break(checked + 1, f"链在 #{checked} 处结束，但链头记录为 #{head.seq}（末尾记录被删除）")
    return checked, None
