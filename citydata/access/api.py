"""The conditional-opening part of /api/v1: the caller's applications and grants, a grant's usage, and
incremental sync between data versions for routine feeds (常态化供数, R7.3)."""

from __future__ import annotations

import datetime as dt
import json
import time

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from citydata.access import rules  # noqa: F401 - registers the permission rules
from citydata.access.models import Application, Grant
from citydata.accounts import authz
from citydata.api_auth import AUTH, caller
from citydata.errors import DomainError, NotFound
from citydata.paging import paginate_desc

router = Router(tags=["access"])


class ItemOut(Schema):
    dataset: str
    title: str
    fields: list[str]


class EventOut(Schema):
    at: dt.datetime
    from_state: str
    to_state: str
    note: str


class ApplicationOut(Schema):
    number: str
    state: str
    state_label: str
    department: str
    items: list[ItemOut]
    purpose: str
    period_start: dt.date
    period_end: dt.date
    submitted_at: dt.datetime | None
    accept_due: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision_reason: str
    missing: str
    history: list[EventOut]


class ApplicationsOut(Schema):
    items: list[ApplicationOut]
    next: str | None


class UsageDayOut(Schema):
    day: dt.date
    calls: int
    rows: int
    bytes: int


class GrantOut(Schema):
    id: int
    application: str | None
    status: str
    live: bool = Field(description="Usable now: active and within its period")
    standing: bool
    department: str
    items: list[ItemOut]
    starts_on: dt.date
    ends_on: dt.date
    rate_per_minute: int
    daily_rows: int
    ip_allowlist: list[str]
    next_report_due: dt.date
    key_prefix: str
    usage: list[UsageDayOut]


def _items(items) -> list[dict]:
    return [{"dataset": i.dataset.slug, "title": i.dataset.title, "fields": i.fields} for i in items]


def _application_out(application: Application) -> dict:
    return {
        **{f: getattr(application, f) for f in ApplicationOut.model_fields if hasattr(application, f)},
        "state_label": application.get_state_display(),
        "department": application.department.name,
        "items": _items(application.items.select_related("dataset")),
        "history": list(application.events.values("at", "from_state", "to_state", "note")),
    }


def _grant_out(grant: Grant) -> dict:
    return {
        **{f: getattr(grant, f) for f in GrantOut.model_fields if hasattr(grant, f) and f != "application"},
        "application": grant.application.number if grant.application_id else None,
        "department": grant.department.name,
        "items": _items(grant.items.select_related("dataset")),
        "key_prefix": grant.api_key.prefix,
        "live": grant.is_live(),
        "usage": list(grant.usage.values("day", "calls", "rows", "bytes")[:90]),
    }


@router.get("/applications", response=ApplicationsOut, auth=AUTH, summary="Your conditional-data applications")
def my_applications(request, cursor: str | None = None, limit: int = 20):
    mine = Application.objects.filter(applicant=request.user).select_related("department")
    page = paginate_desc(mine, key="id", cursor=cursor, limit=limit)
    return {"items": [_application_out(a) for a in page.items], "next": page.next_cursor}


@router.get("/applications/{number}", response=ApplicationOut, auth=AUTH, summary="One application with its history")
def application_detail(request, number: str):
    application = Application.objects.select_related("department").filter(number=number[:20]).first()
    if application is None or not authz.can(request.user, "application.view", application):
        raise NotFound(_("申请不存在，或您无权查看。"))
    return _application_out(application)


@router.get("/grants", response=list[GrantOut], auth=AUTH, summary="Your grants: scope, limits and recent usage")
def my_grants(request):
    grants = Grant.objects.filter(holder=request.user).select_related("department", "api_key", "application")
    return [_grant_out(g) for g in grants[:100]]


@router.get("/grants/{grant_id}", response=GrantOut, auth=AUTH, summary="One grant (holder, department, operator)")
def grant_detail(request, grant_id: int):
    grant = Grant.objects.select_related("department", "api_key", "application").filter(pk=grant_id).first()
    if grant is None or not authz.can(request.user, "grant.view", grant):
        raise NotFound(_("授权不存在，或您无权查看。"))
    return _grant_out(grant)


class ChangesOut(Schema):
    dataset: str
    since: int
    version: int
    columns: list[str]
    added: list[dict]
    removed: list[dict]
    next: str | None = Field(None, description="Pass as _offset to get the rest of this change set")


@router.get(
    "/datasets/{slug}/changes",
    response=ChangesOut,
    summary="Rows added and removed between data version `since` and the current one (incremental sync)",
    description="A bank's routine feed keeps the `version` of its last sync and asks for the changes since it: "
    "a changed row appears as removed (old values) and added (new values). Conditional data needs the grant's key; "
    "only the granted fields are compared and returned.",
)
def changes(
    request,
    slug: str,
    since: int = Query(..., alias="since", ge=1),
    size: int = Query(500, alias="_size"),
    offset: int = Query(0, alias="_offset", ge=0, le=10_000_000),
):
    from citydata.datastore import metering, queries, records
    from citydata.datastore.models import DataVersion, VersionStatus
    from citydata.datastore.storage import get_storage
    from citydata.security.middleware import client_ip

    started = time.perf_counter()
    user = caller(request)
    meter = metering.caller_of(request)
    metering.check(meter)
    dataset, version = queries.readable(
        user, slug, None, api_key=getattr(request, "api_key", None), ip=client_ip(request)
    )
    size = max(1, min(size, settings.RECORDS_MAX_PAGE))
    old = DataVersion.objects.filter(dataset=dataset, number=since, status=VersionStatus.READY).first()
    if old is None or since > version.number:
        raise DomainError(
            _("没有版本 %(n)s，请从当前版本 %(v)s 全量同步。") % {"n": since, "v": version.number},
            code="invalid_query",
            details={"parameter": "since", "version": version.number},
        )
    names = [c["name"] for c in version.columns]
    if not set(names) <= {c["name"] for c in old.columns}:
        raise DomainError(
            _("版本 %(n)s 之后数据结构有变化，请从当前版本 %(v)s 全量同步。") % {"n": since, "v": version.number},
            code="schema_changed",
            details={"parameter": "since", "version": version.number},
        )
    storage = get_storage()
    new_path, old_path = (str(storage.local_path(v.data_key)).replace("'", "''") for v in (version, old))
    cols = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    order = ", ".join(str(i + 1) for i in range(len(names)))
    cursor = records.connection(parallel=True)
    try:
        out = {}
        for label, a, b in (("added", new_path, old_path), ("removed", old_path, new_path)):
            sql = (
                f"SELECT {cols} FROM read_parquet('{a}') EXCEPT ALL SELECT {cols} FROM read_parquet('{b}') "  # noqa: S608
                f"ORDER BY {order} LIMIT {size + 1} OFFSET {offset}"
            )
            out[label] = cursor.execute(sql).fetchall()
    finally:
        cursor.close()
    more = any(len(rows) > size for rows in out.values())
    body = {
        "dataset": dataset.slug,
        "since": since,
        "version": version.number,
        "columns": names,
        "added": [dict(zip(names, row, strict=True)) for row in out["added"][:size]],
        "removed": [dict(zip(names, row, strict=True)) for row in out["removed"][:size]],
        "next": str(offset + size) if more else None,
    }
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    rows = len(body["added"]) + len(body["removed"])
    metering.log(meter, dataset=slug, version=version.number, params=dict(request.GET.items()), fmt="changes",
                 rows=rows, size=len(data), status=200, started=started, grant=version.grant)  # fmt: skip
    return HttpResponse(data, content_type="application/json; charset=utf-8")


@router.get("/grants/{grant_id}/usage", response=list[UsageDayOut], auth=AUTH, summary="A grant's usage per day")
def grant_usage(request, grant_id: int, days: int = 90):
    grant = get_object_or_404(Grant, pk=grant_id)
    if not authz.can(request.user, "grant.view", grant):
        raise NotFound(_("授权不存在，或您无权查看。"))
    return list(grant.usage.values("day", "calls", "rows", "bytes")[: max(1, min(days, 400))])
