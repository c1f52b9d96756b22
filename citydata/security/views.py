"""Auditor pages: browse and filter the audit trail, export it as CSV."""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from citydata.accounts.authz import authorize
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


@login_required
def audit_export_view(request):
    """Stream the filtered trail as CSV (UTF-8 with BOM so Excel opens Chinese correctly)."""
    authorize(request.user, "audit.export")
    flt = queries.AuditFilter.from_params(request.GET)
    audit.record(request.user, "audit.export", note=json.dumps(flt.as_query(), ensure_ascii=False))
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff"
        yield writer.writerow(queries.CSV_COLUMNS)
        for event in queries.audit_events(flt).order_by("seq").iterator(chunk_size=2000):
            values = queries.event_out(event)
            values["created_at"] = timezone.localtime(values["created_at"]).isoformat()
            values["changes"] = json.dumps(values["changes"], ensure_ascii=False)
            yield writer.writerow([_cell(values[c]) for c in queries.CSV_COLUMNS])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
