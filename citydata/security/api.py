"""Audit trail API for auditors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ninja import Router, Schema

from citydata.accounts.authz import authorize
from citydata.api_auth import AUTH
from citydata.paging import paginate_desc
from citydata.security import audit, queries

router = Router(tags=["audit"], auth=AUTH)


class AuditEventOut(Schema):
    seq: int
    created_at: dt.datetime
    actor_id: int | None
    actor_label: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    note: str
    ip: str | None
    user_agent: str
    request_id: str
    prev_hash: str
    hash: str


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


@router.get("/events", response=AuditPageOut, summary="Browse the audit trail (auditors only)")
def list_events(
    request,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    ip: str = "",
    date_from: str = "",
    date_to: str = "",
    cursor: str | None = None,
    limit: int = 50,
):
    authorize(request.user, "audit.view")
    flt = queries.AuditFilter.from_params(
        {
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "ip": ip,
            "date_from": date_from,
            "date_to": date_to,
        }
    )
    page = paginate_desc(queries.audit_events(flt), key="seq", cursor=cursor, limit=limit)
    audit.record(request.user, "audit.view", note=json.dumps(flt.as_query(), ensure_ascii=False))
    return {"items": [queries.event_out(e) for e in page.items], "next_cursor": page.next_cursor}
