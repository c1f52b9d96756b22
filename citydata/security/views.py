"""Auditor pages: browse and filter the audit trail and the data-API call logs, export either as CSV."""

from __future__ import annotations

import csv
import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from citydata.accounts.authz import authorize
from citydata.errors import DomainError
from citydata.paging import paginate_desc
from citydata.security import audit, queries


@login_required
def audit_view(request):
    authorize(request.user, "audit.view")
    flt = queries.AuditFilter.from_params(request.GET)
    page = paginate_desc(
        queries.audit_events(flt), key="seq", cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 50
    )
    with_cursor = {**flt.as_query(), "cursor": page.next_cursor} if page.next_cursor else None
    audit.record(request.user, "audit.view", note=json.dumps(flt.as_query(), ensure_ascii=False))
    return render(
        request,
        "security/audit.html",
        {
            "filter": flt,
            "events": page.items,
            "next_query": with_cursor,
            "actions": sorted(queries.action_names()),
        },
    )


def _cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


def _csv_download(name: str, columns, records) -> StreamingHttpResponse:
    """Stream dict records as CSV (UTF-8 with BOM so Excel opens Chinese correctly; formula cells defused)."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        yield writer.writerow(columns)
        for values in records:
            yield writer.writerow([_cell(values[c]) for c in columns])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@login_required
def audit_export_view(request):
    """Stream the filtered trail as CSV (UTF-8 with BOM so Excel opens Chinese correctly)."""
    authorize(request.user, "audit.export")
    flt = queries.AuditFilter.from_params(request.GET)
    audit.record(request.user, "audit.export", note=json.dumps(flt.as_query(), ensure_ascii=False))

    def rows():
        for event in queries.audit_events(flt).order_by("seq").iterator(chunk_size=2000):
            values = queries.event_out(event)
            values["created_at"] = timezone.localtime(values["created_at"]).isoformat()
            values["changes"] = json.dumps(values["changes"], ensure_ascii=False)
            yield values

    return _csv_download("audit", queries.CSV_COLUMNS, rows())


def _query(base: dict[str, str], **extra: str) -> str:
    return "?" + urlencode({**base, **extra})


def _caller_link(base: dict[str, str], caller: queries.CallerUsage) -> str:
    """The page narrowed to one caller: by key prefix, by e-mail, or by address (masked mobiles get no link)."""
    if caller.kind == "key":
        return _query(base, caller=caller.key_prefix)
    if caller.kind == "user":
        return _query(base, caller=caller.user_email) if caller.user_email else ""
    return _query(base, ip=caller.ip) if caller.ip else ""


def _day_bars(days: list[queries.DayCount]) -> list[dict]:
    """Geometry of the calls-per-day bars (drawn as inline SVG, so the chart needs no script)."""
    peak = max((d.calls for d in days), default=0) or 1
    bars = []
    for i, day in enumerate(days):
        height = round(day.calls * 120 / peak)
        bars.append({"day": day, "x": 10 + i * 24, "y": 140 - height, "height": height, "label": i % 5 == 0})
    return bars


@login_required
def api_calls_view(request):
    """Operators' view of the data-API call logs (R8.2): filters, a summary, top datasets and callers, the calls."""
    authorize(request.user, "apicall.view")
    try:
        flt = queries.ApiCallFilter.from_params(request.GET)
        page = paginate_desc(
            queries.api_calls_listed(flt),
            key="id",
            cursor=request.GET.get("cursor"),
            limit=request.GET.get("limit") or 50,
        )
    except DomainError as exc:
        # The form comes back as typed, with the reason, so the operator can correct it.
        context = {"error": exc.message, "error_field": (exc.details or {}).get("field", ""), "values": request.GET}
        return render(request, "security/api_calls.html", context, status=400)
    audit.record(request.user, "apicall.view", note=json.dumps(flt.as_query(), ensure_ascii=False))
    base = flt.as_query()
    days = queries.api_calls_per_day(flt)
    context = {
        "values": base,
        "summary": queries.api_call_summary(flt),
        "days": days,
        "last_day": days[-1].day if days else None,
        "bars": _day_bars(days),
        "chart_width": 20 + 24 * max(len(days), 1),
        "datasets": [(d, _query(base, dataset=d.dataset)) for d in queries.top_datasets(flt)],
        "callers": [(c, _caller_link(base, c)) for c in queries.top_callers(flt)],
        "calls": page.items,
        "next_url": _query(base, cursor=page.next_cursor, limit=str(page.limit)) if page.next_cursor else "",
        "first_url": _query(base, limit=str(page.limit)) if request.GET.get("cursor") else "",
        "export_url": reverse("security:api_calls_export") + _query(base),
        "csv_cap": queries.CALL_CSV_MAX_ROWS,
        "percentile_cap": queries.PERCENTILE_MAX_ROWS,
    }
    return render(request, "security/api_calls.html", context)


@login_required
def api_calls_export_view(request):
    """Stream the newest filtered calls as CSV (UTF-8 with BOM), at most CALL_CSV_MAX_ROWS of them."""
    authorize(request.user, "apicall.view")
    flt = queries.ApiCallFilter.from_params(request.GET)
    audit.record(request.user, "apicall.export", note=json.dumps(flt.as_query(), ensure_ascii=False))

    def rows():
        for call in queries.api_calls_for_export(flt).iterator(chunk_size=2000):
            values = queries.api_call_out(call)
            values["params"] = json.dumps(values["params"], ensure_ascii=False)
            yield values

    return _csv_download("api-calls", queries.CALL_CSV_COLUMNS, rows())
