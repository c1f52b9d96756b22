"""Reads of the audit trail, with one filter definition shared by the auditor's page, the CSV export and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from citydata.errors import DomainError
from citydata.security.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    ip: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_params(cls, params) -> AuditFilter:
        def day(name):
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            try:
                value = parse_date(raw)
            except ValueError:
                value = None
            if value is None:
                raise DomainError(_("日期格式应为 YYYY-MM-DD。"), code="invalid_date", details={"field": name})
            return value

        return cls(
            actor=(params.get("actor") or "").strip()[:100],
            action=(params.get("action") or "").strip()[:80],
            object_type=(params.get("object_type") or "").strip()[:80],
            ip=(params.get("ip") or "").strip()[:45],
            date_from=day("date_from"),
            date_to=day("date_to"),
        )

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor:
            queryset = queryset.filter(actor_label__icontains=self.actor)
        if self.action:
            queryset = queryset.filter(action__startswith=self.action)
        if self.object_type:
            queryset = queryset.filter(object_type=self.object_type)
        if self.ip:
            queryset = queryset.filter(ip=self.ip)
        tz = timezone.get_current_timezone()
        if self.date_from:
            queryset = queryset.filter(created_at__gte=dt.datetime.combine(self.date_from, dt.time.min, tz))
        if self.date_to:
            queryset = queryset.filter(
                created_at__lt=dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tz)
            )
        return queryset

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v}


def audit_events(flt: AuditFilter) -> QuerySet[AuditEvent]:
    return flt.apply(AuditEvent.objects.all())


def action_names() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:200])


CSV_COLUMNS = (
    "seq",
    "created_at",
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
    "hash",
)


def event_out(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in CSV_COLUMNS}
